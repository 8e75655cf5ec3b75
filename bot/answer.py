"""What the bot returns: an `Answer` with numbered `Citation`s (the `ask --json` contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Answer", "Citation"]


@dataclass(frozen=True)
class Citation:
    """A passage the answer used, numbered as its inline marker `[n]`."""

    marker: int
    """The `n` of `[n]` in the answer text."""
    doc: str
    """Document id (file name in the corpus)."""
    title: str
    """Document title."""
    section: str
    """Heading path of the passage."""
    text: str
    """The cited passage, verbatim."""
    start: int | None
    """Start of the supporting span inside `text` (None when the passage is only listed)."""
    end: int | None
    """End of the supporting span inside `text`."""
    score: float
    """Retrieval score of the passage (fused rank score, higher is better)."""
    chunk_id: str = ""
    """Id of the chunk in the index."""

    def to_dict(self) -> dict[str, Any]:
        return {"marker": self.marker, "doc": self.doc, "title": self.title,
                "section": self.section, "text": self.text, "start": self.start,
                "end": self.end, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Answer:
    """The bot's reply to one question."""

    question: str
    """The question as asked."""
    answer: str
    """Answer text with inline markers `[n]` (or the refusal message)."""
    abstained: bool
    """True when the guides do not cover the question and the bot says so."""
    citations: tuple[Citation, ...]
    """Passages used (for a refusal: the closest passages, without spans)."""
    retrieval_query: str
    """The standalone query used for retrieval (differs from `question` for follow-ups)."""
    latency_ms: float = 0.0
    """Time to answer, retrieval included."""
    backend: str = "extractive"
    """Which answerer produced the text."""
    suggestions: tuple[str, ...] = ()
    """For refusals: questions on the closest topics the guides do cover."""
    answerability: float | None = None
    """Score the refusal decision used (higher = better covered)."""
    notice: str | None = None
    """A visible note, e.g. that the LLM failed and the extractive answer is shown."""
    verified_sentences: int | None = None
    """Generated sentences kept because a passage supports them (LLM backends)."""
    removed_sentences: tuple[str, ...] = ()
    """Generated sentences removed as unsupported (LLM backends)."""
    ranked: tuple[str, ...] = field(default=(), compare=False)
    """Chunk ids of the retrieved passages, best first (for retrieval metrics)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "retrieval_query": self.retrieval_query,
            "latency_ms": round(self.latency_ms, 1),
            "backend": self.backend,
            "suggestions": list(self.suggestions),
            "answerability": None if self.answerability is None else round(self.answerability, 4),
            "notice": self.notice,
        }
        if self.verified_sentences is not None:
            d["verified_sentences"] = self.verified_sentences
            d["removed_sentences"] = list(self.removed_sentences)
        return d
