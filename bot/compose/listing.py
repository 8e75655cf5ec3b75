"""List answers: the guide's own list, not fragments from several.

"What are the risks and how do I protect myself?", "walk me through how an engagement
runs", "give me a checklist": the answer is the one list (bullets, numbered steps, table
rows, sub-headings that each open with a sentence) that best matches the question - its
lead (the line that introduces it, the sentence before it, or its heading), then its items
in the guide's order, each shortened to its label and first sentence (table rows keep
their most relevant columns; the item that holds the question's best unit shows that unit
too), within the word budget; a longer list ends with "and N more"
naming the rest.

Which list, and whether a list at all: a small fitted model (`ListModel`, bot/list.json,
`python -m evals.calibrate lists ...`) scores every list among the ranked units by general
features - how well its best item scores against the best unit (relative: the unit
ranker's absolute probabilities run lower on a small corpus of the user's own, and with
them a list of returns steps lost to the threshold), how much of the question its heading
and lead cover, how many of the best units belong to it. Only a question that asks for a
list (`Question.shape`) is answered with one, by the best list when its probability clears the fitted threshold:
measured on dev and check, a list answer chosen for any other question lost more facts
than it gained.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest import Chunk
from ingest.text import sentence_spans, stems
from ingest.units import Unit, row_cells, table_header, units_of

from ..question import Question
from ..ranking import UNIT_FEATURES, Candidate
from ..retrieval import Hit
from ..vocab import Vocabulary
from .best import words_of
from .render import Line

__all__ = ["LIST_FEATURES", "LIST_WORD_BUDGET", "ListGroup", "ListModel", "Neighbour",
           "choose_list", "complete", "faq_lead", "list_features", "list_groups", "list_lines",
           "whole_lists"]

Neighbour = Callable[[Chunk, int], "Chunk | None"]
"""neighbour(chunk, d): the chunk d places after it in its document (None at the ends)."""

LIST_WORD_BUDGET = 120
MIN_ITEMS = 2
COMPETITIVE = 0.7
"""A list answers only when it holds the best unit, or its best item scores at least this
share of the best unit."""
TOP_UNITS = 6
"""How many of the best units `share_top` looks at."""
MODEL_PATH = Path(__file__).resolve().parent.parent / "list.json"
LIST_FEATURES = ("top_rel", "heading", "items", "share_top", "has_best", "rank",
                 "head_tokens", "faq_lead")
FAQ_MATCH = 0.8
"""A guide's FAQ question this similar to the user's (cosine) is the user's question: its
answer's first sentence opens the list ("Check domain experience, security, SLAs..." before
the checklist)."""
FAQ_FEATURE = UNIT_FEATURES.index("faq_match")
LEAD_WORDS = 45
"""A sentence outside the list opens it when it scores above every item and is this short."""
ITEM_WORDS = 30
"""An item longer than this shows its first sentence."""
NAME_WORDS = 6
"""An item left out of a long list is named in its "and N more: ..." by its label or opening
phrase when that is this short."""


@dataclass
class ListGroup:
    """The items of one list, in document order (one entry per bullet or row)."""

    items: list[list[Candidate]] = field(default_factory=list)
    """Each item's candidate units (a long bullet's sentences), in order."""

    @property
    def first(self) -> Candidate:
        return self.items[0][0]

    def score(self, i: int) -> float:
        return max(c.score for c in self.items[i])

    def units(self) -> list[Candidate]:
        return [c for item in self.items for c in item]


def list_groups(ranked: Sequence[Candidate]) -> list[ListGroup]:
    """Items and rows grouped by list: one chunk and heading, joined with the next chunk of
    the same section when a long list was split across chunks."""
    by_key: dict[tuple[str, str], dict[int, list[Candidate]]] = {}
    chunks = {}
    for c in ranked:
        u = c.unit
        if u.kind not in ("item", "row") or u.about_document:
            continue
        key = (u.chunk.chunk_id, _list_context(u))
        by_key.setdefault(key, {}).setdefault(u.line, []).append(c)
        chunks[key] = u.chunk
    order = sorted(by_key, key=lambda k: (chunks[k].doc_id, chunks[k].ordinal,
                                          min(by_key[k])))
    groups: list[ListGroup] = []
    prev = None
    for key in order:
        ch = chunks[key]
        items = [sorted(by_key[key][line], key=lambda c: c.unit.position)
                 for line in sorted(by_key[key])]
        if prev is not None and prev.doc_id == ch.doc_id and prev.ordinal + 1 == ch.ordinal \
                and prev.section == ch.section and groups and \
                key[1] == _list_context(groups[-1].first.unit):
            groups[-1].items.extend(items)
        else:
            groups.append(ListGroup(items))
        prev = ch
    return groups


def complete(g: ListGroup, neighbour: Neighbour | None, ranked: Sequence[Candidate]
             ) -> ListGroup:
    """The whole list: the items of the chunks before and after it that continue it (same
    document, section and heading) are added, even when they were not retrieved - a list
    split across chunks is answered whole."""
    if neighbour is None:
        return g
    first, last = g.first.unit, g.items[-1][0].unit
    known = {(c.unit.chunk.chunk_id, c.unit.position): c for c in ranked}
    before: list[list[Candidate]] = []
    after: list[list[Candidate]] = []
    for d, side, at in ((-1, before, first.chunk), (1, after, last.chunk)):
        ch = neighbour(at, d)
        while ch is not None and ch.section == at.section and ch.doc_id == at.doc_id:
            items = _items_of(ch, _list_context(first), known, ranked)
            if not items:
                break
            side[:0] = items if d < 0 else []
            side.extend(items if d > 0 else [])
            ch = neighbour(ch, d)
    return ListGroup(before + g.items + after) if before or after else g


def _items_of(chunk: Chunk, context: str, known: dict[tuple[str, int], Candidate],
              ranked: Sequence[Candidate]) -> list[list[Candidate]]:
    """The items and rows of a chunk under the heading `context`, as candidates (units that
    were not ranked score 0)."""
    rank = max((c.hit.rank for c in ranked), default=0) + 1
    hit = Hit(chunk=chunk, score=0.0, dense=0.0, lexical=0.0, rank=rank)
    by_line: dict[int, list[Candidate]] = {}
    for u in units_of(chunk):
        if u.kind not in ("item", "row") or _list_context(u) != context or u.about_document:
            continue
        c = known.get((chunk.chunk_id, u.position)) or Candidate(u, hit, (), 0.0, 0.0)
        by_line.setdefault(u.line, []).append(c)
    return [by_line[k] for k in sorted(by_line)]


def _list_context(u: Unit) -> str:
    """The heading of the list `u` is an item of: its line's first unit's context (a long
    bullet's later sentences carry the bullet's own label as their context)."""
    return _line_contexts(u.chunk).get(u.line, u.context)


@lru_cache(maxsize=100_000)
def _line_contexts(chunk: Chunk) -> dict[int, str]:
    """Each line of `chunk` -> the context of its first unit (cached per chunk, like
    `units_of`)."""
    out: dict[int, str] = {}
    for v in units_of(chunk):
        out.setdefault(v.line, v.context)
    return out


def _heading_cover(g: ListGroup, q: Question, vocab: Vocabulary) -> float:
    u = g.first.unit
    ch = u.chunk
    before = ch.text[:u.start]
    bag = vocab.widen(frozenset(stems(f"{ch.section} {ch.context} {u.context} "
                                      f"{before[-300:]}")))
    total = sum(q.terms.values()) or 1.0
    return sum(w for t, w in q.terms.items() if t in bag) / total


def faq_lead(ranked: Sequence[Candidate]) -> Candidate | None:
    """The first sentence of a guide's answer to the user's own question (a FAQ question
    at least `FAQ_MATCH` similar to it: the unit ranker's `faq_match`), if short."""
    best: Candidate | None = None
    for c in ranked:
        u = c.unit
        if u.kind == "sentence" and not u.about_document and u.context.endswith("?") and \
                c.features and c.features[FAQ_FEATURE] >= FAQ_MATCH and \
                words_of(u.text) <= LEAD_WORDS and (
                    best is None or c.features[FAQ_FEATURE] > best.features[FAQ_FEATURE] or
                    (u.context == best.unit.context and u.position < best.unit.position)):
            best = c
    if best is None:
        return None
    first = min((c for c in ranked if c.unit.chunk.chunk_id == best.unit.chunk.chunk_id
                 and c.unit.context == best.unit.context and c.unit.kind == "sentence"),
                key=lambda c: c.unit.position)
    return first if words_of(first.unit.text) <= LEAD_WORDS else best


def list_features(g: ListGroup, q: Question, ranked: Sequence[Candidate], vocab: Vocabulary,
                  faq: Candidate | None = None) -> tuple[float, ...]:
    """`LIST_FEATURES` of one (whole) list for one question; `faq`: the FAQ lead, if any."""
    lead = _before(g, ranked)
    s = sorted([g.score(i) for i in range(len(g.items))] + ([lead.score] if lead else []),
               reverse=True)
    members = _members(g, lead)
    top_units = ranked[:TOP_UNITS]
    best = ranked[0].score if ranked else 1.0
    return (s[0] / (best or 1.0), _heading_cover(g, q, vocab),
            min(len(g.items), 10) / 10.0,
            sum(id(c) in members for c in top_units) / max(1, len(top_units)),
            float(bool(ranked) and id(ranked[0]) in members),
            1.0 / (1 + min(c.hit.rank for c in g.units())),
            max(c.hit.heading_tokens for c in g.units()),
            float(faq is not None and id(faq) not in members and not _under(g, faq)))


@dataclass(frozen=True)
class ListModel:
    """Logistic model over `LIST_FEATURES`: P(this list is the answer)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def default(cls) -> ListModel:
        if MODEL_PATH.is_file():
            data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
            if tuple(data.get("features", ())) == LIST_FEATURES:
                return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]))
        hand = {"top_rel": 3.0, "heading": 1.0, "share_top": 2.0, "has_best": 1.0}
        return cls(tuple(hand.get(f, 0.0) for f in LIST_FEATURES), -2.0, 0.5)

    def save(self, path: Path = MODEL_PATH, **extra: object) -> None:
        path.write_text(json.dumps({"features": LIST_FEATURES, "weights": list(self.weights),
                                    "bias": self.bias, "threshold": self.threshold, **extra},
                                   indent=1) + "\n", encoding="utf-8")


    def probability(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def choose_list(q: Question, ranked: Sequence[Candidate], vocab: Vocabulary,
                model: ListModel, neighbour: Neighbour | None = None) -> ListGroup | None:
    """The (whole) list that answers the question, or None (see the module docstring)."""
    if not ranked or q.shape != "list":
        return None
    faq = faq_lead(ranked)
    best: tuple[float, ListGroup | None] = (-1.0, None)
    for group in whole_lists(ranked, neighbour):
        p = model.probability(list_features(group, q, ranked, vocab, faq))
        if p > best[0]:
            best = (p, group)
    chosen = best[1]
    if chosen is None or best[0] < model.threshold:
        return None
    top = max(c.score for c in chosen.units())
    if id(ranked[0]) not in _members(chosen, _before(chosen, ranked)) and \
            top < COMPETITIVE * ranked[0].score:
        return None  # a unit outside every list answers better
    return chosen


def whole_lists(ranked: Sequence[Candidate], neighbour: Neighbour | None
                ) -> list[ListGroup]:
    """The lists among the ranked units, each completed from its neighbouring chunks, each
    once (two retrieved chunks of one list are one list)."""
    out: list[ListGroup] = []
    seen: set[tuple[str, int]] = set()
    for g in list_groups(ranked):
        w = complete(g, neighbour, ranked)
        key = (w.first.unit.chunk.chunk_id, w.first.unit.position)
        if len(w.items) >= MIN_ITEMS and key not in seen:
            seen.add(key)
            out.append(w)
    return out


def _intro(g: ListGroup) -> tuple[str, tuple[int, int]] | None:
    """The line right before the list in its chunk when it introduces it ("...:")."""
    u = g.first.unit
    text = u.chunk.text
    line_start = text.rfind("\n", 0, u.line) if u.line > 0 else -1
    if line_start < 0:
        return None
    prev_end = line_start
    prev_start = text.rfind("\n", 0, prev_end) + 1
    while prev_start < prev_end and not text[prev_start:prev_end].strip() and prev_start > 0:
        prev_end = prev_start - 1
        prev_start = text.rfind("\n", 0, prev_end) + 1
    line = text[prev_start:prev_end].strip()
    if line.endswith(":") and prev_start >= u.chunk.prefix and len(line.split()) <= LEAD_WORDS:
        a = prev_start + (len(text[prev_start:prev_end]) - len(text[prev_start:prev_end].lstrip()))
        return line, (a, a + len(line))
    return None


def _lead(g: ListGroup, ranked: Sequence[Candidate]) -> Line | None:
    """What opens the list: a guide's own answer to the user's question (`faq_lead`); else
    a sentence outside the list that answers the whole question better than any item; else
    the line that introduces it; else the sentence just before it."""
    before = _before(g, ranked)
    members = _members(g, before)
    faq = faq_lead(ranked)
    if faq is not None and id(faq) not in members:
        return Line(faq.unit.text, faq)
    best_item = max(c.score for c in g.units())
    for c in ranked:
        if c.score <= best_item:
            break
        if id(c) not in members and c.unit.kind == "sentence" and not c.unit.about_document \
                and words_of(c.unit.text) <= LEAD_WORDS:
            return Line(c.unit.text, c)
    intro = _intro(g)
    if intro is not None:
        return Line(intro[0], g.first, spans=(intro[1],))
    return Line(before.unit.text, before) if before is not None else None


def _members(g: ListGroup, before: Candidate | None) -> set[int]:
    """Ids of the list's units, and of the sentence that introduces it (`_before`): it
    belongs to the list."""
    return {id(c) for c in g.units()} | ({id(before)} if before is not None else set())


def _under(g: ListGroup, c: Candidate) -> bool:
    """Is the list under the heading `c` is under (the list that follows a guide's own
    answer to the question, under its FAQ heading "How does BPO work?")?"""
    a, b = g.first.unit, c.unit
    return a.chunk.doc_id == b.chunk.doc_id and a.chunk.section == b.chunk.section


def _before(g: ListGroup, ranked: Sequence[Candidate]) -> Candidate | None:
    """The short sentence just before the list's first item in its chunk ("The BPO process
    follows a consistent model..." before "1. Process Identification: ..."), if ranked."""
    u = g.first.unit
    before = next((c for c in ranked if c.unit.chunk.chunk_id == u.chunk.chunk_id
                   and c.unit.position == u.position - 1 and c.unit.kind == "sentence"
                   and not c.unit.about_document), None)
    return before if before is not None and words_of(before.unit.text) <= LEAD_WORDS else None


def _item_text(item: list[Candidate], columns: list[int] | None
               ) -> tuple[str, tuple[int, int]]:
    """An item as shown: a row by its name and chosen columns; a bullet by its label and
    first sentence (the whole of a short one)."""
    first = item[0].unit
    if first.kind == "row":
        cells = row_cells(first)
        header = table_header(first.chunk)
        keep = columns if columns is not None else list(range(1, len(cells)))
        if header and len(header) == len(cells):
            parts = [f"{cells[0]}: {cells[keep[0]]}" if keep else cells[0]]
            parts += [f"{header[i].strip().lower()}: {cells[i]}" for i in keep[1:] if cells[i]]
            return "; ".join(p.rstrip(".; ") for p in parts) + ".", (first.start, first.end)
        return first.text, (first.start, first.end)
    whole = " ".join(c.unit.text for c in item)
    label = first.label
    text = whole
    span = (first.start, item[-1].unit.end)
    if words_of(whole) > ITEM_WORDS:
        text = first.text
        span = (first.start, first.end)
        if words_of(text) > ITEM_WORDS:
            spans = list(sentence_spans(text))
            if spans:
                text = text[spans[0][0]:spans[0][1]]
                span = (first.start + spans[0][0], first.start + spans[0][1])
    return _with_label(text, label), span


def _with_label(text: str, label: str) -> str:
    """`text` after its item's label ("Security: ..."), unless it opens with the label."""
    return f"{label}: {text}" if label and label.lower() not in text.lower()[:len(label) + 20] \
        else text


def _columns(g: ListGroup, q: Question,
             similarity: Callable[[str, list[str]], list[float]] | None
             ) -> list[list[int] | None]:
    """The column choices to try for a table list, widest first: every column, then
    without the one least related to the question, one at a time (the row's name and its
    first column always stay). [None] for a bullet list: its items are shown as they are."""
    header = table_header(g.first.unit.chunk)
    if g.first.unit.kind != "row" or len(header) < 3:
        return [None]
    cols = list(range(1, len(header)))
    sims = similarity(q.dense or q.query, [header[i] for i in cols]) if similarity else \
        [0.0] * len(cols)
    rel = dict(zip(cols, sims, strict=True))
    choices: list[list[int] | None] = [cols]
    rest = sorted(cols[1:], key=lambda i: rel[i])
    while rest:
        rest.pop(0)
        choices.append([cols[0], *sorted(rest)])
    return choices


def list_lines(g: ListGroup, q: Question, ranked: Sequence[Candidate],
               similarity: Callable[[str, list[str]], list[float]] | None = None,
               budget: int = LIST_WORD_BUDGET) -> list[Line]:
    """The answer's lines for list `g`: its lead, then as many items (in order) as the
    budget holds, at the widest column choice that fits the most, then "and N more". The
    item that holds the question's best unit is always shown, with that unit: when the
    budget would end the list before it, it takes the place of the items before it that
    do not fit ("the toughest criterion on the checklist" is its last item)."""
    lead = _lead(g, ranked)
    lead_words = words_of(lead.text) if lead else 0
    focus = ranked[0] if ranked else None
    at = next((i for i, item in enumerate(g.items) if any(c is focus for c in item)), None)
    best: tuple[int, list[tuple[int, Line]]] = (-1, [])
    for cols in _columns(g, q, similarity):
        shown = [(i, _item_line(item, cols, focus if i == at else None))
                 for i, item in enumerate(g.items)]
        lines: list[tuple[int, Line]] = []
        words = lead_words
        for i, line in shown:
            if lines and words + words_of(line.text) > budget:
                break
            lines.append((i, line))
            words += words_of(line.text)
        if at is not None and at >= len(lines):
            need = words_of(shown[at][1].text)
            while lines and words + need > budget:
                words -= words_of(lines.pop()[1].text)
            lines.append(shown[at])
        if len(lines) > best[0]:
            best = (len(lines), lines)
        if len(lines) == len(g.items):
            break
    picked = _with_more_said(best[1], g, ranked, budget - lead_words)
    out = [line for _, line in picked]
    kept = {i for i, _ in picked}
    rest = [item for i, item in enumerate(g.items) if i not in kept]
    if rest:
        names = [_item_name(it) for it in rest]
        names = [n for n in names if n]
        tail = f"and {len(rest)} more" + (f": {', '.join(names)}" if len(names) == len(rest)
                                          else "")
        last = rest[-1][0]
        out.append(Line(tail, rest[0][0], spans=((rest[0][0].unit.start, last.unit.end),),
                        bullet=True))
    return ([lead] if lead else []) + out


def _with_more_said(lines: list[tuple[int, Line]], g: ListGroup,
                    ranked: Sequence[Candidate], budget: int) -> list[tuple[int, Line]]:
    """The shown items' lines, each with the later sentences of it that rank among the
    question's best units (`TOP_UNITS`) added while the budget has room: "CFO: Primary
    financial decision-maker. CFO concerns: total cost of ownership..." for "what does the
    CFO care about?" (an item is shown by its first sentence)."""
    words = sum(words_of(line.text) for _, line in lines)
    out = list(lines)
    for c in ranked[:TOP_UNITS]:
        at = next((k for k, (i, _) in enumerate(out) if any(u is c for u in g.items[i])), None)
        if at is None:
            continue
        i, line = out[at]
        shown = line.spans or ((line.source.unit.start, line.source.unit.end),)
        if c.unit.chunk is not line.source.unit.chunk or \
                any(a <= c.unit.start and c.unit.end <= b for a, b in shown):
            continue  # already shown (or, for a list split across chunks, another passage)
        n = words_of(c.unit.text)
        if words + n > budget:
            continue
        out[at] = (i, Line(f"{line.text} {c.unit.text}", line.source,
                           spans=tuple(sorted([*shown, (c.unit.start, c.unit.end)])),
                           bullet=line.bullet))
        words += n
    return out


def _item_name(item: list[Candidate]) -> str:
    """What "and N more: ..." calls an item: its label ("RPO"), or its opening sentence when
    that is a short phrase ("Talent & turnover. How do they hire ..."); "" for neither."""
    u = item[0].unit
    name = u.label
    if not name:
        first = next(sentence_spans(u.text), None)
        name = u.text[first[0]:first[1]] if first else ""
    name = re.sub(r"\s+", " ", name.strip()).rstrip(".:;")
    return name if name and len(name.split()) <= NAME_WORDS else ""


def _item_line(item: list[Candidate], columns: list[int] | None,
               focus: Candidate | None) -> Line:
    """One item's bullet; `focus`, a later sentence of it that is the question's best unit,
    is shown after its first ("RPO: ... RPO SLAs typically cover time-to-fill, ...")."""
    text, span = _item_text(item, columns)
    spans = [span]
    if focus is not None and not (span[0] <= focus.unit.start and focus.unit.end <= span[1]):
        if focus.unit.start <= span[0] and span[1] <= focus.unit.end:
            # the item was cut to its first sentence, and the best unit is the whole item:
            # show it once, whole (not its first sentence and then all of it again)
            text = _with_label(focus.unit.text, item[0].unit.label)
            spans = [(focus.unit.start, focus.unit.end)]
        else:
            text = f"{text} {focus.unit.text}"
            spans.append((focus.unit.start, focus.unit.end))
    return Line(text, item[0], spans=tuple(spans), bullet=True)
