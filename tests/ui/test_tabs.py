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


def test_batch_answers_an_uploaded_csv_and_offers_the_download(app: Page, tmp_path: Path) -> None:
    questions = tmp_path / "prospects.csv"
    questions.write_text("id,question\nq1,What does BPO stand for?\n"
                         "q2,What is the capital of Mongolia?\nq3,\n", encoding="utf-8")
    page = app.open()
    _tab(page, "Batch")
    page.locator("#bk-batch-file input[type=file]").set_input_files(str(questions))
    page.get_by_label("CSV").check()
    page.click("#bk-batch-run")
    page.locator("#bk-batch-status").get_by_text("questions answered").wait_for(timeout=60_000)
    table = page.locator("#bk-batch-table").inner_text()
    assert "answered" in table and "not covered" in table and "error" in table
    app.screenshot("batch")
    with page.expect_download() as info:
        page.locator("#bk-batch-out a").first.click()
    out = tmp_path / "answers.csv"
    info.value.save_as(out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"]
    assert rows[0]["answer"] and json.loads(rows[0]["citations"])[0]["marker"] == 1
    assert rows[1]["abstained"] == "True"
    assert "empty" in rows[2]["error"].lower() or "question" in rows[2]["error"].lower()


def test_evaluate_runs_an_uploaded_five_item_set(app: Page, tmp_path: Path) -> None:
    dev = (REPO / "evals" / "datasets" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    unanswerable = [ln for ln in dev if '"answerable": false' in ln][:1]
    items = [ln for ln in dev if '"answerable": true' in ln][:4] + unanswerable
    dataset = tmp_path / "five.jsonl"
    dataset.write_text("\n".join(items) + "\n", encoding="utf-8")
    page = app.open()
    _tab(page, "Evaluate")
    page.locator("#bk-eval-file input[type=file]").set_input_files(str(dataset))
    page.click("#bk-eval-run")
    status = page.locator("#bk-eval-status")
    status.get_by_text("5 items from five.jsonl").wait_for(timeout=120_000)
    metrics = page.locator("#bk-eval-metrics").inner_text()
    assert "fact_recall" in metrics and "cite_hit" in metrics
    page.locator("#bk-eval-chart img").wait_for()
    assert page.locator("#bk-eval-files [aria-label='report.html']").count() == 1
    app.screenshot("evaluate")


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
