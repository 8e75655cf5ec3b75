"""The extractive answerer: choose the few units (sentences, list items, table rows) that best
answer the question, across the retrieved passages, and cite each one.

1. Every unit of the retrieved passages is scored by the unit ranker (bot/ranking.py).
2. The answer starts from the best unit and adds units that are nearly as good or that cover
   terms of the question still uncovered, under a word budget, skipping near-repeats.
3. Shapes: a comparison ("X vs Y") gets both sides; a list question ("what are the types...")
   gets the items of the best list or table, in order; a "how much/how many" question whose
   passages give different figures for the same thing gets each figure, with a note that the
   guides differ.
4. Units of one passage stay together, in passage order; each passage gets one marker [n]
   and its citation records the span the answer used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass

from ingest.text import sentence_spans, stems
from ingest.units import Unit, table_header, units_of

from .answer import Citation
from .lexicon import asked_figures, concept, concepts, figure_kinds
from .query import without_situation
from .ranking import DEFINES, Candidate, UnitRanker, candidates
from .retrieval import Hit
from .shape import Shape, question_shape, side_stems

__all__ = ["Composition", "compose", "query_terms", "rank_units"]

WORD_BUDGET = 120
"""Soft limit on the words of an answer."""
LIST_WORD_BUDGET = 120
"""Soft limit for list answers."""
MAX_LIST_ITEMS = 8
LEAD_WORDS = 45
"""A list answer opens with the best sentence outside the list if it scores above every item
and is at most this long ("Check domain experience, security, SLAs..." before the steps)."""
SIDE_FLOOR = 0.3
"""A unit scoring under this share of the best is not brought in to cover a side."""
NAME_WEIGHT = 1.5
"""A name in the question weighing this much (idf) is specific ("India"; not "BPO"): a
figure question about it takes its figure from a unit that names it."""
NAMED_LEAD = 0.3
"""A unit naming the place or company a question is about leads when it scores this share
of the best unit (acronyms - KPO, SLA, RPA - are not names here: they name the topic)."""
FLOOR = 0.0
"""Units scoring under this share of the best unit's score are never added."""
STRONG = 0.0
"""Units scoring at least this share of the best are added (budget permitting)."""
NOVEL = 0.15
"""Other units are added when they cover this much of the question's still-uncovered terms."""
SAME_PASSAGE = 0.7
"""A unit of a passage the answer already uses competes at this share of its score."""
@dataclass(frozen=True)
class Composition:
    """An extractive answer before it is wrapped into an `Answer`."""

    text: str
    citations: tuple[Citation, ...]
    units: tuple[Unit, ...]
    disagreement: bool = False


def query_terms(query: str, idf: Callable[[str], float]) -> dict[str, float]:
    """Weighted content stems of a (standalone) query: rarer terms weigh more; terms added
    by acronym expansion weigh half."""
    from .query import expand_query

    base = set(stems(query))
    weights: dict[str, float] = {}
    for s in stems(expand_query(query)):
        w = idf(s) * (1.0 if s in base else 0.5)
        weights[s] = max(weights.get(s, 0.0), w)
    return weights


_RANKER: UnitRanker | None = None


def rank_units(question: str, query: str, hits: Sequence[Hit], idf: Callable[[str], float],
               ranker: UnitRanker | None = None) -> list[Candidate]:
    """All units of the passages, scored for the question, best first."""
    global _RANKER
    if ranker is None:
        if _RANKER is None:
            _RANKER = UnitRanker.default()
        ranker = _RANKER
    shape = question_shape(question)
    scored = ranker.score(candidates(hits, query_terms(query, idf), shape, question))
    return [c for c in scored if not c.unit.about_document] or scored


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _words(text: str) -> int:
    return len(text.split())


def compose(question: str, query: str, hits: Sequence[Hit], idf: Callable[[str], float],
            *, max_sentences: int = 4, ranker: UnitRanker | None = None,
            ranked: list[Candidate] | None = None) -> Composition:
    """Build a short answer with inline `[n]` markers from the retrieved passages
    (`ranked`: the units already scored by `rank_units`, to avoid scoring them twice)."""
    shape = question_shape(question)
    terms = query_terms(query, idf)
    if ranked is None:
        ranked = rank_units(question, query, hits, idf, ranker)
    if not ranked:
        return Composition("", (), ())
    picked: list[Candidate] = []
    disagreement = False
    list_mode = False
    lead: Candidate | None = None
    if shape.kind == "list":
        picked = _pick_list(ranked, shape)
        list_mode = bool(picked)
        best = ranked[0]
        if list_mode:
            lead = _faq_answer(question, ranked, picked)
        if list_mode and lead is None and best not in picked and best.unit.kind == "sentence" \
                and best.score > max(c.score for c in picked) and \
                _words(best.unit.text) <= LEAD_WORDS:
            lead = best  # a sentence that answers the whole question opens the list
    key: list[str] = []
    if not picked and (shape.wants_number or asked_figures(question)):
        picked, disagreement, key = _pick_figures(question, ranked, max_sentences, terms)
    if not picked and shape.kind == "comparison":
        picked = _side_by_side(ranked, shape)
    if not picked and shape.kind != "comparison" and not list_mode:
        key, picked = _named_lead(question, ranked, terms)
    if not list_mode:
        pool = [c for c in ranked if _names_all(c, key)] if key and picked else ranked
        picked = _pick_greedy(pool, terms, max_sentences, picked)
    if shape.kind == "comparison" and not list_mode:
        picked = _cover_sides(picked, ranked, shape, max_sentences)
    if not list_mode:
        picked = _backfill_antecedents(picked, ranked)
    leads = _backfill_antecedents([lead], ranked) if lead is not None else []
    return _render(leads + picked, shape, disagreement, list_mode, leads=len(leads))


_ANAPHORIC = re.compile(r"^(?:this|that|these|those|it|its|they|their|such|both|the latter|"
                        r"the former|the last point|the first|the same|"
                        r"here(?!\s+(?:is|are)\b)|there(?!\s+(?:is|are|was|were|will|has|have|"
                        r"may|might|can|could|should|would|must)\b))\b", re.I)
"""Openings that lean on the sentence before ("This...", "It..."), not the existential
"There is/are/will be" of a self-contained sentence."""


def _backfill_antecedents(picked: list[Candidate], ranked: list[Candidate]) -> list[Candidate]:
    """A picked sentence that opens with "This", "It", "The last point"... needs the sentence
    before it to make sense: add that sentence (from the same passage) right before it."""
    by_pos = {(c.unit.chunk.chunk_id, c.unit.position): c for c in ranked}
    out = list(picked)
    for c in picked:
        if c.unit.kind == "row" or not _ANAPHORIC.match(c.unit.text.lstrip("\"'\u201c(")):
            continue
        prev = by_pos.get((c.unit.chunk.chunk_id, c.unit.position - 1))
        if prev is not None and prev not in out and prev.unit.kind != "row":
            out.insert(out.index(c), prev)
    return out


def _context_stems(c: Candidate) -> frozenset[str]:
    return c.unit.stems | c.unit.label_stems


FAQ_MATCH = 0.8
"""Share of a FAQ question's content words the user's question must contain for the FAQ's
answer to be the answer to it ("How do I choose a BPO provider?" in the guides' FAQ)."""
FAQ_RANK = 3
"""...and the FAQ must be among this many best passages."""


def _faq_answer(question: str, ranked: list[Candidate], picked: Sequence[Candidate]
                ) -> Candidate | None:
    """The opening sentence of a guide's FAQ answer whose question is the user's own (its
    content words nearly all in the user's question), when short: it answers the question
    as a whole, so it opens a list answer ("Check domain experience, security, SLAs..."
    before the steps)."""
    asked = set(stems(question))
    listed = {p.unit.chunk.chunk_id for p in picked}
    for c in ranked:
        u = c.unit
        if u.chunk.kind != "faq" or c.hit.rank >= FAQ_RANK or u.kind != "sentence" or \
                u.chunk.chunk_id in listed or _words(u.text) > LEAD_WORDS or \
                not u.context.endswith("?"):
            continue  # (a FAQ whose answer is the list itself only leads into it)
        faq = set(stems(u.context))
        if len(faq) < 2 or len(faq & asked) < FAQ_MATCH * len(faq):
            continue
        if u.position == min(x.unit.position for x in ranked
                             if x.unit.chunk.chunk_id == u.chunk.chunk_id):
            return c
    return None


def _pick_greedy(ranked: list[Candidate], terms: dict[str, float], max_units: int,
                 start: Sequence[Candidate] = ()) -> list[Candidate]:
    """Add the best units under the word budget, skipping near-repeats. A unit from a passage
    the answer already uses competes at `SAME_PASSAGE` of its score: another passage's
    nearly-as-good point serves a reader better than a fourth sentence of the first one, and
    shows where the other guides say it."""
    picked = list(start) or [ranked[0]]
    first = ranked[0]
    covered: set[str] = set().union(*(_context_stems(c) for c in picked))
    words = sum(_words(c.unit.text) for c in picked)
    total = sum(terms.values()) or 1.0
    rest = [c for c in ranked if c not in picked and c.score >= first.score * FLOOR]
    while rest and len(picked) < max_units:
        used = {p.unit.chunk.chunk_id for p in picked}
        c = max(rest, key=lambda c: c.score * (SAME_PASSAGE if c.unit.chunk.chunk_id in used
                                               else 1.0))
        rest.remove(c)
        n = _words(c.unit.text)
        if words + n > WORD_BUDGET:
            continue
        if any(_similar(c.unit.stems, p.unit.stems) >= 0.6 for p in picked):
            continue
        new = sum(w for t, w in terms.items() if t in c.unit.stems and t not in covered) / total
        strong = c.score >= first.score * STRONG
        if strong or new >= NOVEL or (_adjacent(c, picked) and c.score >= first.score * 0.5):
            picked.append(c)
            covered |= _context_stems(c)
            words += n
    return picked


def _adjacent(c: Candidate, picked: Sequence[Candidate]) -> bool:
    """Is `c` the sentence right before or after a picked unit of the same passage?"""
    return any(p.unit.chunk.chunk_id == c.unit.chunk.chunk_id
               and abs(p.unit.position - c.unit.position) == 1 for p in picked)


def _list_groups(ranked: list[Candidate]) -> list[list[Candidate]]:
    """Items and rows grouped by list: one chunk, joined with the next chunk of the same
    section when a long list was split across chunks."""
    by_chunk: dict[str, list[Candidate]] = {}
    for c in ranked:
        if c.unit.kind in ("item", "row"):
            by_chunk.setdefault(c.unit.chunk.chunk_id, []).append(c)
    chunks = {cid: items[0].unit.chunk for cid, items in by_chunk.items()}
    order = sorted(chunks, key=lambda cid: (chunks[cid].doc_id, chunks[cid].ordinal))
    groups: list[list[Candidate]] = []
    prev = None
    for cid in order:
        ch = chunks[cid]
        items = sorted(by_chunk[cid], key=lambda c: c.unit.position)
        if prev is not None and prev.doc_id == ch.doc_id and prev.ordinal + 1 == ch.ordinal \
                and prev.section == ch.section and groups:
            groups[-1].extend(items)
        else:
            groups.append(items)
        prev = ch
    return groups


def _pick_list(ranked: list[Candidate], shape: Shape) -> list[Candidate]:
    """For 'what are the types/steps/...': the items of the best list or table whose heading
    or intro names the thing asked for ("Risks - and how to manage them"), in order."""
    top = ranked[0].score
    best: list[Candidate] = []
    best_strength = 0.0
    wanted = set(shape.list_terms)
    for items in _list_groups(ranked):
        if len(items) < 3:
            continue
        chunk = items[0].unit.chunk
        lead = " ".join(u.text for u in units_of(chunk)
                        if u.kind == "sentence" and u.position < items[0].unit.position)
        heading = set(stems(f"{chunk.section} {chunk.context} {items[0].unit.context} {lead}"))
        if wanted and not wanted & heading:
            continue
        scores = sorted((i.score for i in items), reverse=True)
        strength = 0.6 * scores[0] + 0.4 * sum(scores[:3]) / 3
        if strength > best_strength:
            best, best_strength = items, strength
    if not best or max(c.score for c in best) < top * 0.6:
        return []
    chosen: list[Candidate] = []
    words = 0
    for c in best:
        n = _words(_list_text(c.unit))
        if chosen and (len(chosen) >= MAX_LIST_ITEMS or words + n > LIST_WORD_BUDGET):
            break
        chosen.append(c)
        words += n
    return chosen


def _list_text(u: Unit) -> str:
    """A list item as shown in a list answer: rows by their first two columns, long items
    by their first sentence."""
    if u.kind == "row":
        parts = u.text.split("; ")
        return parts[0].replace(" \u2014 ", ": ", 1).rstrip(".") + "."
    text = u.text
    if _words(text) > 30:
        first = next(iter(sentence_spans(text)), None)
        if first:
            text = text[first[0]:first[1]]
    return text


_EXTRACT: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"\$\s?\d[\d,.]*\s?(?:billion|million|trillion|bn|[bmk]\b)?\+?", re.I),
    "count": re.compile(r"\d[\d,.]*\s?(?:m|k|million|thousand)?\+?(?=\s+(?:[a-z/-]+\s+){0,2}?"
                        r"(?:employees|professionals|people|staff|agents|workers|ftes?|gccs)\b)|"
                        r"\d+(?:\.\d+)?m\b|\b(?:one|two|three|\d+) million\b", re.I),
    "percent": re.compile(r"\d[\d.]*\s?(?:[-\u2013]\s?\d[\d.]*\s?)?%", re.I),
    "duration": re.compile(r"\d+\s?(?:[-\u2013]|to)?\s?\d*\s?(?:months?|years?|weeks?|days?|hours?|"
                           r"minutes?)\b", re.I),
    "year": re.compile(r"\b(?:19|20)\d{2}\b"),
}
_FIGURE_CONCEPTS = {"SIZE", "COST", "PEOPLE", "DURATION", "REVENUE", "GROWTH", "SAVING"}


def _figure_values(text: str, kinds: Set[str]) -> set[str]:
    """The figures of the asked kinds a text gives, normalised for comparison."""
    out: set[str] = set()
    for k in kinds:
        pattern = _EXTRACT.get(k)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            v = m.group(0).lower().replace("billion", "b").replace("million", "m")
            v = v.replace("bn", "b").replace("thousand", "k").replace("\u2013", "-")
            out.add(re.sub(r"[^0-9a-z$%.-]", "", v).rstrip(".-"))
    return out


def _subject_coverage(c: Candidate, terms: dict[str, float]) -> float:
    """How much of what the question is about (not the kind of figure it asks: size, cost,
    people...) the unit and its heading cover."""
    subject = {t: w for t, w in terms.items() if concept(t) not in _FIGURE_CONCEPTS}
    if not subject:
        return 1.0
    bag = concepts(_context_stems(c))
    return sum(w for t, w in subject.items() if t in bag or concept(t) in bag) / sum(
        subject.values())


def _has_rarest(c: Candidate, terms: dict[str, float], names: Sequence[str] = ()) -> bool:
    """Does the unit (with its heading) name what the question asks a figure of - its first
    name or acronym ("KPO" in "how much does offshore KPO cost"), else its rarest word?"""
    subject = {t: w for t, w in terms.items() if concept(t) not in _FIGURE_CONCEPTS}
    named = [t for t in names if t in subject]
    if named:
        rarest = named[0]
    elif subject:
        rarest = max(subject, key=lambda t: subject[t])
    else:
        return True
    bag = concepts(_context_stems(c))
    return rarest in bag or concept(rarest) in bag


def _named_lead(question: str, ranked: list[Candidate], terms: dict[str, float]
                ) -> tuple[list[str], list[Candidate]]:
    """A question about a named place or company ("Is outsourcing to the Philippines a good
    idea?") is answered from units that name it, the best of them first, when one scores at
    least `NAMED_LEAD` of the best unit. Returns the names' stems and the lead (or nothing)."""
    key = [t for t in _names(question, acronyms=False) if terms.get(t, 0.0) >= NAME_WEIGHT]
    named = next((c for c in ranked if key and _names_all(c, key)), None)
    if named is None or named.score < ranked[0].score * NAMED_LEAD:
        return [], []
    return key, [named]


def _names(question: str, *, acronyms: bool = True) -> list[str]:
    """Stems of the capitalised words of a question (not its first word) and, unless
    `acronyms` is false, of its acronyms (wherever they stand). Where the asker is ("We're in
    Germany.") is not a name the answer must hold."""
    question = without_situation(question)
    if not acronyms:
        return [t for m in re.finditer(r"\b[A-Z][a-z]+[A-Za-z]*\b", question) if m.start() > 0
                for t in stems(m.group(0))]
    return [t for m in re.finditer(r"\b[A-Z][A-Za-z&]+\b", question) if m.start() > 0
            or m.group(0).isupper() for t in stems(m.group(0))]


def _names_all(c: Candidate, names: Sequence[str]) -> bool:
    """Does the unit (with its heading and label) name every one of `names`?"""
    bag = concepts(_context_stems(c))
    return all(t in bag or concept(t) in bag for t in names)


def _pick_figures(question: str, ranked: list[Candidate], max_units: int,
                  terms: dict[str, float]) -> tuple[list[Candidate], bool, list[str]]:
    """For 'how much/how many/how long': the best unit giving a figure of the asked kind,
    plus units of other passages that give a different figure for the same thing (they cover
    the question about as well) - the guides do not always agree. When the question names
    something specific ("India"), only units naming it give figures, and those names are
    returned so that the rest of the answer keeps to them too."""
    kinds: Set[str] = asked_figures(question) - {"number"} or \
        frozenset({"money", "count", "percent", "duration"})
    with_fig = [c for c in ranked[:40] if _figure_values(c.unit.text, kinds)]
    names = _names(question)
    # "how many people work in BPO in India?": a figure of a unit that names India first
    key = [t for t in names if terms.get(t, 0.0) >= NAME_WEIGHT]
    named = [c for c in with_fig if key and _names_all(c, key)]
    if named:
        with_fig = named + [c for c in with_fig if c not in named]
    elif not with_fig or with_fig[0].score < ranked[0].score * 0.5:
        return [], False, []
    top = with_fig[0]
    picked = [top]
    # compare figures of one kind: the first of money, count, percent, duration the best
    # unit gives ("$280B in 2024" is about money; its "2024" and "8.5%" are not the answer)
    top_kinds = figure_kinds(top.unit.text) & kinds
    primary = next((k for k in ("money", "count", "percent", "duration", "year")
                    if k in top_kinds), None)
    kinds = {primary} if primary else kinds
    top_kinds = set(kinds)
    seen = _figure_values(top.unit.text, kinds)
    top_subject = _subject_coverage(top, terms)
    differing = False
    words = _words(top.unit.text)
    for c in with_fig[1:]:
        if len(picked) >= max_units:
            break
        if named and c not in named:
            continue  # another country's or company's figure answers another question
        if _subject_coverage(c, terms) < top_subject * 0.85 or c.score < top.score * 0.05:
            continue
        if c.unit.chunk.chunk_id == top.unit.chunk.chunk_id and \
                abs(c.unit.position - top.unit.position) > 1:
            continue
        if any(_similar(c.unit.stems, p.unit.stems) >= 0.6 for p in picked):
            continue
        figs = _figure_values(c.unit.text, kinds)
        if not figs or figs <= seen:
            continue
        if words + _words(c.unit.text) > WORD_BUDGET + 30:
            continue
        picked.append(c)
        # "the guides differ" only for another passage's figure of the same kind, on a unit
        # that matches the question as closely as the first one
        if (c.unit.chunk.chunk_id != top.unit.chunk.chunk_id
                and figure_kinds(c.unit.text) & top_kinds and _has_rarest(c, terms, names)):
            differing = True
        seen |= figs
        words += _words(c.unit.text)
    return picked, differing, key if named else []


def _labels_side(label: str, side: Sequence[str]) -> bool:
    from .shape import Shape

    return Shape("comparison", sides=(tuple(side),)).sides_labelled([label]) > 0


def _side_by_side(ranked: list[Candidate], shape: Shape) -> list[Candidate]:
    """For "X vs Y": the rows (or items) of one passage labelled X and Y - a comparison
    table answers side by side - from the passage whose labelled units score best; or, in a
    table with a column for X and one for Y, its best row; none when no passage labels
    every side."""
    by_chunk: dict[str, list[Candidate]] = {}
    for c in ranked:
        if c.unit.label:
            by_chunk.setdefault(c.unit.chunk.chunk_id, []).append(c)
    columns = next((c for c in ranked if c.unit.kind == "row" and
                    shape.sides_labelled(list(table_header(c.unit.chunk))) >= 1.0), None)
    best: list[Candidate] = [columns] if columns is not None else []
    best_key = (0, sum(c.score for c in best))
    for units in by_chunk.values():
        rows = []
        for side in shape.sides:
            row = next((c for c in units if _labels_side(c.unit.label, side)), None)
            if row is None or row in rows:
                break
            # an item split into sentences: its first sentence says what the side is
            row = min((c for c in units if c.unit.label == row.unit.label),
                      key=lambda c: c.unit.position)
            rows.append(row)
        else:
            # rows labelled by the side itself ("Offshore") before rows whose label only
            # mentions it ("India (offshore)")
            exact = sum(1 for c, side in zip(rows, shape.sides, strict=True)
                        if set(side_stems(c.unit.label)) <= set(side))
            key = (exact, sum(c.score for c in rows))
            if key > best_key:
                best, best_key = rows, key
    return best


def _cover_sides(picked: list[Candidate], ranked: list[Candidate], shape: Shape,
                 max_units: int) -> list[Candidate]:
    """Make sure each side of 'X vs Y' is covered by some picked unit."""
    out = list(picked)
    for side in shape.sides:
        need = set(side)
        labelled = [c for c in ranked if c.unit.label and _labels_side(c.unit.label, side)
                    and c.score >= ranked[0].score * SIDE_FLOOR]
        if labelled and not any(c in out for c in labelled):
            # a row or item labelled by the side ("BPO: Third-party vendor...") says what
            # it is; a sentence that only mentions it does not
            if len(out) >= max_units:
                out = out[:-1]
            out.append(labelled[0])
            continue
        if any(need & _context_stems(c) for c in out):
            continue
        for c in ranked:
            if need & _context_stems(c) and c not in out and c.score >= ranked[0].score * 0.3:
                if len(out) >= max_units:
                    out = out[:-1]
                out.append(c)
                break
    return out


def _render(picked: list[Candidate], shape: Shape, disagreement: bool, list_mode: bool,
            leads: int = 0) -> Composition:
    """The answer text and citations; in list mode the first `leads` units are sentences
    that open the list."""
    if not picked:
        return Composition("", (), ())
    order: list[Candidate] = []
    if list_mode:
        order = picked
    else:
        first = picked[0]
        if shape.kind == "definition":
            defs = [c for c in picked if c.features[DEFINES] > 0]
            if defs:
                first = defs[0]
        order.append(first)  # the best answer leads, then what its passage adds, in order
        for c in [first] + [c for c in picked if c is not first]:
            order.extend(sorted((t for t in picked if t.unit.chunk.chunk_id ==
                                 c.unit.chunk.chunk_id and t not in order),
                                key=lambda t: t.unit.position))
    markers: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    hits: dict[str, Hit] = {}
    parts: list[str] = []
    shown_label: tuple[str, str] = ("", "")
    for c in order:
        cid = c.unit.chunk.chunk_id
        if cid not in markers:
            markers[cid] = len(markers) + 1
            hits[cid] = c.hit
        text = _list_text(c.unit) if list_mode else c.unit.text.strip()
        start = c.unit.start
        end = c.unit.end if c.unit.kind == "row" or not list_mode else \
            c.unit.start + len(text) if c.unit.text.startswith(text) else c.unit.end
        spans.setdefault(cid, []).append((start, min(end, c.unit.end)))
        if c.unit.label and c.unit.label.lower() not in text.lower() and \
                (cid, c.unit.label) != shown_label:
            text = f"{c.unit.label}: {text}"  # once for consecutive sentences of one item
        shown_label = (cid, c.unit.label)
        if text and text[-1] not in ".!?":
            text += "."
        parts.append(f"{text} [{markers[cid]}]")
    if list_mode and leads and len(parts) > leads + 1:
        body = " ".join(parts[:leads]) + "\n" + "\n".join(f"- {p}" for p in parts[leads:])
    elif list_mode and len(parts) > 1:
        body = "\n".join(f"- {p}" for p in parts)
    else:
        body = " ".join(parts)
    if disagreement:
        body = "The guides give different figures on this. " + body
    citations = []
    for cid, n in markers.items():
        h = hits[cid]
        ss = spans[cid]
        citations.append(Citation(marker=n, doc=h.chunk.doc_id, title=h.chunk.title,
                                  section=h.chunk.section, text=h.chunk.text,
                                  start=min(a for a, _ in ss), end=max(b for _, b in ss),
                                  score=h.score, chunk_id=cid))
    return Composition(body, tuple(citations), tuple(c.unit for c in order), disagreement)
