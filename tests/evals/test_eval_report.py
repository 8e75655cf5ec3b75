"""The runner over the real bot, and the report files it leads to."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

from evals import Item, Source, run, write_report
from evals.report import failure_groups

PNG = b"\x89PNG\r\n\x1a\n"


def test_runner_records_a_failing_item_and_goes_on(bot: Any) -> None:
    items = [
        Item(id="bad", question="???", category="x", answerable=True, must_include=(("a",),)),
        Item(id="ok", question="What does BPO stand for?", category="definitions",
             answerable=True, must_include=(("business process outsourcing",),),
             sources=(Source("empireonecx-what-is-bpo-2026.txt",
                             "BPO stands for Business Process Outsourcing."),)),
        Item(id="oos", question="What is the boiling point of mercury in kelvin?",
             category="out_of_scope", answerable=False),
    ]
    calls: list[tuple[int, int]] = []
    result = run(bot, items, progress=lambda done, total: calls.append((done, total)),
                 dataset="tiny")
    assert calls == [(1, 3), (2, 3), (3, 3)]
    bad, ok, oos = result.results
    assert bad["error"].startswith("QuestionError") and not bad["passed"]
    assert bad["problems"][0].startswith("error: QuestionError")
    assert ok["error"] is None and ok["answer"] and ok["latency_ms"] > 0
    assert ok["fact_recall"] == 1.0 and ok["gold_rank"] is not None
    assert len(ok["ranked"]) == bot.settings.top_k
    assert oos["answerability"] is not None
    s = result.summary
    assert s["dataset"] == "tiny" and s["overall"]["errors"] == 1
    assert s["bot"]["top_k"] == bot.settings.top_k
    assert set(s["categories"]) == {"x", "definitions", "out_of_scope"}


def test_report_is_self_contained_and_lists_failures(dev_run: Any, tmp_path: Path) -> None:
    path = write_report(dev_run, tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    names = {p.name for p in path.parent.iterdir()}
    assert {"results.jsonl", "summary.json", "report.md", "report.html", "categories.png",
            "refusal_curve.png"} <= names

    rows = [json.loads(line) for line in (path.parent / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [it.id for it in dev_run.items]
    for key in ("question", "answer", "citations", "missed_facts", "cite_hit", "passed",
                "latency_ms", "problems", "answerability"):
        assert key in rows[0], key

    def no_nan(v: str) -> Any:
        raise AssertionError(f"summary.json holds {v}, which is not JSON")

    summary = json.loads((path.parent / "summary.json").read_text(), parse_constant=no_nan)
    assert summary["overall"]["items"] == len(dev_run.items)

    page = path.read_text(encoding="utf-8")
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(PNG) for i in images)
    assert not re.search(r"""(src|href)=["']?(?!data:)[a-z]+:""", page)   # nothing remote
    assert "<link" not in page and "<script" not in page
    groups = failure_groups(dev_run.results)
    if groups:
        name, group = groups[0]
        assert "Failing items" in page and html.escape(name) in page and group[0]["id"] in page
    md = (path.parent / "report.md").read_text(encoding="utf-8")
    assert "![per-category metrics](categories.png)" in md and "| ALL |" in md
