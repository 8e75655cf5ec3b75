"""The Batch, Evaluate and Documents tabs and the `ask` API, against a real `bpo-kb serve`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from ui_support import REPO, Page, Server

from evals.loopback import ask_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_batch_answers_a_semicolon_csv_and_the_excel_download_matches_the_table(
        app: Page, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    questions = tmp_path / "prospects.csv"
    questions.write_text("ID;Question;Owner\nq1;What does BPO stand for?;kim\n"
                         "q2;What is the capital of Mongolia?;lee\nq3;;kim\n", encoding="utf-8")
    page = app.open()
    _tab(page, "Batch")
    page.locator("#bk-batch-file input[type=file]").set_input_files(str(questions))
    page.get_by_label("Excel").check()
    page.click("#bk-batch-run")
    status = page.locator("#bk-batch-status")
    status.get_by_text("questions answered").wait_for(timeout=60_000)
    assert "2 of 3 questions answered" in status.inner_text()
    assert "1 error." in status.inner_text()  # not "1 errors"
    table = page.locator("#bk-batch-table")
    text = table.inner_text()
    assert "answered" in text and "not covered" in text and "error" in text
    app.screenshot("batch")
    with page.expect_download() as info:
        page.locator("#bk-batch-out a").first.click()
    out = tmp_path / "answers.xlsx"
    info.value.save_as(out)
    sheet = load_workbook(out).active
    cells = list(sheet.iter_rows(values_only=True))
    rows = [dict(zip(cells[0], r, strict=True)) for r in cells[1:]]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"]
    assert [r["Owner"] for r in rows] == ["kim", "lee", "kim"]
    assert json.loads(rows[0]["citations"])[0]["marker"] == 1
    assert rows[1]["status"] == "not covered" and rows[2]["status"] == "error"
    shown = " ".join(text.split())
    for r in rows[:2]:  # what the page shows is what the file holds
        assert " ".join(str(r["answer_text"]).split())[:200] in shown
        for line in (r["sources"] or "").splitlines():
            assert " ".join(line.split()) in shown


def test_batch_answers_pasted_questions_and_the_csv_download_has_them(
        app: Page, tmp_path: Path) -> None:
    page = app.open()
    _tab(page, "Batch")
    page.locator("#bk-batch-paste textarea").fill(
        "1. What does BPO stand for?\n\n2. What is the capital of Mongolia?\n")
    page.click("#bk-batch-run")
    status = page.locator("#bk-batch-status")
    status.get_by_text("questions answered").wait_for(timeout=60_000)
    assert "2 of 2 questions answered" in status.inner_text()
    text = page.locator("#bk-batch-table").inner_text()
    assert "What does BPO stand for?" in text and "1. What" not in text
    assert "not covered" in text
    with page.expect_download() as info:
        page.locator("#bk-batch-out a").first.click()
    assert info.value.suggested_filename == "pasted-questions-answers.csv"
    out = tmp_path / "answers.csv"
    info.value.save_as(out)
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [(r["id"], r["status"]) for r in rows] == [("q1", "answered"), ("q2", "not covered")]

    # a run that cannot start says why and hides the last run's table and download
    page.locator("#bk-batch-file input[type=file]").set_input_files(str(out))
    page.click("#bk-batch-run")
    status.get_by_text("Not answered").wait_for(timeout=30_000)
    assert "Both a file and pasted questions" in status.inner_text()
    page.locator("#bk-batch-table").wait_for(state="hidden")
    assert not page.locator("#bk-batch-out").is_visible()


def _evaluate(app: Page, upload: Path) -> tuple[Any, Any]:
    """Open the Evaluate tab and run it on `upload`: the browser page and its status line."""
    page = app.open()
    _tab(page, "Evaluate")
    page.locator("#bk-eval-file input[type=file]").set_input_files(str(upload))
    page.click("#bk-eval-run")
    return page, page.locator("#bk-eval-status")


def test_evaluate_takes_a_csv_upload_and_does_not_call_it_a_regression(
        app: Page, tmp_path: Path) -> None:
    dev = [json.loads(ln) for ln in
           (REPO / "evals" / "datasets" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    items = [r for r in dev if r["answerable"] and not r.get("history")][:4] + \
        [r for r in dev if not r["answerable"]][:1]
    dataset = tmp_path / "five.csv"
    with dataset.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "question", "category", "answerable",
                                           "must_include", "sources"])
        w.writeheader()
        for r in items:
            w.writerow({"id": r["id"], "question": r["question"], "category": r["category"],
                        "answerable": str(r["answerable"]).lower(),
                        "must_include": json.dumps(r["must_include"]),
                        "sources": json.dumps(r["sources"])})
    page, status = _evaluate(app, dataset)
    status.get_by_text("5 items from five.csv").wait_for(timeout=120_000)
    text = status.inner_text()
    assert "Regression" not in text and "Not compared with the baseline" in text
    assert "the baseline is of dev.jsonl" in text
    metrics = page.locator("#bk-eval-metrics").inner_text()
    assert "fact_recall" in metrics and "cite_hit" in metrics
    page.locator("#bk-eval-chart img").wait_for()
    assert page.locator("#bk-eval-files [aria-label='report.html']").count() == 1
    page.locator("#bk-eval-show").get_by_label("All").check()
    page.wait_for_function("ids => ids.every(i => document.querySelector('#bk-eval-failing')"
                           ".innerText.includes(i))", arg=[r["id"] for r in items])
    app.screenshot("evaluate")


def test_evaluate_names_the_upload_not_its_temporary_path_and_points_to_batch(
        app: Page, tmp_path: Path) -> None:
    """A plain question list is not a test set: the page names the file as uploaded (not
    the server's temporary copy) and says where a list of questions is answered."""
    questions = tmp_path / "q3.csv"
    questions.write_text("question\nWhat is BPO?\nWhat is KPO?\n", encoding="utf-8")
    _, status = _evaluate(app, questions)
    status.get_by_text("Batch").wait_for(timeout=60_000)
    text = status.inner_text()
    assert "q3.csv" in text and "/tmp/" not in text and "gradio" not in text, text


def test_documents_tab_lists_the_library_and_reingests(app: Page) -> None:
    page = app.open()
    _tab(page, "Documents")
    table = page.locator("#bk-docs-table")
    table.get_by_text("zanzibar-onboarding.md").wait_for()
    assert "Understanding Business Process Outsourcing (BPO)" in table.inner_text()
    assert "5 documents" in page.locator("#bk-docs-summary").inner_text()
    assert page.locator("#bk-doc-upload").count() == 0  # uploads are off by default
    page.click("#bk-reingest")
    page.locator("#bk-docs-status").get_by_text("Already up to date").wait_for(timeout=60_000)
    app.screenshot("documents")


def test_ask_api_returns_the_ask_json_contract(ui_server: Server) -> None:
    from bot import Bot
    from bpo_kb import Settings

    got = ask_http(ui_server.url, "and what does it cost offshore?",
                   json.dumps([{"role": "user", "content": "What is BPO?"}]))
    served = Bot.open(Settings(data_dir=ui_server.data_dir, corpus_dir=ui_server.corpus_dir,
                               _env_file=None))
    want = served.ask("and what does it cost offshore?",
                      [{"role": "user", "content": "What is BPO?"}]).to_dict()
    got.pop("latency_ms")
    want.pop("latency_ms")
    assert got == want

    assert "empty" in ask_http(ui_server.url, "   ")["error"]
    assert "not valid JSON" in ask_http(ui_server.url, "What is BPO?", "[{")["error"]
    assert "must be a JSON list" in ask_http(ui_server.url, "What is BPO?", '{"a": 1}')["error"]


def test_gradio_client_calls_ask(ui_server: Server) -> None:
    from gradio_client import Client

    client = Client(ui_server.url, verbose=False)
    result = client.predict("Is KPO the same as LPO?", "", api_name="/ask")
    assert result["citations"] and result["answer"]
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/ask"}
