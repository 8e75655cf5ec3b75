"""Answer units: the sentences, list items and table rows of a passage, with their spans.

The extractive answerer chooses among units; each unit knows its (start, end) span inside
its chunk's text, so a citation can point at exactly the words the answer used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest import Chunk
from ingest.text import sentence_spans, stems

__all__ = ["Unit", "units_of"]

_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa\u25cf\u25e6\u2023\u2043]|\d{1,2}[.)])\s+")
_NUM = re.compile(r"\d")
MAX_ITEM_CHARS = 420


@dataclass(frozen=True)
class Unit:
    """One candidate answer sentence, list item or table row."""

    chunk: Chunk
    start: int
    """Span start inside `chunk.text`."""
    end: int
    """Span end inside `chunk.text`."""
    text: str
    """What the answer shows (the span; table rows are rendered with their column names)."""
    kind: str
    """`sentence`, `item` (a list item) or `row` (a table row)."""
    position: int
    """Order inside the chunk."""
    stems: frozenset[str]
    has_number: bool
    label: str = ""
    """For list items `Label: text` and table rows: the label part (the row's first cell)."""


def _is_heading_line(line: str) -> bool:
    s = line.strip()
    if not s:
        return True
    if s.endswith("?") or s.endswith("\u25be"):
        return True
    words = s.split()
    return len(words) <= 12 and s[-1] not in ".!;:,)\"'\u201d" and not _BULLET.match(s) \
        and "|" not in s


@lru_cache(maxsize=50_000)
def units_of(chunk: Chunk) -> tuple[Unit, ...]:
    """Split a chunk into answer units (cached per chunk)."""
    text = chunk.text
    out: list[Unit] = []
    if chunk.kind == "table":
        return tuple(_table_units(chunk))
    pos = 0
    for line_start, line in _lines(text):
        if _is_heading_line(line) or line.strip().endswith(":") and len(line.split()) <= 14:
            continue
        m = _BULLET.match(line)
        body_start = line_start + (m.end() if m else len(line) - len(line.lstrip()))
        body_end = line_start + len(line.rstrip())
        if body_end <= body_start:
            continue
        body = text[body_start:body_end]
        label = ""
        lm = re.match(r"^([^:.;]{2,70}):\s", body)
        if m and lm:
            label = lm.group(1)
        if m and len(body) <= MAX_ITEM_CHARS:
            out.append(_unit(chunk, body_start, body_end, "item", pos, label))
            pos += 1
            continue
        for s, e in sentence_spans(text, body_start, body_end):
            if e - s < 12:
                continue
            out.append(_unit(chunk, s, e, "item" if m else "sentence", pos,
                             label if s == body_start else ""))
            pos += 1
    return tuple(out)


def _unit(chunk: Chunk, s: int, e: int, kind: str, pos: int, label: str = "",
          shown: str | None = None) -> Unit:
    body = chunk.text[s:e]
    shown = body if shown is None else shown
    return Unit(chunk=chunk, start=s, end=e, text=shown, kind=kind, position=pos,
                stems=frozenset(stems(shown)), has_number=bool(_NUM.search(body)), label=label)


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    pos = 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_units(chunk: Chunk) -> list[Unit]:
    lines = _lines(chunk.text)
    rows = [(s, ln) for s, ln in lines if ln.strip().startswith("|")]
    if not rows:
        return []
    header: list[str] = []
    body = rows
    if len(rows) >= 2 and set(rows[1][1].replace("|", "").strip()) <= set("-: "):
        header = _cells(rows[0][1])
        body = rows[2:]
    out = []
    for pos, (s, ln) in enumerate(body):
        if s < chunk.prefix:
            continue
        cells = _cells(ln)
        if not any(cells):
            continue
        if header and len(header) == len(cells):
            parts = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=True) if c]
            shown = f"{cells[0]} \u2014 " + "; ".join(parts) + "."
        else:
            shown = "; ".join(c for c in cells if c) + "."
        e = s + len(ln.rstrip())
        out.append(_unit(chunk, s + (len(ln) - len(ln.lstrip())), e, "row", pos, cells[0],
                         shown=shown))
    return out
