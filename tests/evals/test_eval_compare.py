"""The report lists every item, filterable; two runs side by side (`--compare`); deltas in
points; a baseline only for its own dataset (issue 15, item 11)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bpo_kb import Settings
from cli import main
from evals import diff_runs, format_delta, load_run, same_dataset
from evals.diff import PreviousRun

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "evals" / "datasets" / "dev.jsonl"


@pytest.fixture(scope="module")
def env(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("compare-index") / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    return {"BPO_KB_DATA_DIR": str(data), "BPO_KB_CORPUS_DIR": str(REPO / "corpus")}


@pytest.fixture(scope="module")
def first_run(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight dev items (two unanswerable) run once with --report."""
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    picked = [r for r in rows if r["answerable"]][:6] + [r for r in rows if not r["answerable"]][:2]
    root = tmp_path_factory.mktemp("runs")
    (root / "eight.jsonl").write_text("".join(json.dumps(r) + "\n" for r in picked),
                                      encoding="utf-8")
    res = CliRunner().invoke(main, ["eval", str(root / "eight.jsonl"), "--report",
                                    str(root / "r1")], env=env)
    assert res.exit_code == 0, res.output
    return root


def _results(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]


def test_report_lists_every_item_and_filters_them_without_a_script(first_run: Path) -> None:
    page = (first_run / "r1" / "report.html").read_text(encoding="utf-8")
    results = _results(first_run / "r1")
    for r in results:  # passing ones too
        row = re.search(rf"<tr class='([^']*)' id='item-{re.escape(r['id'])}'>", page)
        assert row, r["id"]
        assert ("pass" if r["passed"] else "fail") in row.group(1).split()
    passing = sum(1 for r in results if r["passed"])
    assert f"<label for=st-pass>passing ({passing})</label>" in page
    assert f"<label for=st-fail>failing ({len(results) - passing})</label>" in page
    assert "#st-fail:checked~table tbody tr.pass" in page and "name=cat" in page
    assert "<script" not in page
    md = (first_run / "r1" / "report.md").read_text(encoding="utf-8")
    assert "## All items" in md and all(f"| {r['id']} |" in md for r in results)


def test_compare_shows_fixed_broken_and_changed_items(first_run: Path, env: dict[str, str],
                                                      tmp_path: Path) -> None:
    prev = tmp_path / "previous"
    shutil.copytree(first_run / "r1", prev)
    rows = _results(prev)
    # make the previous run differ: one item's verdict flipped each way, one answer reworded,
    # one item only in this run, one only in the previous one
    passed = [r for r in rows if r["passed"]]
    assert len(passed) >= 3, "the dev items should mostly pass"
    passed[0]["passed"] = False
    passed[0]["problems"] = ["missed x"]
    passed[1]["answer"] = "An older answer."
    failed = [r for r in rows if not r["passed"]]
    for r in failed[:1]:
        r["passed"] = True
    gone = dict(passed[2], id="old-item")
    rows = [r for r in rows if r is not passed[2]] + [gone]
    (prev / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = json.loads((prev / "summary.json").read_text())
    summary["overall"]["fact_recall"] = (summary["overall"]["fact_recall"] or 0) - 0.22
    (prev / "summary.json").write_text(json.dumps(summary))

    res = CliRunner().invoke(main, ["eval", str(first_run / "eight.jsonl"), "--report",
                                    str(tmp_path / "r2"), "--compare", str(prev)], env=env)
    assert res.exit_code == 0, res.output  # --compare shows; only --baseline gates
    out = res.stdout
    assert f"Against the previous run {prev}" in out
    assert re.search(r"fact_recall\s+\S+\s+\S+\s+\+0\.22\s+better", out), out
    broken = len(failed[:1])
    assert (f"Items: 1 fixed, {broken} broken, 1 changed, "
            f"{len(_results(first_run / 'r1')) - 3 - broken} the same "
            "(1 only in this run, 1 only in the previous one)") in out
    assert re.search(rf"  fixed   {re.escape(passed[0]['id'])} ", out)
    assert re.search(rf"  changed {re.escape(passed[1]['id'])} .*answer text changed", out)
    if failed:
        assert re.search(rf"  broken  {re.escape(failed[0]['id'])} ", out)
    changes = [json.loads(x) for x in (tmp_path / "r2" / "changes.jsonl").read_text()
               .splitlines()]
    assert {c["change"] for c in changes} >= {"fixed", "changed", "new", "gone"}
    page = (tmp_path / "r2" / "report.html").read_text(encoding="utf-8")
    assert "Compared with the previous run" in page and "<label for=st-fixed>fixed (1)" in page
    assert f"id='item-{passed[0]['id']}'" in page and "ch-fixed" in page


def test_compare_with_a_folder_that_is_not_a_run_says_what_is_missing(
        first_run: Path, env: dict[str, str], tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["eval", str(first_run / "eight.jsonl"), "--compare",
                                    str(tmp_path)], env=env)
    assert res.exit_code == 1
    assert "no summary.json or results.jsonl in" in res.stderr


def test_diff_runs_matches_items_by_id() -> None:
    before = [{"id": "a", "passed": False, "answer": "x"}, {"id": "b", "passed": True,
                                                            "answer": "y", "abstained": False}]
    after = [{"id": "a", "passed": True, "answer": "x"}, {"id": "b", "passed": True,
                                                           "answer": "y", "abstained": True}]
    summary = {"dataset": "s", "overall": {"fact_recall": 0.5}}
    d = diff_runs(PreviousRun(Path("p"), {"dataset": "s", "overall": {"fact_recall": 0.25}},
                              before), summary, after)
    assert d["counts"]["fixed"] == 1 and d["counts"]["changed"] == 1
    assert d["items"][1]["what"] == ["answered -> refused"]
    fr = next(m for m in d["metrics"] if m["metric"] == "fact_recall")
    assert fr["delta"] == 0.25 and fr["verdict"] == "better"


def test_load_run_accepts_the_folder_or_its_summary(first_run: Path) -> None:
    assert load_run(first_run / "r1").path == load_run(first_run / "r1" / "summary.json").path


@pytest.mark.parametrize(("name", "delta", "text"), [
    ("fact_recall", 0.22, "+0.22"), ("cite_hit", -0.05, "-0.05"), ("mrr", 0.004, "+0.004"),
    ("pass_rate", 0.0, "0.00"), ("median_words", 22.0, "+22"), ("latency_p50_ms", -3.4, "-3"),
    ("errors", 1, "+1"), ("fact_recall", None, "-"),
])
def test_deltas_are_points_not_percent(name: str, delta: Any, text: str) -> None:
    assert format_delta(name, delta) == text


def test_a_baseline_applies_only_to_its_own_items() -> None:
    base = {"dataset": "dev.jsonl", "overall": {"items": 196}, "dataset_digest": "abc"}
    assert same_dataset({"dataset": "dev.jsonl", "overall": {"items": 196}}, base) is None
    assert "the baseline is of dev.jsonl (196 items), this run of ten.jsonl (10 items)" == \
        same_dataset({"dataset": "ten.jsonl", "overall": {"items": 10}}, base)
    assert "covers 196 items of dev.jsonl, this run 20" in str(
        same_dataset({"dataset": "dev.jsonl", "overall": {"items": 20}}, base))
    assert "other questions" in str(same_dataset(
        {"dataset": "dev.jsonl", "overall": {"items": 196}, "dataset_digest": "xyz"}, base))
