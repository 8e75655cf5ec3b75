"""The answer text and its citations: each passage one marker `[n]`, its citation the span
the answer used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.units import Unit

from ..answer import Citation
from ..ranking import Candidate

__all__ = ["Composition", "Line", "ended", "render"]


@dataclass(frozen=True)
class Line:
    """One piece of an answer: what it shows and the unit(s) of one passage it quotes."""

    text: str
    """As shown (a sentence, a list item shortened to its label and first sentence...)."""
    source: Candidate
    """The unit it comes from (its passage gets the marker)."""
    spans: tuple[tuple[int, int], ...] = ()
    """Spans of the passage it quotes (default: the unit's span)."""
    bullet: bool = False
    """Shown as a list item."""


@dataclass(frozen=True)
class Composition:
    """An extractive answer before it is wrapped into an `Answer`."""

    text: str
    citations: tuple[Citation, ...]
    units: tuple[Unit, ...]
    disagreement: bool = False
    strategy: str = ""
    """Which strategy composed it (best, definition, list, comparison, figures)."""


DISAGREEMENT = "The guides give different figures on this."


def ended(text: str) -> str:
    """A line with an end mark: a full stop added unless it ends with one, also before a
    closing quote or bracket ('... in the work."' takes none)."""
    text = text.strip()
    if text and text.rstrip("\"'\u201d\u2019)]")[-1:] not in ".!?:":
        text += "."
    return text


def render(lines: Sequence[Line], *, disagreement: bool = False, strategy: str = ""
           ) -> Composition:
    """Number the passages in order of first use, end each line with its marker, put list
    lines on their own "- " lines, and give each citation the span its lines quote."""
    if not lines:
        return Composition("", (), ())
    markers: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    hits = {}
    parts: list[tuple[str, bool]] = []
    for ln in lines:
        u = ln.source.unit
        cid = u.chunk.chunk_id
        if cid not in markers:
            markers[cid] = len(markers) + 1
            hits[cid] = ln.source.hit
        spans.setdefault(cid, []).extend(ln.spans or ((u.start, u.end),))
        text = ended(ln.text)
        parts.append((f"{text} [{markers[cid]}]", ln.bullet))
    body = ""
    for i, (p, bullet) in enumerate(parts):
        if bullet:
            body += ("\n" if body else "") + f"- {p}"
        else:
            body += ("\n" if i and parts[i - 1][1] else " " if body else "") + p
    if disagreement:
        body = f"{DISAGREEMENT} {body}"
    citations = []
    for cid, n in markers.items():
        h = hits[cid]
        ss = spans[cid]
        citations.append(Citation(marker=n, doc=h.chunk.doc_id, title=h.chunk.title,
                                  section=h.chunk.section, text=h.chunk.text,
                                  start=min(a for a, _ in ss), end=max(b for _, b in ss),
                                  score=h.score, chunk_id=cid))
    return Composition(body, tuple(citations), tuple(ln.source.unit for ln in lines),
                       disagreement, strategy)
