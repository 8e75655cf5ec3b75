"""Answers as safe HTML for a chat window, and as plain text for pasting into an email.

Everything that came from a document or a user is HTML-escaped here, so a guide containing
`<script>` or a markdown image shows as text and never runs or loads anything. The only
markup produced is our own: paragraphs, lists, tables, citation links `[n]` -> `#src-<turn>-<n>`
and the sources panel with the supporting span in `<mark>` (a passage's tables as tables,
clipped at whole rows: `app.passages`). `suggestion_options` turns an answer's suggested
questions into the chat's clickable chips. Inputs are `Answer.to_dict()` dicts (what the UI
keeps per turn); no UI library is imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from .passages import (
    TABLE,
    TABLE_RULE,
    clip_words,
    passage_html,
    plain_tables,
    quote_lines,
    table_cells,
)

__all__ = ["CSS", "HEAD_STYLE", "answer_html", "error_html", "escape_text", "plain_text",
           "question_html", "sources_html", "suggestion_options", "thinking_html"]

SHOWN_QUESTION_CHARS = 300
"""A pasted 3,000-character message is echoed ("Searched the guides for", the sources
panel's heading) only this far, cut between words."""

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_BULLET = re.compile(r"^\s*[-•*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+(.*)$")
_REFUSAL = re.compile(r"^\s*the guides don['’]t cover this\.?\s*", re.I)
_MAX_SUGGESTIONS = 3
CSS = """
.bk-answer p { margin: 0 0 .55em; } .bk-answer p:last-child { margin-bottom: 0; }
.bk-answer ul, .bk-answer ol { margin: 0 0 .55em 1.1em; padding: 0; }
.bk-answer li { margin-bottom: .3em; }
a.cite, span.cite { display: inline-block; font-size: .78em; font-weight: 600;
  color: #1d4ed8 !important; background: #e8efff; border-radius: 5px; padding: 0 5px;
  margin-left: 2px; text-decoration: none !important; vertical-align: 1px; cursor: pointer; }
a.cite:hover { background: #1d4ed8; color: #fff !important; }
.bk-table { border-collapse: collapse; margin: 0 0 .6em; font-size: .92em; }
.bk-table td, .bk-table th { border: 1px solid #dbe2ee; padding: 4px 8px; vertical-align: top; }
.bk-table th { background: #f1f5fb; }
.bk-query { font-size: .84em; color: #64748b; border-top: 1px dashed #dbe2ee;
  padding-top: 6px; margin-top: 8px !important; }
.bk-notice { font-size: .85em; color: #92400e; background: #fffbeb; border-radius: 6px;
  padding: 4px 8px; }
.bk-refusal { border-left: 4px solid #f59e0b; padding-left: 12px; }
.bk-refusal-title { font-weight: 700; color: #92400e; font-size: 1.02em; }
.bk-error p { color: #b91c1c; }
.bk-thinking { color: #64748b; }
.bk-caret { display: inline-block; width: 7px; height: 1em; margin-left: 3px;
  vertical-align: -2px; background: #94a3b8; animation: bk-blink 1s steps(2) infinite; }
@keyframes bk-blink { 50% { opacity: 0; } }
.bk-empty { color: #64748b; background: #fff; border: 1px dashed #cbd5e1; border-radius: 12px;
  padding: 16px 18px; font-size: .92rem; }
.bk-empty-title { font-weight: 600; color: #334155; margin-bottom: 4px; }
.bk-turn { background: #fff; border: 1px solid #e2e8f0; border-radius: 12px;
  margin-bottom: 10px; padding: 4px 12px 10px; }
.bk-turn summary { cursor: pointer; padding: 8px 0; display: flex; gap: 8px;
  justify-content: space-between; align-items: baseline; list-style: none; }
.bk-turn summary::-webkit-details-marker { display: none; }
.bk-turn-q { font-weight: 600; color: #0f172a; font-size: .92rem; }
.bk-turn-n { flex: 0 1 auto; font-size: .75rem; color: #64748b; text-align: right; }
.bk-src { border-top: 1px solid #eef2f7; padding: 10px 0 6px; border-radius: 8px;
  transition: background .4s; }
.bk-src-head { display: flex; gap: 10px; align-items: flex-start; margin-bottom: 6px; }
.bk-src-n { flex: none; width: 22px; height: 22px; border-radius: 6px; background: #1d4ed8;
  color: #fff; font-size: .78rem; font-weight: 700; display: grid; place-items: center; }
.bk-src-title { font-weight: 600; font-size: .88rem; color: #0f172a; line-height: 1.25; }
.bk-src-section { font-size: .8rem; color: #475569; }
.bk-src-text { font-size: .86rem; line-height: 1.5; color: #334155; white-space: pre-wrap;
  background: #f8fafc; border-radius: 8px; padding: 8px 10px; }
.bk-src-text mark { background: #fde68a; color: #111827; padding: 1px 0; border-radius: 2px; }
.bk-table-wrap { overflow-x: auto; margin: 4px 0; width: 0; min-width: 100%; }
.bk-src-table { white-space: normal; width: 100%; margin: 0; font-size: .8rem;
  background: #fff; line-height: 1.4; }
.bk-src-table thead th { text-align: left; font-weight: 600; color: #0f172a; }
.bk-src-table tr.bk-hit td { background: #fef9c3; }
.bk-src-table tr.bk-more td { color: #64748b; font-style: italic; text-align: center;
  background: #f8fafc; padding: 2px 8px; }
.bk-src-doc { font-size: .74rem; color: #94a3b8; margin-top: 4px; }
.bk-flash { background: #e8efff; }
"""
"""The stylesheet for the classes this module's HTML uses (the UI adds it to its page)."""
_STACKED = """
  {t} {{ border: 0 !important; }}
  {t} thead {{ display: none !important; }}
  {t}, {t} tbody, {t} tr, {t} td {{ display: block !important; }}
  {t} tr {{ border: 1px solid #dbe2ee; border-radius: 6px; margin-bottom: 4px; padding: 3px 0; }}
  {t} td {{ border: none !important; padding: 1px 8px !important; }}
  {t} td[data-label]::before {{ content: attr(data-label) ": "; font-weight: 600; color: #475569; }}
"""
HEAD_STYLE = (
    ".bk-sources { container-type: inline-size; }\n"
    "@container (max-width: 380px) {" + _STACKED.format(t=".bk-src-table") + "}\n"
    "@container (max-width: 600px) {" + _STACKED.format(t=".bk-src-table.bk-wide") + "}\n")
"""CSS for the page's `<style>` in its head, not the Gradio stylesheet (whose processing drops
container queries): a table too wide for the sources panel - any table in a phone's, one of
`passages.WIDE` columns or more in a desktop's - shows each row under the other, each value
after its column name."""


def escape_text(text: object) -> str:
    """Text made safe to place inside HTML (also what a user's own question is shown as)."""
    return escape(str(text), quote=True)


_esc = escape_text


def _inline(text: str, turn: int, known: set[int] | None) -> str:
    """Escaped text with `[n]` markers turned into links to the sources panel."""
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        nums = [int(x) for x in m.group(1).split(",")]
        if known is not None and not all(n in known for n in nums):
            continue
        out.append(_esc(text[pos:m.start()]))
        out.append("".join(f'<a class="cite" href="#src-{turn}-{n}" title="Show source {n}">'
                           f"[{n}]</a>" for n in nums))
        pos = m.end()
    out.append(_esc(text[pos:]))
    return "".join(out)


def _blocks(text: str, turn: int, known: set[int] | None) -> str:
    """Paragraphs, bullet/numbered lists and `| a | b |` tables, all escaped.

    No blank lines in the output: a markdown renderer treats the whole thing as one HTML
    block and leaves the (escaped) text alone.
    """
    html: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            if pattern.match(line):
                items = []
                while i < len(lines) and pattern.match(lines[i]):
                    m = pattern.match(lines[i])
                    items.append(f"<li>{_inline(m.group(1) if m else '', turn, known)}</li>")
                    i += 1
                html.append(f"<{tag}>{''.join(items)}</{tag}>")
                break
        else:
            if TABLE.match(line):
                rows: list[str] = []
                while i < len(lines) and (TABLE.match(lines[i]) or TABLE_RULE.match(lines[i])):
                    if not TABLE_RULE.match(lines[i]):
                        head = not rows and i + 1 < len(lines) and bool(
                            TABLE_RULE.match(lines[i + 1]))
                        cell = "th" if head else "td"
                        rows.append("<tr>" + "".join(
                            f"<{cell}>{_inline(c, turn, known)}</{cell}>"
                            for c in table_cells(lines[i])) + "</tr>")
                    i += 1
                html.append(f'<table class="bk-table">{"".join(rows)}</table>')
            else:
                para = []
                while (i < len(lines) and lines[i].strip() and not _BULLET.match(lines[i])
                       and not _NUMBERED.match(lines[i]) and not TABLE.match(lines[i])):
                    para.append(_inline(lines[i].strip(), turn, known))
                    i += 1
                html.append(f"<p>{'<br>'.join(para)}</p>")
    return "".join(html)


def _norm(s: str) -> str:
    return re.sub(r"[^\w]+", " ", s.lower()).strip()


def _same(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)


def answer_html(answer: Mapping[str, Any] | None, turn: int, text: str | None = None) -> str:
    """One chat message: the answer (or a streamed prefix `text`) with links to its sources.

    A refusal gets a clear "the guides don't cover this" heading; a follow-up whose retrieval
    query differs from the question shows the query it searched for.
    """
    if answer is None:
        body = _blocks(text or "", turn, None)
        return f'<div class="bk-answer bk-streaming">{body}<span class="bk-caret"></span></div>'
    known = {int(c["marker"]) for c in answer.get("citations") or []}
    parts = []
    if answer.get("abstained"):
        rest = _REFUSAL.sub("", str(answer.get("answer", "")))
        parts.append('<div class="bk-answer bk-refusal">'
                     '<p class="bk-refusal-title">The guides don&#x27;t cover this</p>')
        if rest:
            parts.append(_blocks(rest, turn, set()))
    else:
        parts.append('<div class="bk-answer">')
        parts.append(_blocks(str(answer.get("answer", "")), turn, known))
    query = str(answer.get("retrieval_query") or "")
    if query and not _same(query, str(answer.get("question", ""))):
        parts.append('<p class="bk-query">Searched the guides for: '
                     f'<q>{_esc(clip_words(query, SHOWN_QUESTION_CHARS))}</q></p>')
    if answer.get("notice"):
        parts.append(f'<p class="bk-notice">{_esc(answer["notice"])}</p>')
    parts.append("</div>")
    return "".join(parts)


def suggestion_options(answer: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The follow-up questions to offer as clickable chips under an answer (a refusal's
    covered questions, or an answer's next questions): Gradio chat-message options, at most
    three, without repeats or the question just asked."""
    if not answer:
        return []
    seen = {_norm(str(answer.get("question", "")))}
    out = []
    for s in answer.get("suggestions") or []:
        text = " ".join(str(s).split())
        if text and _norm(text) not in seen:
            seen.add(_norm(text))
            out.append({"label": text, "value": text})
    return out[:_MAX_SUGGESTIONS]


def question_html(question: str) -> str:
    """The user's own question as a chat message: escaped, in an HTML block (no markdown)."""
    return f'<div class="bk-question">{_esc(" ".join(question.split()))}</div>'


def thinking_html() -> str:
    """The placeholder shown while retrieval runs, before the first words arrive."""
    return ('<div class="bk-answer bk-streaming"><p class="bk-thinking">Searching the guides'
            '<span class="bk-caret"></span></p></div>')


def error_html(message: str) -> str:
    """A user-facing error (e.g. an empty question) shown in place of an answer."""
    return f'<div class="bk-answer bk-error"><p>{_esc(message)}</p></div>'


def _card(c: Mapping[str, Any], turn: int, sources: Mapping[str, str], clip_at: int | None
          ) -> str:
    n = int(c.get("marker", 0))
    doc = str(c.get("doc", ""))
    origin = sources.get(doc, "")
    meta = _esc(doc) + (f" · {_esc(origin)}" if origin else "")
    section = str(c.get("section") or "")
    if section == str(c.get("title") or ""):
        section = ""
    return (f'<div class="bk-src" id="src-{turn}-{n}">'
            f'<div class="bk-src-head"><span class="bk-src-n">{n}</span><div>'
            f'<div class="bk-src-title">{_esc(c.get("title") or doc)}</div>'
            + (f'<div class="bk-src-section">{_esc(section)}</div>' if section else "")
            + f'</div></div><div class="bk-src-text">{passage_html(c, clip_at)}</div>'
            f'<div class="bk-src-doc">{meta}</div></div>')


def sources_html(turns: Sequence[Mapping[str, Any] | None],
                 sources: Mapping[str, str] | None = None) -> str:
    """The sources panel: each answered turn's cited passages, the latest first and open.

    `turns[i]` is the answer dict of turn `i + 1` (None for a turn that failed); `sources`
    maps a document id to a short origin line (publisher, date).
    """
    sources = sources or {}
    answered = [(i + 1, t) for i, t in enumerate(turns) if t and t.get("citations")]
    if not answered:
        return ('<div class="bk-sources bk-empty"><p class="bk-empty-title">No sources yet</p>'
                "<p>Every answer cites the guide passages it comes from. They appear here with "
                "the supporting sentences highlighted; click a marker such as "
                '<span class="cite">[1]</span> in an answer to jump to its passage.</p></div>')
    parts = ['<div class="bk-sources">']
    latest = answered[-1][0]
    for turn, ans in reversed(answered):
        cites = list(ans.get("citations") or [])
        label = "Closest passages (not used in an answer)" if ans.get("abstained") else (
            f"{len(cites)} source{'s' if len(cites) != 1 else ''}")
        parts.append(f'<details class="bk-turn" id="turn-{turn}"'
                     f'{" open" if turn == latest else ""}><summary>'
                     f'<span class="bk-turn-q">'
                     f'{_esc(clip_words(str(ans.get("question", "")), SHOWN_QUESTION_CHARS))}'
                     '</span>'
                     f'<span class="bk-turn-n">{label}</span></summary>')
        clip_at = 300 if ans.get("abstained") else None
        parts.extend(_card(c, turn, sources, clip_at) for c in cites)
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def plain_text(answer: Mapping[str, Any]) -> str:
    """The answer with its sources as plain text (what the copy button puts on the clipboard):
    tables as one line per row, a refusal's suggested questions, each source with its quote."""
    lines = [plain_tables(str(answer.get("answer", ""))).strip()]
    cites = list(answer.get("citations") or [])
    if answer.get("abstained") and answer.get("suggestions"):
        lines += ["", "You could ask:"] + [f"- {s}" for s in answer["suggestions"]]
    if cites:
        lines += ["", "Closest passages:" if answer.get("abstained") else "Sources:"]
        for c in cites:
            head = f"[{c.get('marker')}] {c.get('title') or c.get('doc')}"
            if c.get("section"):
                head += f" - {c['section']}"
            lines.append(head)
            text, start, end = str(c.get("text", "")), c.get("start"), c.get("end")
            if isinstance(start, int) and isinstance(end, int) and start < end:
                lines += [f"    {q}" for q in quote_lines(text, start, end)]
    return "\n".join(lines)
