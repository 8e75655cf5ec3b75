"""The extractive answerer: choose the few units (sentences, list items, table rows) that best
answer the question, across the retrieved passages, and cite each one.

Scoring a unit = how much of the question's weighted terms it (and its heading) covers,
plus how relevant its passage is, plus a bonus when it has the shape the question asks for
(a figure for "how much", a definition for "what is", list items for "what are the types").
Selection is greedy under a word budget, skipping near-repeats; comparisons make sure both
sides are covered; list questions return the list; different figures for the same thing are
all shown with a note that the guides differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.text import stems

from .answer import Citation
from .retrieval import Hit
from .shape import Shape, question_shape
from .units import Unit, units_of

__all__ = ["Composition", "compose", "query_terms"]

WORD_BUDGET = 95
"""Soft limit on answer words (a list answer may use up to LIST_WORD_BUDGET)."""
LIST_WORD_BUDGET = 130
_DEFINITIONAL = re.compile(r"\b(is|are|refers to|means|stands for|is defined as|involves|"
                           r"describes|covers)\b", re.I)
_FIGURE = re.compile(r"(?:\$\s?\d[\d,.]*\s*(?:[kmb]n?\b|billion|million|trillion)?|"
                     r"\d[\d,.]*\s*(?:%|percent|billion|million|[kmb]\b|months?|years?|weeks?|"
                     r"minutes?|hours?|employees|countries|fte)|\b(?:one|two|three|five|ten)\s+"
                     r"(?:million|billion))", re.I)


@dataclass(frozen=True)
class Composition:
    """An extractive answer before it is wrapped into an `Answer`."""

    text: str
    citations: tuple[Citation, ...]
    units: tuple[Unit, ...]
    disagreement: bool = False


def query_terms(query: str, idf: Callable[[str], float]) -> dict[str, float]:
    """Weighted content stems of a (standalone, expanded) query: rarer terms weigh more."""
    from .query import expand_query

    base = stems(query)
    expanded = stems(expand_query(query))
    weights: dict[str, float] = {}
    for s in expanded:
        w = idf(s)
        if s not in base:
            w *= 0.5  # added by acronym expansion: helps, but is not what was asked
        weights[s] = max(weights.get(s, 0.0), w)
    return weights


def _coverage(unit_stems: frozenset[str], context: frozenset[str], terms: dict[str, float]
              ) -> float:
    total = sum(terms.values()) or 1.0
    got = 0.0
    for t, w in terms.items():
        if t in unit_stems:
            got += w
        elif t in context:
            got += 0.5 * w
    return got / total


def _similar(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _n_words(text: str) -> int:
    return len(text.split())


@dataclass
class _Scored:
    unit: Unit
    hit: Hit
    score: float
    coverage: float


def score_units(hits: Sequence[Hit], terms: dict[str, float], shape: Shape) -> list[_Scored]:
    """Every unit of the retrieved passages, scored for this question (best first)."""
    if not hits:
        return []
    best_dense = max(h.dense for h in hits) or 1.0
    out: list[_Scored] = []
    for h in hits:
        ctx = frozenset(stems(h.chunk.section + " " + h.chunk.context))
        rel = max(0.0, h.dense) / best_dense
        rank_bonus = 1.0 / (1 + h.rank)
        for u in units_of(h.chunk):
            cov = _coverage(u.stems, ctx, terms)
            s = 0.6 * cov + 0.25 * rel + 0.1 * rank_bonus
            n = _n_words(u.text)
            if shape.wants_number:
                s += 0.12 if u.has_number else -0.05
                if shape.wants_duration and re.search(r"\b(months?|years?|weeks?|days?)\b",
                                                      u.text, re.I):
                    s += 0.08
            if shape.kind == "definition" and shape.subject:
                subj = set(shape.subject)
                if subj & u.stems and _DEFINITIONAL.search(u.text[:160]):
                    s += 0.12
            if shape.kind == "list" and u.kind in ("item", "row"):
                s += 0.06
            if n < 6:
                s -= 0.1
            if n > 70:
                s -= 0.08
            out.append(_Scored(u, h, s, cov))
    out.sort(key=lambda x: -x.score)
    return out


def compose(question: str, query: str, hits: Sequence[Hit], idf: Callable[[str], float],
            *, max_sentences: int = 4) -> Composition:
    """Build a short answer with inline `[n]` markers from the retrieved passages."""
    shape = question_shape(question)
    terms = query_terms(query, idf)
    scored = score_units(hits, terms, shape)
    if not scored:
        return Composition("", (), ())
    picked: list[_Scored] = []
    disagreement = False
    if shape.kind == "list":
        picked = _pick_list(scored, max_sentences)
    if not picked and shape.wants_number:
        picked, disagreement = _pick_figures(scored, max_sentences)
    if not picked:
        picked = _pick_greedy(scored, max_sentences, WORD_BUDGET)
    if shape.kind == "comparison":
        picked = _cover_sides(picked, scored, shape, max_sentences)
    return _render(picked, shape, disagreement)


def _pick_greedy(scored: list[_Scored], max_units: int, budget: int,
                 floor_ratio: float = 0.72) -> list[_Scored]:
    best = scored[0].score
    picked: list[_Scored] = []
    words = 0
    for s in scored:
        if len(picked) >= max_units:
            break
        if s.score < best * floor_ratio and picked:
            break
        if any(_similar(s.unit.stems, p.unit.stems) >= 0.6 for p in picked):
            continue
        n = _n_words(s.unit.text)
        if picked and words + n > budget:
            continue
        picked.append(s)
        words += n
    return picked


def _pick_list(scored: list[_Scored], max_units: int) -> list[_Scored]:
    """For 'what are the types/steps/...': the items of the best list-like passage."""
    lists = [s for s in scored[:12] if s.unit.kind in ("item", "row")]
    if not lists:
        return []
    # the passage whose items best match, by the sum of its top item scores
    by_chunk: dict[str, list[_Scored]] = {}
    for s in scored:
        if s.unit.kind in ("item", "row"):
            by_chunk.setdefault(s.unit.chunk.chunk_id, []).append(s)
    def strength(items: list[_Scored]) -> float:
        top = sorted((i.score for i in items), reverse=True)[:4]
        return sum(top) / 4 + 0.1 * max(i.coverage for i in items)
    best_id = max(by_chunk, key=lambda c: strength(by_chunk[c]))
    items = sorted(by_chunk[best_id], key=lambda s: s.unit.position)
    if len(items) < 2:
        return []
    limit = max(max_units, 8)
    chosen: list[_Scored] = []
    words = 0
    for s in items:
        text = _short_item(s.unit)
        n = _n_words(text)
        if chosen and (len(chosen) >= limit or words + n > LIST_WORD_BUDGET):
            break
        chosen.append(s)
        words += n
    return chosen


def _short_item(u: Unit) -> str:
    return u.text


def _figures(text: str) -> set[str]:
    return {re.sub(r"\s+", " ", m.group(0).lower().strip()) for m in _FIGURE.finditer(text)}


def _pick_figures(scored: list[_Scored], max_units: int) -> tuple[list[_Scored], bool]:
    """For 'how much/how many': the best figure, plus differing figures for the same thing."""
    with_fig = [s for s in scored[:15] if s.unit.has_number and _figures(s.unit.text)]
    if not with_fig:
        return [], False
    top = with_fig[0]
    picked = [top]
    seen_figs = _figures(top.unit.text)
    differing = False
    for s in with_fig[1:]:
        if len(picked) >= max_units:
            break
        if s.coverage < top.coverage * 0.8 or s.score < top.score * 0.8:
            continue
        if any(_similar(s.unit.stems, p.unit.stems) >= 0.6 for p in picked):
            continue
        figs = _figures(s.unit.text)
        if figs and not figs <= seen_figs:
            picked.append(s)
            if s.unit.chunk.chunk_id != top.unit.chunk.chunk_id or True:
                differing = differing or bool(_same_kind(seen_figs, figs))
            seen_figs |= figs
    return picked, differing and len(picked) > 1


def _kind(fig: str) -> str:
    if "$" in fig or "billion" in fig or fig.endswith("b"):
        return "money"
    if "%" in fig or "percent" in fig:
        return "percent"
    if re.search(r"month|year|week", fig):
        return "duration"
    if "million" in fig or fig.endswith("m") or "employees" in fig:
        return "count"
    return "other"


def _same_kind(a: set[str], b: set[str]) -> set[str]:
    return {_kind(f) for f in a} & {_kind(f) for f in b} - {"other"}


def _cover_sides(picked: list[_Scored], scored: list[_Scored], shape: Shape,
                 max_units: int) -> list[_Scored]:
    """Make sure each side of 'X vs Y' is covered by some picked unit."""
    out = list(picked)
    for side in shape.sides:
        need = set(side)
        if any(need & s.unit.stems for s in out):
            continue
        for s in scored:
            if need & s.unit.stems and s not in out:
                if len(out) >= max_units:
                    out = out[:-1]
                out.append(s)
                break
    return out


def _render(picked: list[_Scored], shape: Shape, disagreement: bool) -> Composition:
    if not picked:
        return Composition("", (), ())
    # order: group units of the same passage (in passage order) after its first appearance
    order: list[_Scored] = []
    if shape.kind == "list":
        order = picked
    else:
        first = picked[0]
        rest = picked[1:]
        if shape.kind == "definition":
            defs = [s for s in picked if _DEFINITIONAL.search(s.unit.text[:160])
                    and set(shape.subject) & s.unit.stems]
            if defs:
                first = defs[0]
                rest = [s for s in picked if s is not first]
        order = [first]
        for s in rest:
            order.append(s)
        grouped: list[_Scored] = []
        for s in order:
            if s in grouped:
                continue
            same = sorted([t for t in order if t.unit.chunk.chunk_id == s.unit.chunk.chunk_id
                           and t not in grouped], key=lambda t: t.unit.position)
            grouped.extend(same)
        order = grouped
    markers: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    hits: dict[str, Hit] = {}
    parts: list[str] = []
    for s in order:
        cid = s.unit.chunk.chunk_id
        if cid not in markers:
            markers[cid] = len(markers) + 1
            hits[cid] = s.hit
        spans.setdefault(cid, []).append((s.unit.start, s.unit.end))
        text = s.unit.text.strip()
        if text and text[-1] not in ".!?":
            text += "."
        parts.append(f"{text} [{markers[cid]}]")
    if shape.kind == "list" and len(parts) > 1:
        body = "\n".join(f"- {p}" for p in parts)
    else:
        body = " ".join(parts)
    if disagreement:
        body = "The guides give different figures: " + body
    citations = []
    for cid, n in markers.items():
        h = hits[cid]
        ss = spans[cid]
        citations.append(Citation(marker=n, doc=h.chunk.doc_id, title=h.chunk.title,
                                  section=h.chunk.section, text=h.chunk.text,
                                  start=min(a for a, _ in ss), end=max(b for _, b in ss),
                                  score=h.score, chunk_id=cid))
    return Composition(body, tuple(citations), tuple(s.unit for s in order), disagreement)
