"""The regression gate: a run's summary against an accepted baseline summary.

Headline metrics and what "worse" means for each:

| metric        | better | regression when                        |
|---------------|--------|----------------------------------------|
| fact_recall   | higher | lower than the baseline by > 0.02      |
| cite_hit      | higher | lower by > 0.02                        |
| oos_refusal   | higher | lower by > 0.02                        |
| false_abstain | lower  | higher by > 0.02                       |
| recall@5      | higher | lower by > 0.02                        |
| mrr           | higher | lower by > 0.02                        |
| median_words  | lower  | higher by > 10% of the baseline value  |

Other metrics (latency, recall@1/3/top_k, pass_rate, refusal_auc, errors) get a delta and a
verdict but never fail the gate; latency in particular depends on the machine. A verdict is
`same` while the change stays within the tolerance, else `better` or `worse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["HEADLINE", "TOLERANCE", "compare", "same_dataset"]

TOLERANCE = 0.02
"""Largest accepted drop of a headline rate (absolute)."""
WORDS_TOLERANCE = 0.10
"""Largest accepted growth of median_words (relative)."""

HEADLINE: dict[str, str] = {
    "fact_recall": "higher", "cite_hit": "higher", "oos_refusal": "higher",
    "false_abstain": "lower", "recall@5": "higher", "mrr": "higher", "median_words": "lower",
}
"""Headline metric -> which direction is better."""
_INFO: dict[str, str] = {
    "pass_rate": "higher", "recall@1": "higher", "recall@3": "higher",
    "recall@top_k": "higher", "refusal_auc": "higher", "errors": "lower",
    "latency_p50_ms": "lower", "latency_p95_ms": "lower",
}
_RELATIVE = {"median_words", "latency_p50_ms", "latency_p95_ms"}


def compare(summary: Mapping[str, Any], baseline_summary: Mapping[str, Any]) -> dict[str, Any]:
    """Delta and verdict of each metric (overall and per category) and whether any headline
    metric regressed. Both arguments are summaries as `evals.run(...).summary` builds them."""
    cur, base = _overall(summary), _overall(baseline_summary)
    metrics = [_delta(name, cur.get(name), base.get(name), better, headline=True)
               for name, better in HEADLINE.items()]
    metrics += [_delta(name, cur.get(name), base.get(name), better, headline=False)
                for name, better in _INFO.items()]
    categories: dict[str, list[dict[str, Any]]] = {}
    cur_cats = summary.get("categories") or {}
    base_cats = baseline_summary.get("categories") or {}
    for cat in sorted(set(cur_cats) | set(base_cats)):
        c, b = cur_cats.get(cat) or {}, base_cats.get(cat) or {}
        categories[cat] = [_delta(name, c.get(name), b.get(name), better, headline=False)
                           for name, better in HEADLINE.items()]
    regressions = [m["metric"] for m in metrics if m["regression"]]
    notes = []
    if summary.get("dataset") != baseline_summary.get("dataset"):
        notes.append(f"the baseline is of dataset {baseline_summary.get('dataset')!r}, this run "
                     f"of {summary.get('dataset')!r}: deltas compare different sets")
    elif cur.get("items") != base.get("items"):
        notes.append(f"the baseline has {base.get('items')} items, this run {cur.get('items')} "
                     "(--limit?): deltas compare different items")
    return {
        "baseline_dataset": baseline_summary.get("dataset"),
        "baseline_created": baseline_summary.get("created"),
        "metrics": metrics,
        "categories": categories,
        "regressions": regressions,
        "regression": bool(regressions),
        "notes": notes,
    }


def same_dataset(summary: Mapping[str, Any], baseline_summary: Mapping[str, Any]) -> str | None:
    """None when the run answered the baseline's items, else why not (for people): a different
    set, a different number of items (e.g. --limit), or the same name holding other items."""
    name, base_name = summary.get("dataset"), baseline_summary.get("dataset")
    n = (summary.get("overall") or {}).get("items")
    base_n = (baseline_summary.get("overall") or {}).get("items")
    if name != base_name:
        return (f"the baseline is of {base_name} ({base_n} items), this run of {name} "
                f"({n} items)")
    if n != base_n:
        return f"the baseline covers {base_n} items of {base_name}, this run {n}"
    digest, base_digest = summary.get("dataset_digest"), baseline_summary.get("dataset_digest")
    if digest and base_digest and digest != base_digest:
        return f"this {name} holds other questions than the baseline's"
    return None


def _overall(summary: Mapping[str, Any]) -> dict[str, Any]:
    d = dict(summary.get("overall") or {})
    if "refusal_auc" in summary:
        d["refusal_auc"] = summary["refusal_auc"]
    return d


def _delta(name: str, cur: Any, base: Any, better: str, *, headline: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": name, "current": cur, "baseline": base, "delta": None,
                           "better": better, "headline": headline, "verdict": "n/a",
                           "regression": False}
    if not isinstance(cur, int | float) or not isinstance(base, int | float):
        return out
    delta = float(cur) - float(base)
    out["delta"] = delta
    gain = delta if better == "higher" else -delta
    if name in _RELATIVE:
        tol = WORDS_TOLERANCE * abs(float(base)) if name == "median_words" else 0.10 * abs(
            float(base))
    elif name == "errors":
        tol = 0.0
    else:
        tol = TOLERANCE
    eps = 1e-9
    if gain < -tol - eps:
        out["verdict"] = "worse"
        out["regression"] = headline
    elif gain > tol + eps:
        out["verdict"] = "better"
    else:
        out["verdict"] = "same"
    return out
