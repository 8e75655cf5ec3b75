"""`llamacpp:<path.gguf>`: a GGUF model in this process, via llama-cpp-python."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bpo_kb import ConfigError, GenerationError, Settings

from .base import COMPLETION_STOPS, overflow_from
from .prompting import Prompt

__all__ = ["LLAMACPP_CTX", "PIP_LLAMACPP", "LlamaCppBackend", "make", "require_llama_cpp"]

LLAMACPP_CTX = 4096
"""Context the in-process backend allocates."""
PIP_LLAMACPP = "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'bpo-kb[llamacpp]'  (llama-cpp-python)"


def require_llama_cpp(spec: str, install: str = PIP_LLAMACPP) -> None:
    """A `ConfigError` naming the install command when llama-cpp-python is missing."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"BPO_KB_LLM={spec!r} needs llama-cpp-python; run "
                          f"`{install}`") from e


class LlamaCppBackend:
    """A GGUF model in this process, via llama-cpp-python (loaded once, one call at a time)."""

    def __init__(self, spec: str, path: Path, *, n_ctx: int = LLAMACPP_CTX,
                 max_passages: int = 6, passage_chars: int = 1200,
                 n_threads: int | None = None) -> None:
        try:
            import llama_cpp
        except ImportError as e:
            raise ConfigError(f"BPO_KB_LLM={spec!r} needs llama-cpp-python; run "
                              f"`{PIP_LLAMACPP}`") from e
        if not path.is_file():
            raise ConfigError(f"BPO_KB_LLM={spec!r}: model file {str(path)!r} does not exist; "
                              "give the path of a .gguf file, e.g. llamacpp:/models/"
                              "qwen2.5-1.5b-instruct-q4_k_m.gguf, or use gemma-270m")
        self.spec = spec
        self.max_passages = max_passages
        self.passage_chars = passage_chars
        self._lock = threading.Lock()
        try:
            self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                       n_threads_batch=n_threads, seed=0, verbose=False)
        except Exception as e:  # ValueError / RuntimeError from the loader
            raise ConfigError(f"BPO_KB_LLM={spec!r}: llama.cpp cannot load {str(path)!r} "
                              f"({type(e).__name__}: {e}); is it a GGUF model file?") from e
        self.context_tokens: int | None = int(self.llm.n_ctx())
        template = self.llm.metadata.get("tokenizer.chat_template", "")
        self.completion = not template
        """A model without a chat template (a base model) gets a completion prompt."""

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=True))

    def stream(self, prompt: Prompt, *, max_tokens: int, cancel: threading.Event
               ) -> Iterator[str]:
        if not self._lock.acquire(timeout=5.0):
            raise GenerationError(f"{self.spec} is still busy with an earlier question that "
                                  "timed out; try again in a moment")
        try:
            try:
                if self.completion:
                    it: Any = self.llm.create_completion(
                        prompt.completion, max_tokens=max_tokens, temperature=0.0,
                        stop=COMPLETION_STOPS, stream=True)
                else:
                    messages: Any = [{"role": r, "content": c} for r, c in prompt.messages()]
                    it = self.llm.create_chat_completion(
                        messages,
                        max_tokens=max_tokens, temperature=0.0, stream=True)
                for chunk in it:
                    if cancel.is_set():
                        break
                    choice = chunk["choices"][0]
                    text = choice.get("text") if self.completion else \
                        choice.get("delta", {}).get("content")
                    if text:
                        yield text
            except ValueError as e:  # "Requested tokens (n) exceed context window of m"
                overflow = overflow_from(str(e))
                if overflow is not None:
                    raise overflow from e
                raise GenerationError(f"{self.spec} failed: {e}") from e
            except GenerationError:
                raise
            except Exception as e:
                raise GenerationError(f"{self.spec} failed: {type(e).__name__}: {e}") from e
        finally:
            self._lock.release()


def make(spec: str, kind: str, name: str, settings: Settings) -> LlamaCppBackend:
    """The backend for `llamacpp:<path.gguf>`."""
    if not name:
        raise ConfigError(f"BPO_KB_LLM={spec!r} names no model file; write it as "
                          "llamacpp:/path/to/model.gguf")
    return LlamaCppBackend(spec, Path(name).expanduser())
