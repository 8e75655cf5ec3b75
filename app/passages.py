"""Guide passages as the sources panel shows them and as plain text quotes.

A passage is cut into text runs and `| a | b |` tables (`segments`). `passage_html` shows it
around its supporting span: text clipped at whole words with "…", a table as an HTML table
clipped at whole rows, its header row always kept and the cited rows marked. `quote_lines`
gives the span as lines to paste (a table row as "First cell — Column: value; ..."), and
`plain_tables` turns markdown tables in an answer into such lines. Everything is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

__all__ = ["CONTEXT", "TABLE", "TABLE_RULE", "WIDE", "Segment", "clip_words", "passage_html",
           "plain_tables", "quote_lines", "segments", "table_cells"]

TABLE = re.compile(r"^\s*\|.*\|\s*$")
"""A table line: `| a | b |`."""
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
"""The rule under a table's header: `|---|---|`."""
CONTEXT = 420
"""Characters of a passage shown on each side of the highlighted span."""
WIDE = 4
"""Columns from which a table is `bk-wide`: shown row by row in a desktop's sources panel,
where a narrower one still fits as a table."""


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def table_cells(line: str) -> list[str]:
    """The cells of a table line, trimmed."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


@dataclass(frozen=True)
class Segment:
    """A run of a passage: plain text, or a `| a | b |` table (its rows, rule lines left out)."""

    start: int
    end: int
    rows: tuple[tuple[int, int, list[str]], ...] = ()
    """For a table: (start, end, cells) of each row, in order."""
    header: bool = False
    """For a table: its first row is a header (a `|---|` rule follows it)."""

    @property
    def table(self) -> bool:
        return bool(self.rows)


def segments(text: str) -> list[Segment]:
    """The passage cut into text runs and tables (two or more consecutive `|` lines)."""
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line), line))
        pos += len(line) + 1
    out: list[Segment] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and (TABLE.match(lines[j][2]) or TABLE_RULE.match(lines[j][2])):
            j += 1
        if j - i >= 2 and TABLE.match(lines[i][2]):
            block = lines[i:j]
            header = len(block) > 1 and bool(TABLE_RULE.match(block[1][2]))
            rows = tuple((s, e, table_cells(t)) for s, e, t in block if not TABLE_RULE.match(t))
            out.append(Segment(block[0][0], block[-1][1], rows, header))
            i = j
            continue
        j = max(j, i + 1)
        while j < len(lines) and not (TABLE.match(lines[j][2]) and j + 1 < len(lines) and (
                TABLE.match(lines[j + 1][2]) or TABLE_RULE.match(lines[j + 1][2]))):
            j += 1
        out.append(Segment(lines[i][0], lines[j - 1][1]))
        i = j
    return out


def _marked(text: str, lo: int, hi: int, start: int | None, end: int | None) -> str:
    """`text[lo:hi]` escaped, with its overlap with the span `[start, end)` in `<mark>`."""
    if start is None or end is None or end <= lo or start >= hi:
        return _esc(text[lo:hi])
    s, e = max(lo, start), min(hi, end)
    return (_esc(text[lo:s]) + "<mark>" + _esc(text[s:e]) + "</mark>" + _esc(text[e:hi]))


def _snap(text: str, lo: int, hi: int, seg: Segment) -> tuple[int, int]:
    """A clipped text window moved inwards to whole words (never past its segment)."""
    if lo > seg.start and not text[lo - 1].isspace():  # cut inside a word: start at the next
        lo = next((k for k in range(lo, min(hi, lo + 40)) if text[k - 1].isspace()), lo)
    if hi < seg.end and not text[hi].isspace():  # cut inside a word: end before it
        hi = next((k for k in range(hi, max(lo, hi - 40), -1) if text[k].isspace()), hi)
    while hi > lo and text[hi - 1] in " \t":
        hi -= 1
    return lo, hi


def _cell(text: str, label: str, marked: bool) -> str:
    """A table cell; `data-label` is its column's name (a phone shows it before the value)."""
    attr = f' data-label="{_esc(label)}"' if label else ""
    body = f"<mark>{_esc(text)}</mark>" if marked and text else _esc(text)
    return f"<td{attr}>{body}</td>"


def _table_html(seg: Segment, lo: int, hi: int, start: int | None, end: int | None) -> str:
    """A passage's table clipped to whole rows: the header always, the rows that meet the
    window `[lo, hi)`, a "⋯ n more rows" row for each run left out, cited rows marked."""
    rows = list(seg.rows)
    head = rows.pop(0) if seg.header else None
    labels = head[2] if head else []
    width = max(len(r[2]) for r in seg.rows)
    wide = " bk-wide" if width >= WIDE else ""
    html = [f'<div class="bk-table-wrap"><table class="bk-table bk-src-table{wide}">']
    if head is not None:
        html.append("<thead><tr>" + "".join(f"<th>{_esc(c)}</th>" for c in head[2])
                    + "</tr></thead>")
    html.append("<tbody>")
    skipped = 0

    def more() -> None:
        html.append(f'<tr class="bk-more"><td colspan="{width}">⋯ {skipped} more '
                    f'row{"s" if skipped != 1 else ""}</td></tr>')

    for s, e, cells in rows:
        hit = start is not None and end is not None and s < end and e > start
        if not hit and (e <= lo or s >= hi):
            skipped += 1
            continue
        if skipped:
            more()
            skipped = 0
        html.append(('<tr class="bk-hit">' if hit else "<tr>")
                    + "".join(_cell(c, labels[k] if k < len(labels) else "", hit)
                              for k, c in enumerate(cells)) + "</tr>")
    if skipped:
        more()
    html.append("</tbody></table></div>")
    return "".join(html)


def passage_html(c: Mapping[str, Any], clip_at: int | None = None) -> str:
    """A cited passage around its supporting span (or its opening, when it has none): text
    clipped at word boundaries with "…", tables as tables clipped at whole rows."""
    text = str(c.get("text", ""))
    start, end = c.get("start"), c.get("end")
    span: tuple[int, int] | None = None
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        span = (start, end)
        lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    else:
        lo, hi = 0, min(len(text), 2 * CONTEXT if clip_at is None else clip_at)
    s0, e0 = span if span else (None, None)
    parts: list[str] = []
    dropped_before = dropped_after = False
    for seg in segments(text):
        cited = span is not None and seg.start < span[1] and seg.end > span[0]
        if (seg.end <= lo or seg.start >= hi) and not cited:
            dropped_before |= not parts
            dropped_after |= bool(parts)
            continue
        if seg.table:  # block-level: no line breaks around it in the pre-wrap card
            parts.append(_table_html(seg, lo, hi, s0, e0))
            continue
        a, b = _snap(text, max(lo, seg.start), min(hi, seg.end), seg)
        piece = _marked(text, a, b, s0, e0).strip("\n")
        if piece.strip():
            parts.append(("…" if a > seg.start else "") + piece + ("…" if b < seg.end else ""))
    if parts and dropped_before and not parts[0].startswith("…"):
        parts.insert(0, "…")
    if parts and dropped_after and not parts[-1].endswith("…"):
        parts.append("…")
    return "".join(parts)


_QUOTE_CHARS = 400
_QUOTE_ROWS = 6


def clip_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with "…" when cut (a
    single word longer than half the limit is cut inside it rather than emptied)."""
    if len(text) <= limit:
        return text
    at = text.rfind(" ", 0, limit + 1)
    return text[:at if at > limit // 2 else limit].rstrip(" ,;:-\u2014") + "\u2026"


def _row_text(header: Sequence[str] | None, cells: Sequence[str]) -> str:
    """A table row as a line a person reads: "Hidden costs — Why it happens: ...; Mitigation:
    ..." (the first cell, then each other cell under its column's name)."""
    if not header:
        return " | ".join(c for c in cells if c)
    first = cells[0] if cells else ""
    rest = "; ".join(f"{h}: {v}" if h else v
                     for h, v in zip(header[1:], cells[1:], strict=False) if v)
    return f"{first} — {rest}" if first and rest else first or rest


def plain_tables(text: str) -> str:
    """Markdown tables in a text turned into one readable line per row."""
    out = []
    for seg in segments(text):
        if not seg.table:
            out.append(text[seg.start:seg.end])
            continue
        header = seg.rows[0][2] if seg.header else None
        out.extend(_row_text(header, cells) for _, _, cells in seg.rows[1 if header else 0:])
    return "\n".join(out)


def quote_lines(text: str, start: int, end: int) -> list[str]:
    """The supporting span of a passage as quoted lines: text as one quote, each cited table
    row as its own line with its column names."""
    lines: list[str] = []
    for seg in segments(text):
        if seg.end <= start or seg.start >= end:
            continue
        if not seg.table:
            quote = " ".join(text[max(start, seg.start):min(end, seg.end)].split())
            if quote:
                lines.append(f'"{clip_words(quote, _QUOTE_CHARS)}"')
            continue
        header = seg.rows[0][2] if seg.header else None
        rows = [cells for s, e, cells in seg.rows[1 if header else 0:] if s < end and e > start]
        lines += [f"- {_row_text(header, cells)}" for cells in rows[:_QUOTE_ROWS]]
        if len(rows) > _QUOTE_ROWS:
            lines.append(f"- … and {len(rows) - _QUOTE_ROWS} more rows")
    return lines
