"""`openai:<model>` and `ollama:<model>`: a chat model behind an OpenAI-compatible API (OpenAI,
Ollama's /v1, vLLM, LM Studio, llama.cpp's server), via langchain-openai's ChatOpenAI."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from bpo_kb import ConfigError, GenerationError, Settings

from .base import message_text, overflow_from
from .prompting import Prompt

__all__ = ["LOCAL_CTX", "OLLAMA_URL", "OpenAIBackend", "make"]

OLLAMA_URL = "http://127.0.0.1:11434/v1"
LOCAL_CTX = 2048
"""Context assumed for a server at BPO_KB_OPENAI_BASE_URL until it reports its own (llama.cpp
and Ollama default to 2048-4096 tokens, and Ollama silently cuts longer prompts)."""
PIP_OPENAI = "pip install 'bpo-kb[openai]'  (langchain-openai)"


class OpenAIBackend:
    """A chat model behind an OpenAI-compatible API, via langchain-openai's ChatOpenAI."""

    completion = False
    max_passages = 6
    passage_chars = 1200

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
                    text = message_text(chunk.content)
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
                text = message_text(self.llm.invoke(messages).content)
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
        overflow = overflow_from(msg)
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


def make(spec: str, kind: str, name: str, settings: Settings) -> OpenAIBackend:
    """The backend for `openai:<model>` or `ollama:<model>`."""
    if not name:
        raise ConfigError(f"BPO_KB_LLM={spec!r} names no model; write it as {kind}:<model>, "
                          f"e.g. {kind}:{'gpt-4o-mini' if kind == 'openai' else 'llama3.2'}")
    base = settings.openai_base_url or (OLLAMA_URL if kind == "ollama" else None)
    return OpenAIBackend(spec, name, settings, base_url=base)
