"""`fake:<mode>`: a deterministic stand-in for an LLM, shipped for tests and demos of the
generative path where no model can run (like pydantic-ai's `TestModel`).

    fake:echo     restates the first sentence of each of the top passages, cited [n]
    fake:invent   the same, plus a sentence no passage supports (the verifier removes it)
    fake:fail     raises GenerationError, as a dead server would
    fake:<text>   streams <text> itself (write `[n]` markers into it)

It streams word by word, like a real model, and counts a word as a token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from bpo_kb import GenerationError, Settings

from .prompting import Prompt

__all__ = ["INVENTED", "FakeBackend", "make"]

INVENTED = "Outsourcing was invented on the Moon in 1802 by a committee of penguins."
"""The sentence `fake:invent` adds: no passage can support it."""
_SENTENCE = re.compile(r"[^.!?\n]{12,}?[.!?](?=\s|$)")


class FakeBackend:
    """Streams a deterministic answer built from the prompt's passages."""

    completion = False
    context_tokens: int | None = 4096
    max_passages = 3
    passage_chars = 1200

    def __init__(self, spec: str, mode: str) -> None:
        self.spec = spec
        self.mode = mode or "echo"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def text(self, prompt: Prompt) -> str:
        """The whole answer this backend writes for `prompt`."""
        if self.mode not in ("echo", "invent", "fail"):
            return self.mode
        parts = []
        for p in prompt.passages:
            m = _SENTENCE.search(p.shown.replace("...", " "))
            if m:
                parts.append(f"{m.group(0).strip()} [{p.marker}]")
        if self.mode == "invent":
            parts.append(INVENTED)
        return " ".join(parts)

    def stream(self, prompt: Prompt, *, max_tokens: int, cancel: threading.Event
               ) -> Iterator[str]:
        if self.mode == "fail":
            raise GenerationError(f"{self.spec} fails on purpose (a stand-in for a dead server)")
        for i, word in enumerate(re.findall(r"\S+\s*", self.text(prompt))):
            if cancel.is_set() or i >= max_tokens:
                return
            yield word


def make(spec: str, kind: str, name: str, settings: Settings) -> FakeBackend:
    """The backend for `fake:<mode>`."""
    return FakeBackend(spec, name)
