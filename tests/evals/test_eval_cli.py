"""`bpo-kb eval` end to end on a tiny dataset (real index, real bot, click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main

DEV = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "dev.jsonl"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Five dev items: three answerable (one a follow-up), two the guides don't answer."""
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    answerable = [r for r in rows if r["answerable"] and not r.get("history")][:2]
    follow_up = [r for r in rows if r["answerable"] and r.get("history")][:1]
    unanswerable = [r for r in rows if not r["answerable"]][:2]
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in answerable + follow_up + unanswerable),
                    encoding="utf-8")
    return path


@pytest.fixture
def runner(corpus_settings: Any, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("BPO_KB_DATA_DIR", str(corpus_settings.data_dir))
    monkeypatch.setenv("BPO_KB_CORPUS_DIR", str(corpus_settings.corpus_dir))
    return CliRunner()


def test_eval_prints_metrics_writes_report_and_compares_with_a_baseline(
        runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    first = runner.invoke(main, ["eval", str(tiny), "--report", str(tmp_path / "r1")])
    assert first.exit_code == 0, first.output
    assert "tiny.jsonl: 5 items (3 answerable, 2 unanswerable, 0 errors)" in first.output
    assert "category" in first.output and "ALL" in first.output
    assert "out_of_scope" in first.output
    for name in ("results.jsonl", "summary.json", "report.md", "report.html"):
        assert (tmp_path / "r1" / name).is_file(), name
    assert len((tmp_path / "r1" / "results.jsonl").read_text().splitlines()) == 5

    same = runner.invoke(main, ["eval", str(tiny), "--report", str(tmp_path / "r2"),
                                "--baseline", str(tmp_path / "r1" / "summary.json")])
    assert same.exit_code == 0, same.output
    assert "Against baseline" in same.output and "Verdict: no regression" in same.output
    assert "fact_recall *" in same.output and "same" in same.output
    assert "No regression" in (tmp_path / "r2" / "report.html").read_text(encoding="utf-8")

    better = json.loads((tmp_path / "r1" / "summary.json").read_text())
    better["overall"]["fact_recall"] = 1.0
    better["overall"]["false_abstain"] = 0.0
    (tmp_path / "better.json").write_text(json.dumps(better))
    worse = runner.invoke(main, ["eval", str(tiny), "--baseline", str(tmp_path / "better.json"),
                                 "--json"])
    assert worse.exit_code == 1, worse.output
    out = json.loads(worse.stdout)
    assert out["overall"]["items"] == 5 and out["comparison"]["regression"] is True
    assert "fact_recall" in out["comparison"]["regressions"]


def test_eval_limit_runs_the_first_items_only(runner: CliRunner, tiny: Path) -> None:
    res = runner.invoke(main, ["eval", str(tiny), "--limit", "2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["overall"]["items"] == 2


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--limit", "0"], 2, "--limit must be at least 1"),
    (["--limit", "3", "--write-baseline"], 2, "run it without --limit"),
])
def test_eval_rejects_bad_options(runner: CliRunner, tiny: Path, args: list[str], code: int,
                                  message: str) -> None:
    res = runner.invoke(main, ["eval", str(tiny), *args])
    assert res.exit_code == code and message in res.output


def test_eval_of_an_invalid_dataset_names_line_and_field(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q?", "answerable": "perhaps"}\n', encoding="utf-8")
    res = runner.invoke(main, ["eval", str(bad)])
    assert res.exit_code == 1
    assert "line 1, item 'a', field 'answerable': must be true or false" in res.output


def test_eval_with_a_broken_baseline_says_so(runner: CliRunner, tiny: Path,
                                             tmp_path: Path) -> None:
    broken = tmp_path / "base.json"
    broken.write_text('{"dataset": "x"}', encoding="utf-8")
    res = runner.invoke(main, ["eval", str(tiny), "--baseline", str(broken)])
    assert res.exit_code == 1 and "has no 'overall' metrics" in res.output


def test_write_baseline_stores_the_summary_with_dataset_path_and_date(
        runner: CliRunner, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import evals.command

    target = tmp_path / "evals" / "baseline.json"
    target.parent.mkdir()
    monkeypatch.setattr(evals.command, "BASELINE_PATH", target)
    res = runner.invoke(main, ["eval", str(tiny), "--write-baseline"])
    assert res.exit_code == 0, res.output
    assert f"Baseline written: {target}" in res.output
    base = json.loads(target.read_text())
    assert base["dataset"] == "tiny.jsonl" and base["dataset_path"] == "tiny.jsonl"
    assert len(base["date"]) == 10 and base["overall"]["items"] == 5
    assert "refusal_curve" not in base and "categories" in base
