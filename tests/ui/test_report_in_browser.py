"""report.html's item filters work in a real browser, with no script in the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser]


def test_report_filters_items_by_verdict_and_category(chromium: Any, bot: Any,
                                                      tmp_path: Path) -> None:
    from evals import Item, Source, run, write_report

    items = [
        Item(id="ok", question="What does BPO stand for?", category="definitions",
             answerable=True, must_include=(("business process outsourcing",),),
             sources=(Source("empireonecx-what-is-bpo-2026.txt",
                             "BPO stands for Business Process Outsourcing."),)),
        Item(id="miss", question="What does BPO stand for?", category="definitions",
             answerable=True, must_include=(("a fact no answer states",),)),
        Item(id="oos", question="What is the boiling point of mercury in kelvin?",
             category="out_of_scope", answerable=False),
    ]
    result = run(bot, items, dataset="three")
    path = write_report(result, tmp_path / "report")
    passed = {r["id"] for r in result.results if r["passed"]}
    assert "miss" not in passed and passed
    context = chromium.new_context()
    page = context.new_page()
    page.goto(path.as_uri())
    rows = page.locator("table.items tbody tr:visible")

    def shown() -> set[str]:
        return {r.get_attribute("id").removeprefix("item-") for r in rows.all()}

    assert shown() == {"ok", "miss", "oos"}
    page.click("label[for=st-pass]")
    assert shown() == passed
    page.click("label[for=st-fail]")
    assert shown() == {"ok", "miss", "oos"} - passed
    page.click("label[for=st-all]")
    page.get_by_text("out_of_scope (1)").click()
    assert shown() == {"oos"}
    context.close()
