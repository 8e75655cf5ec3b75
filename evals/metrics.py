"""Metrics of an eval run, with the exact definitions of issue 3 (comparable across runs and sets).

Text matching
- `normalize`: Unicode NFKC, curly quotes -> straight, en/em dashes -> `-`, whitespace
  collapsed. A fact alternative is found when its normalised, lower-cased text is a substring
  of the normalised, lower-cased answer.
- Content words: normalised, lower-cased text; tokens matching `[a-z0-9$%.]+`; minus the stop
  words in `STOP_WORDS`. A passage *covers* a gold quote when it contains at least 60% of the
  quote's distinct content words (as tokens). A quote without content words is covered only
  when its normalised text is a substring of the passage's.

Per item (`score_item`)
- Answerable: facts found in the answer (0 when the bot refused), `cite_hit` when some
  citation's text covers some gold quote (never for a refusal: its passages are only the
  closest, not used), and the rank of the first retrieved passage that covers some gold quote.
  An answerable item without facts or without sources is left out of the metric it can't
  inform. It passes when not refused, every fact is found and (if it has sources) cite_hit.
- Unanswerable: passes when the bot refused.
- An item whose question raised an error fails: nothing found, not refused, no ranking.

Summary (`summarize`, overall and per category; None when no item informs a metric)
- fact_recall: mean share of facts found, over answerable items with facts.
- cite_hit: share of answerable items with sources that have a cite hit.
- false_abstain: share of answerable items refused. oos_refusal: share of unanswerable refused.
- recall@k (k = 1, 3, 5 and top_k): share of answerable items with sources whose first
  covering passage is in the top k retrieved (before answer composition). mrr: mean 1/rank
  (0 when none of the retrieved passages covers a gold quote).
- median_words: median word count of every answer that is not a refusal (answerable or not;
  `[n]` markers removed; a word is a whitespace-separated token with a letter or digit).
- latency_p50_ms / latency_p95_ms: of the items that did not error (linear interpolation).
- pass_rate: share of all items that pass.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "HEADLINE",
    "RECALL_KS",
    "STOP_WORDS",
    "by_category",
    "content_words",
    "coverage",
    "covers",
    "fact_found",
    "first_covering_rank",
    "normalize",
    "refusal_auc",
    "refusal_curve",
    "score_item",
    "summarize",
    "word_count",
]

STOP_WORDS = frozenset(
    "a an the of and or to in for on is are be by with as at from that this it its into than"
    .split())
COVER_SHARE = (6, 10)
"""A passage covers a quote with at least 6/10 of its content words (integer arithmetic)."""
RECALL_KS = (1, 3, 5)
HEADLINE = ("fact_recall", "cite_hit", "oos_refusal", "false_abstain", "recall@5", "mrr",
            "median_words")
"""Metrics the regression gate watches (see gate.py for their directions and tolerances)."""

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
                         "\u2013": "-", "\u2014": "-"})
_TOKEN = re.compile(r"[a-z0-9$%.]+")
_MARKER = re.compile(r"\[\d+\]")
_WORDLIKE = re.compile(r"\w")


def normalize(text: str) -> str:
    """NFKC, curly quotes -> straight, en/em dashes -> '-', whitespace collapsed (case kept)."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(t.split())


def fact_found(answer: str, alternatives: Iterable[str]) -> bool:
    """True when one alternative is a case-insensitive substring of the answer (normalised)."""
    a = normalize(answer).lower()
    return any(normalize(alt).lower() in a for alt in alternatives)


def content_words(text: str) -> list[str]:
    """Tokens `[a-z0-9$%.]+` of the normalised lower-cased text, minus the stop words."""
    return [w for w in _TOKEN.findall(normalize(text).lower()) if w not in STOP_WORDS]


def coverage(text: str, quote: str) -> float:
    """Share of the quote's distinct content words that are tokens of `text`."""
    q = set(content_words(quote))
    if not q:
        return 1.0 if normalize(quote).lower() in normalize(text).lower() else 0.0
    t = set(_TOKEN.findall(normalize(text).lower()))
    return len(q & t) / len(q)


def covers(text: str, quote: str) -> bool:
    """True when `text` holds at least 60% of the quote's distinct content words."""
    q = set(content_words(quote))
    if not q:
        return normalize(quote).lower() in normalize(text).lower()
    found = len(q & set(_TOKEN.findall(normalize(text).lower())))
    return found * COVER_SHARE[1] >= len(q) * COVER_SHARE[0]


def first_covering_rank(passages: Sequence[str], quotes: Sequence[str]) -> int | None:
    """1-based rank of the first passage covering any quote, or None."""
    for rank, text in enumerate(passages, 1):
        if any(covers(text, q) for q in quotes):
            return rank
    return None


def word_count(answer: str) -> int:
    """Words of an answer: whitespace-separated tokens with a letter or digit, `[n]` removed."""
    return sum(1 for t in _MARKER.sub(" ", answer).split() if _WORDLIKE.search(t))


def score_item(item: Any, *, answer: str | None, abstained: bool, citation_texts: Sequence[str],
               ranked_texts: Sequence[str], error: str | None = None) -> dict[str, Any]:
    """Judge one answer against its item (an `evals.Item`). Returns the per-item scores."""
    quotes = [s.quote for s in item.sources]
    failed = error is not None
    out: dict[str, Any] = {"facts_found": [], "missed_facts": [], "fact_recall": None,
                           "cite_hit": None, "gold_rank": None, "words": None}
    if answer is not None and not abstained and not failed:
        out["words"] = word_count(answer)
    if not item.answerable:
        out["passed"] = bool(abstained and not failed)
        out["problems"] = (["error: " + str(error)] if failed else
                           [] if abstained else ["answered a question the guides don't cover"])
        return out
    problems: list[str] = []
    if failed:
        problems.append("error: " + str(error))
    elif abstained:
        problems.append("refused an answerable question")
    text = "" if failed or abstained or answer is None else answer
    found = [list(f) for f in item.must_include if fact_found(text, f)]
    missed = [list(f) for f in item.must_include if not fact_found(text, f)]
    out["facts_found"], out["missed_facts"] = found, missed
    if item.must_include:
        out["fact_recall"] = len(found) / len(item.must_include)
        if missed and text:
            problems.append("missed " + "; ".join(" / ".join(f) for f in missed))
    if quotes:
        hit = bool(text) and any(covers(c, q) for c in citation_texts for q in quotes)
        out["cite_hit"] = hit
        out["gold_rank"] = None if failed else first_covering_rank(ranked_texts, quotes)
        if text and not hit:
            problems.append("no citation covers a gold quote")
    out["passed"] = not problems
    out["problems"] = problems
    return out


def summarize(results: Sequence[Mapping[str, Any]], *, top_k: int | None = None
              ) -> dict[str, Any]:
    """Metrics over per-item results (dicts with `answerable`, `abstained`, `error`, `latency_ms`
    and the keys of `score_item`)."""
    ans = [r for r in results if r["answerable"]]
    unans = [r for r in results if not r["answerable"]]
    with_facts = [r for r in ans if r["fact_recall"] is not None]
    with_sources = [r for r in ans if r["cite_hit"] is not None]
    ok = [r for r in results if not r.get("error")]
    words = [r["words"] for r in results if r.get("words") is not None]
    lat = [float(r["latency_ms"]) for r in ok if r.get("latency_ms") is not None]
    out: dict[str, Any] = {
        "items": len(results), "answerable": len(ans), "unanswerable": len(unans),
        "errors": len(results) - len(ok),
        "fact_recall": _mean([r["fact_recall"] for r in with_facts]),
        "cite_hit": _mean([1.0 if r["cite_hit"] else 0.0 for r in with_sources]),
        "false_abstain": _mean([1.0 if _refused(r) else 0.0 for r in ans]),
        "oos_refusal": _mean([1.0 if _refused(r) else 0.0 for r in unans]),
    }
    ranks = [r["gold_rank"] for r in with_sources]
    ks = list(RECALL_KS) + ([top_k] if top_k and top_k not in RECALL_KS else [])
    for k in ks:
        name = f"recall@{k}" if k in RECALL_KS else "recall@top_k"
        out[name] = _mean([1.0 if rk is not None and rk <= k else 0.0 for rk in ranks])
    if top_k in RECALL_KS:
        out["recall@top_k"] = out[f"recall@{top_k}"]
    out["mrr"] = _mean([1.0 / rk if rk else 0.0 for rk in ranks])
    out["median_words"] = float(statistics.median(words)) if words else None
    out["latency_p50_ms"] = _percentile(lat, 50)
    out["latency_p95_ms"] = _percentile(lat, 95)
    out["pass_rate"] = _mean([1.0 if r.get("passed") else 0.0 for r in results])
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def by_category(results: Sequence[Mapping[str, Any]], *, top_k: int | None = None
                ) -> dict[str, dict[str, Any]]:
    """`summarize` of each category's items, categories in name order."""
    cats: dict[str, list[Mapping[str, Any]]] = {}
    for r in results:
        cats.setdefault(str(r["category"]), []).append(r)
    return {c: summarize(rs, top_k=top_k) for c, rs in sorted(cats.items())}


def refusal_curve(results: Sequence[Mapping[str, Any]], steps: int = 100
                  ) -> list[dict[str, float | None]]:
    """Refusal rates on unanswerable and answerable items if the bot refused every item whose
    answerability score is below a threshold, for thresholds 0, 1/steps, ..., 1 (items without
    a score - errors - are left out)."""
    pos = [float(r["answerability"]) for r in results
           if not r["answerable"] and r.get("answerability") is not None]
    neg = [float(r["answerability"]) for r in results
           if r["answerable"] and r.get("answerability") is not None]
    if not pos and not neg:
        return []
    curve = []
    for i in range(steps + 1):
        t = i / steps
        curve.append({"threshold": round(t, 4),
                      "unanswerable_refused": _rate(pos, t), "answerable_refused": _rate(neg, t)})
    return curve


def refusal_auc(results: Sequence[Mapping[str, Any]]) -> float | None:
    """Probability that a random unanswerable item scores lower than a random answerable one
    (ties count half): how well the answerability score separates them, whatever threshold."""
    pos = [float(r["answerability"]) for r in results
           if not r["answerable"] and r.get("answerability") is not None]
    neg = [float(r["answerability"]) for r in results
           if r["answerable"] and r.get("answerability") is not None]
    if not pos or not neg:
        return None
    wins = sum(1.0 if p < n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 4)


def _refused(r: Mapping[str, Any]) -> bool:
    return bool(r.get("abstained")) and not r.get("error")


def _rate(scores: Sequence[float], threshold: float) -> float | None:
    return round(sum(1 for s in scores if s < threshold) / len(scores), 4) if scores else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)
