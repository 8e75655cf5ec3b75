"""The Evaluate tab's handler over the session's bot (no browser): the baseline only for its own
dataset, deltas in points, label problems listed on the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "evals" / "datasets" / "dev.jsonl"


def _subset(path: Path, n: int) -> Path:
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines()]
    picked = [r for r in rows if r["answerable"] and not r.get("history")][:n]
    path.write_text("".join(json.dumps(r) + "\n" for r in picked), encoding="utf-8")
    return path


def _quiet(*_: Any, **__: Any) -> None:
    return None


@pytest.fixture
def tab(bot: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app's handlers with a baseline made from a three-item set: fact recall 0.22 lower,
    answers 22 words longer."""
    import evals
    import ui

    three = _subset(tmp_path / "three.jsonl", 3)
    summary = evals.run(bot, evals.load_dataset(three), dataset="three.jsonl").summary
    summary["overall"]["fact_recall"] = round(summary["overall"]["fact_recall"] - 0.22, 4)
    summary["overall"]["median_words"] = summary["overall"]["median_words"] + 22
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(summary), encoding="utf-8")
    monkeypatch.setattr(evals, "BASELINE_PATH", baseline)
    return ui._App(bot, settings), three


def test_the_baseline_s_own_dataset_is_compared_with_deltas_in_points(tab: Any) -> None:
    app, three = tab
    status, metrics, *_ = app.run_eval(None, str(three), 0, "Failing", progress=_quiet)
    table = {row[0]: row for row in metrics["value"]}
    assert table["fact_recall"][4] == "+0.22 (better)"
    assert table["median_words"][4] == "-22 (better)"
    assert table["cite_hit"][4] == "0.00 (same)"
    assert "No regression against the baseline" in status


def test_another_dataset_is_not_called_a_regression(tab: Any, tmp_path: Path) -> None:
    app, _ = tab
    ten = _subset(tmp_path / "ten.jsonl", 10)
    status, metrics, *_ = app.run_eval(None, str(ten), 0, "Failing", progress=_quiet)
    assert "Regression" not in status
    assert "Not compared with the baseline (evals/baseline.json): the baseline is of " \
           "three.jsonl (3 items), this run of ten.jsonl (10 items)" in status
    assert all(row[3] == "-" and row[4] == "-" for row in metrics["value"])
    limited, *_ = app.run_eval(None, str(tmp_path / "three.jsonl"), 2, "Failing",
                               progress=_quiet)
    assert "the baseline covers 3 items of three.jsonl, this run 2" in limited


def test_the_item_table_shows_failing_passing_or_all(tab: Any) -> None:
    app, three = tab
    *_, rows = app.run_eval(None, str(three), 0, "All", progress=_quiet)
    assert len(app.shown_items("All", rows)) == 3
    passing = app.shown_items("Passing", rows)
    failing = app.shown_items("Failing", rows)
    assert {r[2] for r in passing} <= {"pass", "-"} and {r[2] for r in failing} <= {"fail", "-"}


def test_bad_labels_are_listed_on_the_page(tab: Any, tmp_path: Path) -> None:
    app, _ = tab
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "b1", "question": "What is BPO?", "answerable": "yes",
                               "sources": [{"doc": "nope.txt", "quote": "x"}]}) + "\n",
                   encoding="utf-8")
    status, metrics, *_ = app.run_eval(None, str(bad), 0, "Failing", progress=_quiet)
    assert "bad.jsonl has 1 invalid item" in status
    assert "got the string &#x27;yes&#x27;" in status and "nope.txt" in status
    assert metrics == {"__type__": "update", "visible": False}
