"""Answer units: the sentences, list items and table rows of a chunk, with their spans.

The extractive answerer chooses among units and cites each one with its (start, end) span
inside the chunk's text. Units are derived deterministically from a chunk, so the index
stores only their vectors (in the same order), never a second copy of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from .chunking import Chunk, line_kind
from .furniture import Signals
from .text import sentence_spans, stems

__all__ = ["Unit", "chunk_heading_stems", "row_cells", "row_sentence", "table_header",
           "unit_embed_text", "units_of"]

_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa\u25cf\u25e6\u2023\u2043]|\d{1,2}[.)])\s+")
_LABEL = re.compile(r"^([^:.;!?]{2,70}):\s")
_NUM = re.compile(r"\d")
MAX_ITEM_CHARS = 240
"""A list item up to this long is one unit; a longer one is split into sentences."""


@dataclass(frozen=True)
class Unit:
    """One candidate answer sentence, list item or table row of a chunk."""

    chunk: Chunk
    start: int
    """Span start inside `chunk.text`."""
    end: int
    """Span end inside `chunk.text`."""
    text: str
    """What an answer shows: the span itself (table rows: cells with their column names)."""
    kind: str
    """`sentence`, `item` (a list item) or `row` (a table row)."""
    position: int
    """Order inside the chunk."""
    stems: frozenset[str]
    """Content stems of `text` (for lexical scoring)."""
    has_number: bool
    """Whether the span contains a digit."""
    label: str = ""
    """The item's lead (`Label: ...`), the table row's first cell, or the heading it opens."""
    context: str = ""
    """The nearest heading or FAQ question above the unit inside its chunk (or the section)."""
    in_contents: bool = False
    """An entry of the document's own table of contents (the items after "...and cover these
    topics:")."""
    line: int = -1
    """Offset in `chunk.text` of the line (paragraph, bullet, row) the unit belongs to:
    the sentences of one long bullet share it."""
    furniture: bool = False
    """Page furniture (a call to action, a byline, the publisher's pitch; `ingest.furniture`):
    part of the cited text, never an answer."""

    @cached_property
    def about_document(self) -> bool:
        """Does the unit talk about the document rather than its subject ("By the end of
        this article, you will...", "Read on to learn more"), only lead into a list ("...they
        hire BPOs to:"), or is it furniture? Such a unit answers nothing on its own."""
        return self.in_contents or self.furniture or \
            Signals.default().about_the_document(self.text) or self.text.rstrip().endswith(":")

    @cached_property
    def label_stems(self) -> frozenset[str]:
        """Content stems of the unit's label and heading context (computed once)."""
        return frozenset(stems(f"{self.label} {self.context}"))

    @cached_property
    def scope_stems(self) -> frozenset[str]:
        """Stems of everything that frames the unit: its label, its heading context, and its
        chunk's section path and context line (computed once)."""
        return self.label_stems | chunk_heading_stems(self.chunk)


@lru_cache(maxsize=100_000)
def chunk_heading_stems(chunk: Chunk) -> frozenset[str]:
    """Content stems of a chunk's section path and context line."""
    return frozenset(stems(f"{chunk.section} {chunk.context}"))


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _last_section(chunk: Chunk) -> str:
    return chunk.section.split(" > ")[-1] if chunk.section else ""


@lru_cache(maxsize=100_000)
def units_of(chunk: Chunk) -> tuple[Unit, ...]:
    """Split a chunk into answer units (cached per chunk)."""
    if chunk.kind == "table":
        return tuple(_table_units(chunk))
    text = chunk.text
    out: list[Unit] = []
    context = _last_section(chunk)
    pending_label = ""
    pos = 0
    contents = False  # inside a list introduced as the document's contents
    for line_start, line in _lines(text):
        kind = line_kind(line)
        if kind == "blank":
            continue
        stripped = line.strip()
        if not _BULLET.match(line):
            contents = stripped.endswith(":") and Signals.default().about_the_document(stripped)
        if kind in ("heading", "question"):
            context = re.sub(r"^#{1,6}\s+", "", stripped).rstrip("\u25be\u25bc ")
            pending_label = re.sub(r"^(?:\d{1,2}[.)]|#\d{1,2})\s+", "", context) \
                if kind == "heading" and not context.endswith("?") else ""
            continue
        if stripped.endswith(":") and len(stripped.split()) <= 14:
            continue  # a list intro such as "Examples include:"
        m = _BULLET.match(line)
        body_start = line_start + (m.end() if m else len(line) - len(line.lstrip()))
        body_end = line_start + len(line.rstrip())
        if body_end <= body_start:
            continue
        body = text[body_start:body_end]
        label = ""
        lm = _LABEL.match(body)
        if lm and (m or kind == "para"):
            label = lm.group(1).strip()
        if m and len(body) <= MAX_ITEM_CHARS:
            out.append(_unit(chunk, body_start, body_end, "item", pos, label or pending_label,
                             context, in_contents=contents, line=line_start))
            pos += 1
            pending_label = ""
            continue
        first = True
        # later sentences of a long labelled item keep its label as context ("KPO (...)")
        item_context = label if (m and label) else context
        for s, e in sentence_spans(text, body_start, body_end):
            if e - s < 12:
                continue
            # ... and show it: "Philippines (offshore): Strong English proficiency..."
            lab = (label or pending_label) if first else (label if m else "")
            # the first sentence under a sub-heading is an entry of the list the headings form
            kind = "item" if m or (first and pending_label) else "sentence"
            out.append(_unit(chunk, s, e, kind, pos, lab, context if first else item_context,
                             line=line_start))
            pos += 1
            first = False
        pending_label = ""
    return tuple(out)


def _unit(chunk: Chunk, s: int, e: int, kind: str, pos: int, label: str = "",
          context: str = "", shown: str | None = None, in_contents: bool = False,
          line: int = -1) -> Unit:
    body = chunk.text[s:e]
    shown = body if shown is None else shown
    return Unit(chunk=chunk, start=s, end=e, text=shown, kind=kind, position=pos,
                stems=frozenset(stems(shown)), has_number=bool(_NUM.search(body)), label=label,
                context=context, in_contents=in_contents, line=s if line < 0 else line,
                furniture=any(a < e and s < b for a, b in chunk.furniture))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


@lru_cache(maxsize=100_000)
def table_header(chunk: Chunk) -> tuple[str, ...]:
    """The column names of a table chunk ("Signal", "Lean toward a managed VA / small
    team", "Lean toward full BPO"); empty for other chunks or a table without a header."""
    if chunk.kind != "table":
        return ()
    rows = [ln for _, ln in _lines(chunk.text) if ln.strip().startswith("|")]
    if len(rows) >= 2 and set(rows[1].replace("|", "").strip()) <= set("-: "):
        return tuple(_cells(rows[0]))
    return ()


def _table_units(chunk: Chunk) -> list[Unit]:
    rows = [(s, ln) for s, ln in _lines(chunk.text) if ln.strip().startswith("|")]
    if not rows:
        return []
    header = list(table_header(chunk))
    body = rows[2:] if header else rows
    context = _last_section(chunk)
    out = []
    for pos, (s, ln) in enumerate(body):
        if s < chunk.prefix:
            continue
        cells = _cells(ln)
        if not any(cells):
            continue
        shown = row_sentence(header, cells)
        lead = len(ln) - len(ln.lstrip())
        out.append(_unit(chunk, s + lead, s + len(ln.rstrip()), "row", pos, cells[0], context,
                         shown=shown))
    return out


def row_sentence(header: list[str] | tuple[str, ...], cells: list[str]) -> str:
    """A table row as a sentence a person would write: the row's name, what its first column
    says, then each further column by its header ("Nearshore: Provider in a neighbouring
    region; typical work: Support and back office in a close time zone; best when: ...")."""
    cells = [c.strip() for c in cells]
    if not header or len(header) != len(cells) or len(cells) < 2:
        return "; ".join(c for c in cells if c).rstrip(".") + "."
    parts = [f"{cells[0]}: {cells[1]}" if cells[1] else cells[0]]
    parts += [f"{_lower_words(h)}: {c}" for h, c in zip(header[2:], cells[2:], strict=True)
              if c]
    return "; ".join(p.rstrip(".; ") for p in parts) + "."


def _lower_words(header: str) -> str:
    """A column name inside a sentence: its capitalised words lower-cased, acronyms and
    words with capitals inside kept ("Lean toward full BPO" -> "lean toward full BPO")."""
    return " ".join(w if any(ch.isupper() for ch in w[1:]) else w.lower()
                    for w in header.strip().split())


def row_cells(unit: Unit) -> list[str]:
    """The cells of a table row unit, as written."""
    return _cells(unit.chunk.text[unit.start:unit.end])


def unit_embed_text(unit: Unit) -> str:
    """What the embedder sees for a unit: its heading or FAQ question, then its text."""
    if unit.context and unit.context.lower() not in unit.text.lower():
        return f"{unit.context}: {unit.text}"
    return unit.text
