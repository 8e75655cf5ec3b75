"""generate: LLM answers grounded in the retrieved passages, every sentence verified.

    BPO_KB_LLM               backend (one module each)
    extractive               no LLM: `make_generator` returns None
    openai:<model>           openai_api.py - any OpenAI-compatible server
    ollama:<model>           openai_api.py - the same, base URL defaulting to Ollama's
    llamacpp:<path.gguf>     llamacpp.py - a GGUF file in process
    gemma-270m               gemma.py - Gemma 3 270M from its PyPI package, in process
    qwen-1.5b                qwen.py - Qwen2.5-Coder-1.5B-Instruct from its 22 part packages
    fake:<mode>              fake.py - a deterministic stand-in for tests and demos

`BACKENDS` maps each kind to its factory; an unknown kind is a `ConfigError` listing the
known ones. `LLMGenerator` (generator.py) prompts (prompting.py), streams, and verifies each
sentence (verify.py, claims.py, evidence.py). Imports `bot` for its domain types; `bot` never
imports this package: entry points hand the generator to `Bot`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import Bot
from bpo_kb import ConfigError, Settings

from . import fake, gemma, llamacpp, openai_api, qwen
from .base import Backend, ContextOverflow
from .generator import LLMGenerator
from .verify import Verifier

__all__ = ["BACKENDS", "KNOWN_BACKENDS", "Backend", "ContextOverflow", "LLMGenerator",
           "Verifier", "backend_label", "make_backend", "make_generator", "open_bot"]

Factory = Callable[[str, str, str, Settings], Backend]
"""factory(spec, kind, name, settings) -> backend, for `BPO_KB_LLM=<kind>:<name>`."""

BACKENDS: dict[str, Factory] = {
    "openai": openai_api.make,
    "ollama": openai_api.make,
    "llamacpp": llamacpp.make,
    "gemma-270m": gemma.make,
    "qwen-1.5b": qwen.make,
    "fake": fake.make,
}
KNOWN_BACKENDS = ("extractive", "openai:<model>", "ollama:<model>", "llamacpp:<path.gguf>",
                  "gemma-270m", "qwen-1.5b", "fake:<mode>")
_LABELS = {"qwen-1.5b": f"{qwen.QWEN_LABEL} (local)", "gemma-270m": "Gemma 3 270M (local)"}


def make_backend(spec: str, settings: Settings) -> Backend:
    """The backend for a `BPO_KB_LLM` value other than `extractive`."""
    kind, _, name = spec.partition(":")
    kind, name = kind.strip().lower(), name.strip()
    factory = BACKENDS.get(kind)
    if factory is None:
        raise ConfigError(f"Unknown answer backend BPO_KB_LLM={spec!r}; known: "
                          + ", ".join(KNOWN_BACKENDS))
    return factory(spec, kind, name, settings)


def backend_label(spec: str) -> str:
    """What a person is told answers their questions, for a `BPO_KB_LLM` value: the model's
    name for the bundled models, else the value itself (no model is loaded)."""
    s = spec.strip()
    if s.lower() in ("", "extractive"):
        return "quotes from the guides (offline)"
    return _LABELS.get(s.lower(), s)


def make_generator(settings: Settings) -> LLMGenerator | None:
    """The generator named by `settings.llm`, or None for the extractive default."""
    from ingest import make_embedder

    spec = settings.llm.strip()
    if spec.lower() in ("", "extractive"):
        return None
    return LLMGenerator(make_backend(spec, settings), settings,
                        Verifier(make_embedder(settings.embedder)))


def open_bot(settings: Settings, **kwargs: Any) -> Bot:
    """`Bot.open` with the answer backend `settings.llm` names (built first, so a bad
    BPO_KB_LLM fails before any index is built)."""
    generator = make_generator(settings)
    return Bot.open(settings, generator=generator, **kwargs)
