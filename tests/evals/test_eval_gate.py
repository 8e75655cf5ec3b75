"""The regression gate: compare() on hand-made summaries, and the dev set against the baseline."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from evals import BASELINE_PATH, HEADLINE, compare, load_summary
from evals.command import format_comparison

BASE: dict[str, Any] = {
    "dataset": "dev.jsonl", "created": "2026-01-01T00:00:00+00:00",
    "overall": {"items": 10, "errors": 0, "fact_recall": 0.60, "cite_hit": 0.70,
                "oos_refusal": 0.50, "false_abstain": 0.10, "recall@5": 0.80, "mrr": 0.70,
                "median_words": 50.0, "latency_p50_ms": 100.0, "latency_p95_ms": 200.0,
                "pass_rate": 0.5},
    "categories": {"pricing": {"fact_recall": 0.5}},
    "refusal_auc": 0.8,
}


def changed(**overall: Any) -> dict[str, Any]:
    s = copy.deepcopy(BASE)
    s["overall"].update(overall)
    return s


def verdict(cmp: dict[str, Any], metric: str) -> str:
    return next(m["verdict"] for m in cmp["metrics"] if m["metric"] == metric)


def test_headline_metrics_are_the_issue_list() -> None:
    assert set(HEADLINE) == {"fact_recall", "cite_hit", "oos_refusal", "false_abstain",
                             "recall@5", "mrr", "median_words"}


def test_identical_summary_is_the_same_and_passes() -> None:
    cmp = compare(BASE, BASE)
    assert not cmp["regression"] and cmp["regressions"] == [] and cmp["notes"] == []
    assert {m["verdict"] for m in cmp["metrics"] if m["baseline"] is not None} == {"same"}


@pytest.mark.parametrize(("metric", "value", "expected", "regression"), [
    ("fact_recall", 0.58, "same", False),        # exactly 0.02 worse: tolerated
    ("fact_recall", 0.579, "worse", True),
    ("fact_recall", 0.63, "better", False),
    ("cite_hit", 0.67, "worse", True),
    ("oos_refusal", 0.45, "worse", True),
    ("recall@5", 0.75, "worse", True),
    ("mrr", 0.69, "same", False),
    ("false_abstain", 0.13, "worse", True),      # higher is worse
    ("false_abstain", 0.05, "better", False),
    ("median_words", 55.0, "same", False),       # +10%: tolerated
    ("median_words", 56.0, "worse", True),       # +12%
    ("median_words", 40.0, "better", False),
    ("latency_p50_ms", 400.0, "worse", False),   # latency never fails the gate
    ("pass_rate", 0.2, "worse", False),          # not a headline metric
])
def test_gate_directions_and_tolerances(metric: str, value: float, expected: str,
                                        regression: bool) -> None:
    cmp = compare(changed(**{metric: value}), BASE)
    assert verdict(cmp, metric) == expected
    assert cmp["regression"] is regression
    assert cmp["regressions"] == ([metric] if regression else [])


def test_missing_metric_is_not_comparable_and_not_a_regression() -> None:
    cmp = compare(changed(fact_recall=None), BASE)
    assert verdict(cmp, "fact_recall") == "n/a" and not cmp["regression"]


def test_comparing_different_datasets_or_sizes_is_noted() -> None:
    other = changed(items=5)
    assert "different items" in compare(other, BASE)["notes"][0]
    other["dataset"] = "check.jsonl"
    assert "different sets" in compare(other, BASE)["notes"][0]


def test_per_category_deltas_are_given() -> None:
    cur = copy.deepcopy(BASE)
    cur["categories"]["pricing"]["fact_recall"] = 0.9
    pricing = compare(cur, BASE)["categories"]["pricing"]
    fr = next(m for m in pricing if m["metric"] == "fact_recall")
    assert fr["verdict"] == "better" and fr["delta"] == pytest.approx(0.4)


def test_dev_set_is_not_worse_than_the_baseline(dev_run: Any) -> None:
    """THE regression gate: no headline metric on dev.jsonl worse than evals/baseline.json by
    more than 0.02 (median_words: 10%). Update the baseline deliberately with
    `bpo-kb eval evals/datasets/dev.jsonl --write-baseline` and review the diff."""
    baseline = load_summary(BASELINE_PATH)
    assert baseline["dataset"] == "dev.jsonl", "evals/baseline.json must be a run of dev.jsonl"
    assert dev_run.summary["overall"]["errors"] == 0, [
        (r["id"], r["error"]) for r in dev_run.results if r["error"]]
    cmp = compare(dev_run.summary, baseline)
    assert not cmp["regression"], "\n" + format_comparison(cmp, BASELINE_PATH)
