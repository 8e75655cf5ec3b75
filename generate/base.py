"""What every LLM backend shares: the `Backend` protocol, the context-overflow error and the
reading of a server's error messages.

A backend streams text deltas for a `Prompt`; `LLMGenerator` (generate/generator.py) runs it
on a worker thread under the timeout and verifies what it wrote.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any, Protocol

from bpo_kb import GenerationError

from .prompting import Prompt

__all__ = ["COMPLETION_STOPS", "Backend", "ContextOverflow", "message_text", "overflow_from"]

COMPLETION_STOPS = ["\n\n", "\nQuestion", "Question:", "\nPassages", "Passages:", "\n["]
"""Where a base model's completion ends (it would go on writing the next example)."""


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
    """Most passages in its prompt."""
    passage_chars: int
    """Longest passage in its prompt (trimmed around the extractive answer's spans)."""

    def count_tokens(self, text: str) -> int: ...

    def stream(self, prompt: Prompt, *, max_tokens: int, cancel: threading.Event
               ) -> Iterator[str]: ...


_CTX_LIMIT = re.compile(r"(?:context window of|maximum context length is|context length of|"
                        r"n_ctx[^0-9]{0,20}|context size[^0-9]{0,20})\s*(\d{3,7})", re.I)
_CTX_WORDS = re.compile(r"context (?:window|length)|maximum context|n_ctx|too many tokens|"
                        r"exceeds? the (?:model's )?context|prompt is too long", re.I)


def overflow_from(message: str) -> ContextOverflow | None:
    """A `ContextOverflow` (with the context size, when the message gives it) for an error
    message that says the prompt was too long, else None."""
    if not _CTX_WORDS.search(message):
        return None
    m = _CTX_LIMIT.search(message)
    return ContextOverflow(message, int(m.group(1)) if m else None)


def message_text(content: Any) -> str:
    """The text of a LangChain message content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")
