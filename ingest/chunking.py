"""Structure-aware chunking: a `Document` -> `Chunk`s that each make sense alone.

The guides are plain text whose structure is carried by lines: headings are short lines with
no closing period (sometimes numbered, sometimes questions), tables are `| a | b |` rows,
lists are `-`, `•` or `1.` lines, FAQ answers follow their question line. The chunker reads
lines, groups them into blocks (heading, paragraph, list, table, FAQ pair), and packs blocks
into chunks that never cross a heading:

- a chunk's `text` is a verbatim span of the document (`start`..`end`), except table row
  groups, whose text is the table's header line(s) followed by the rows (`prefix` says how
  many leading characters are the repeated header), so a row still makes sense alone;
- a FAQ answer stays in one chunk with its question; a question with no answer (page
  furniture such as collapsed accordions) is dropped;
- each chunk carries its heading path (`section`) and a `context` line (title, section,
  list intro) that retrieval indexes with the text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from .documents import Document
from .furniture import furniture_spans

__all__ = ["Chunk", "ChunkKind", "chunk_document", "line_kind"]

ChunkKind = Literal["paragraph", "list", "table", "faq"]

MAX_CHARS = 1000
"""Target upper size of a chunk; paragraphs are merged up to it, long blocks split below it."""
MAX_TABLE_CHARS = 1700
"""A table up to this size stays one chunk; a bigger one is split into row groups."""


@dataclass(frozen=True)
class Chunk:
    """A retrievable, citable passage of one document."""

    chunk_id: str
    """Stable id: `<doc_id>::<ordinal>::<hash of text>`."""
    doc_id: str
    """The document it comes from (path relative to the corpus)."""
    title: str
    """The document's title."""
    section: str
    """Heading path, outermost first, joined by ` > `."""
    kind: ChunkKind
    """What structure the text is: paragraph(s), a list, table rows, or a FAQ pair."""
    text: str
    """The passage as cited (verbatim document text; table groups repeat the header first)."""
    start: int
    """Offset in the document's text where the verbatim part of `text` begins."""
    end: int
    """Offset in the document's text where it ends."""
    ordinal: int
    """Position among the document's chunks (neighbours are ordinal +/- 1)."""
    prefix: int = 0
    """Number of leading characters of `text` copied from elsewhere (a table's header)."""
    context: str = ""
    """Extra words retrieval indexes with the text: section path and list intro."""
    also_in: tuple[str, ...] = field(default_factory=tuple)
    """Ids of near-duplicate chunks collapsed into this one."""
    furniture: tuple[tuple[int, int], ...] = ()
    """Spans of `text` that are page furniture (calls to action, bylines...; see
    `ingest.furniture`): cited text, never an answer."""

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata as stored in Chroma."""
        return {"doc_id": self.doc_id, "title": self.title, "section": self.section,
                "kind": self.kind, "start": self.start, "end": self.end,
                "ordinal": self.ordinal, "prefix": self.prefix}


LineKind = Literal["blank", "heading", "question", "bullet", "table", "rule", "para"]

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_NUMBERED_HEADING = re.compile(r"^\s*(?:\d{1,2}[.)]|#\d{1,2})\s+\S")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25aa\u25cf\u25e6\u2023\u2043]|\d{1,2}[.)])\s+\S")
_TABLE = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FAQ_SECTION = re.compile(r"\b(faq|frequently asked|questions)\b", re.IGNORECASE)


@dataclass
class _Line:
    kind: LineKind
    start: int
    end: int  # without the newline
    text: str
    indent: int


@dataclass
class _Block:
    kind: Literal["heading", "question", "para", "list", "table"]
    lines: list[_Line]
    intro: _Line | None = None

    @property
    def start(self) -> int:
        return (self.intro or self.lines[0]).start

    @property
    def end(self) -> int:
        return self.lines[-1].end


def _classify(text: str, start: int, end: int) -> _Line:
    raw = text[start:end]
    s = raw.strip()
    indent = len(raw) - len(raw.lstrip())
    if not s:
        return _Line("blank", start, end, s, indent)
    if _TABLE_RULE.match(s) and "|" in s:
        return _Line("rule", start, end, s, indent)
    if _TABLE.match(s):
        return _Line("table", start, end, s, indent)
    if _MD_HEADING.match(raw):
        return _Line("heading", start, end, s.lstrip("#").strip(), indent)
    n_words = len(s.split())
    if _NUMBERED_HEADING.match(s) and indent == 0:
        body = re.sub(r"^(?:\d{1,2}[.)]|#\d{1,2})\s+", "", s)
        if _is_heading_text(body, max_words=12):
            return _Line("heading", start, end, s, indent)
    if _BULLET.match(s):
        return _Line("bullet", start, end, s, indent)
    stripped = s.rstrip("\u25be\u25bc\u25b8 ")
    if stripped.endswith("?") and n_words <= 30 and not re.search(r"[.!]\s", stripped):
        return _Line("question", start, end, s, indent)
    if _is_heading_text(s):
        return _Line("heading", start, end, s, indent)
    return _Line("para", start, end, s, indent)


def line_kind(line: str) -> str:
    """How the chunker reads one line: heading, question, bullet, table, rule, para or blank."""
    return _classify(line, 0, len(line)).kind


def _is_heading_text(s: str, max_words: int = 14) -> bool:
    if len(s) > 110 or len(s.split()) > max_words:
        return False
    if s[-1] in ".,;:!\u2026\"\u201d'" or s.endswith("->") or s.endswith("\u2192"):
        return False
    first = s.lstrip("\"'\u201c(#")[:1]
    return bool(first) and (first.isupper() or first.isdigit())


def _lines(doc_text: str) -> list[_Line]:
    out = []
    pos = 0
    for raw in doc_text.split("\n"):
        out.append(_classify(doc_text, pos, pos + len(raw)))
        pos += len(raw) + 1
    return out


def _blocks(lines: list[_Line]) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    n = len(lines)
    while i < n:
        ln = lines[i]
        if ln.kind == "blank":
            i += 1
            continue
        if ln.kind in ("table", "rule"):
            rows = []
            while i < n and lines[i].kind in ("table", "rule"):
                rows.append(lines[i])
                i += 1
            blocks.append(_Block("table", rows))
            continue
        if ln.kind == "bullet":
            items = [ln]
            base = ln.indent
            i += 1
            while i < n:
                nxt = lines[i]
                if nxt.kind == "bullet":
                    items.append(nxt)
                    i += 1
                elif nxt.kind == "blank":
                    # a list continues over blank lines if a bullet or an indented paragraph follows
                    j = i
                    while j < n and lines[j].kind == "blank":
                        j += 1
                    if j < n and (lines[j].kind == "bullet"
                                  or (lines[j].kind == "para" and lines[j].indent > base)):
                        i = j
                    else:
                        break
                elif nxt.kind == "para" and nxt.indent > base:
                    items.append(nxt)  # continuation paragraph of the previous item
                    i += 1
                else:
                    break
            intro = None
            if blocks and blocks[-1].kind == "para" and blocks[-1].lines[-1].text.endswith(":") \
                    and len(blocks[-1].lines) == 1:
                intro = blocks.pop().lines[0]
            blocks.append(_Block("list", items, intro))
            continue
        kind = "para" if ln.kind == "para" else ln.kind
        blocks.append(_Block(kind, [ln]))  # type: ignore[arg-type]
        i += 1
    return blocks


@dataclass
class _Section:
    heading: _Line | None
    is_question: bool
    blocks: list[_Block]

    @property
    def content_size(self) -> int:
        return sum(b.end - b.start for b in self.blocks)

    @property
    def end(self) -> int:
        return self.blocks[-1].end if self.blocks else (self.heading.end if self.heading else 0)


SMALL_SECTION = 420
"""A section with less content than this is merged with its small neighbours (with headings)."""


def _sections(blocks: list[_Block]) -> list[_Section]:
    sections = [_Section(None, False, [])]
    for block in blocks:
        if block.kind in ("heading", "question"):
            sections.append(_Section(block.lines[0], block.kind == "question", []))
        else:
            sections[-1].blocks.append(block)
    return sections


def chunk_document(doc: Document, *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Split a document into chunks (see the module docstring for the rules)."""
    text = doc.text
    out: list[Chunk] = []
    junk = furniture_spans(text, doc.meta.get("publisher", ""))

    def emit(kind: ChunkKind, start: int, end: int, path: list[str], *, body: str | None = None,
             prefix: int = 0, extra_context: str = "") -> None:
        chunk_text = body if body is not None else text[start:end]
        if not chunk_text.strip():
            return
        spans = tuple((a - start + prefix, b - start + prefix) for a, b in junk
                      if a >= start and b <= end)
        if spans and _all_furniture(chunk_text, spans, prefix):
            return  # a byline, an author box, a pitch: nothing to cite
        ordinal = len(out)
        digest = hashlib.sha1(chunk_text.encode()).hexdigest()[:8]
        section = " > ".join(p for p in path if p)
        ctx = " | ".join(p for p in (section, extra_context) if p)
        out.append(Chunk(chunk_id=f"{doc.doc_id}::{ordinal}::{digest}", doc_id=doc.doc_id,
                         title=doc.title, section=section, kind=kind, text=chunk_text,
                         start=start, end=end, ordinal=ordinal, prefix=prefix, context=ctx,
                         furniture=spans))

    sections = _sections(_blocks(_lines(text)))
    faq_heading = ""
    run: list[_Section] = []  # consecutive small sections being merged into one chunk
    run_parent = ""

    def flush_run() -> None:
        nonlocal run_parent
        if not run:
            return
        if not any(sec.blocks for sec in run):  # headings with nothing under them
            run.clear()
            return
        start = run[0].heading.start if run[0].heading else run[0].blocks[0].start
        headings = [s.heading.text for s in run if s.heading]
        first = headings[0] if headings else ""
        path = [run_parent, first] if run_parent and run_parent != first else [first]
        has_list = any(b.kind == "list" for s in run for b in s.blocks)
        emit("list" if has_list else "paragraph", start, run[-1].end, path,
             extra_context=" / ".join(headings[1:]))
        run.clear()

    for sec in sections:
        heading = sec.heading.text.rstrip("\u25be\u25bc ") if sec.heading else ""
        if sec.heading and not sec.is_question:
            faq_heading = heading if (_FAQ_SECTION.search(heading)
                                      and len(heading.split()) <= 8) else ""
        if sec.is_question and not sec.blocks:
            flush_run()
            continue  # a question with no answer: page furniture, nothing to cite
        small = (sec.heading is not None and not sec.is_question
                 and all(b.kind != "table" for b in sec.blocks)
                 and sec.content_size <= SMALL_SECTION)
        if small:
            if run and sec.end - (run[0].heading.start if run[0].heading else 0) > max_chars:
                flush_run()
            if not run and not run_parent:
                run_parent = heading
            run.append(sec)
            continue
        flush_run()
        run_parent = ""
        if sec.is_question and faq_heading:
            path = [faq_heading, heading]
        else:
            path = [heading] if heading else []
        _emit_section(text, sec, path, emit, max_chars)
    flush_run()
    return out


def _all_furniture(chunk_text: str, spans: tuple[tuple[int, int], ...], prefix: int) -> bool:
    """Is every word of the chunk (after a repeated table header) inside a furniture span,
    or a heading line?"""
    covered = [False] * len(chunk_text)
    for a, b in spans:
        covered[a:b] = [True] * (b - a)
    pos = 0
    for line in chunk_text.split("\n"):
        begin, pos = pos, pos + len(line) + 1
        if begin < prefix or not line.strip() or line_kind(line) in ("heading", "question"):
            continue
        if any(not covered[begin + i] for i, ch in enumerate(line) if ch.isalnum()):
            return False
    return True


def _emit_section(text, sec, path, emit, max_chars) -> None:  # type: ignore[no-untyped-def]
    """Chunk one section's blocks: paragraphs packed, lists with their lead, tables alone.

    A question heading (FAQ) is kept at the start of the first chunk, with its answer.
    """
    question = sec.heading if sec.is_question else None
    pending: list[_Block] = []

    def flush() -> None:
        nonlocal question
        if not pending:
            return
        q, question = question, None
        groups: list[list[_Block]] = [[]]
        size = 0
        for b in pending:
            length = b.end - b.start
            if groups[-1] and size + length > max_chars:
                groups.append([])
                size = 0
            groups[-1].append(b)
            size += length
        pending.clear()
        for gi, group in enumerate(groups):
            g_start = q.start if (q is not None and gi == 0) else group[0].start
            g_end = group[-1].end
            kind: ChunkKind = "faq" if (q is not None and gi == 0) else "paragraph"
            if g_end - g_start > max_chars * 1.6:
                for s, e in _split_long(text, g_start, g_end, max_chars):
                    emit(kind, s, e, path)
                    kind = "paragraph"
            else:
                emit(kind, g_start, g_end, path)

    for block in sec.blocks:
        if block.kind == "para":
            pending.append(block)
        elif block.kind == "table":
            flush()
            _emit_table(text, block, path, emit)
        else:  # a list takes the short paragraphs just before it as its lead
            if sum(b.end - b.start for b in pending) > max_chars // 2:
                flush()
            lead = pending[:]
            pending.clear()
            q, question = question, None
            _emit_list(text, block, lead, q, path, emit, max_chars)
    flush()


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    from .text import sentence_spans

    spans: list[tuple[int, int]] = []
    cur_s: int | None = None
    cur_e = start
    for s, e in sentence_spans(text, start, end):
        if cur_s is None:
            cur_s = s
        elif e - cur_s > max_chars:
            spans.append((cur_s, cur_e))
            cur_s = s
        cur_e = e
    if cur_s is not None:
        spans.append((cur_s, cur_e))
    return spans


def _emit_list(text, block, lead, question, path, emit, max_chars) -> None:  # type: ignore[no-untyped-def]
    """A list (with its intro line and any short lead paragraphs) -> one or more chunks."""
    start = question.start if question else (lead[0].start if lead else block.start)
    intro_text = block.intro.text if block.intro else ""
    kind: ChunkKind = "faq" if question else "list"
    if block.end - start <= max_chars * 1.5:
        emit(kind, start, block.end, path, extra_context=intro_text)
        return
    # too long: lead paragraphs + intro + first items, then groups of items
    groups: list[tuple[int, int]] = []
    g_start = start
    g_end = block.lines[0].end
    for item in block.lines[1:]:
        if item.end - g_start > max_chars and g_end > g_start:
            groups.append((g_start, g_end))
            g_start = item.start
        g_end = item.end
    groups.append((g_start, g_end))
    for gi, (s, e) in enumerate(groups):
        if e - s > max_chars * 1.6:
            for ss, ee in _split_long(text, s, e, max_chars):
                emit(kind if gi == 0 else "list", ss, ee, path, extra_context=intro_text)
        else:
            emit(kind if gi == 0 else "list", s, e, path, extra_context=intro_text)


def _emit_table(text, block, path, emit) -> None:  # type: ignore[no-untyped-def]
    """A table -> one chunk, or row groups that each repeat the header."""
    rows = block.lines
    header_rows: list[_Line] = []
    body_rows = rows
    if len(rows) >= 2 and rows[1].kind == "rule":
        header_rows = rows[:2]
        body_rows = rows[2:]
    if block.end - block.start <= MAX_TABLE_CHARS or not header_rows or not body_rows:
        emit("table", block.start, block.end, path)
        return
    header = text[header_rows[0].start:header_rows[-1].end] + "\n"
    budget = MAX_CHARS - len(header)
    group: list[_Line] = []
    first = True
    for row in body_rows + [None]:  # type: ignore[list-item]
        if row is None or (group and row.end - group[0].start > budget):
            if group:
                if first:
                    emit("table", block.start, group[-1].end, path)
                    first = False
                else:
                    body = text[group[0].start:group[-1].end]
                    emit("table", group[0].start, group[-1].end, path, body=header + body,
                         prefix=len(header))
            group = []
        if row is not None:
            group.append(row)
