"""Batch files as sales teams keep them: any header case, any delimiter, Excel, extra columns;
and answer files a person can paste from (app.batch on real files in tmp_path)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from app.batch import (
    CSV_FIELDS,
    READABLE_FIELDS,
    answer_row,
    answer_text,
    merge_row,
    pasted_batch,
    plural,
    read_batch,
    sources_text,
    summary_line,
    write_rows,
)
from bpo_kb import ConfigError


def _xlsx(path: Path, rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def test_pasted_lines_are_questions_without_their_bullets_numbers_or_header() -> None:
    batch = pasted_batch("Questions:\n1. What is BPO?\n\n  - cost per hour offshore?\n"
                         "• Q3: is KPO the same as LPO?\n2024 trends?\n(5) What is RPO?\n")
    assert batch.rows == [{"id": "q1", "question": "What is BPO?"},
                          {"id": "q2", "question": "cost per hour offshore?"},
                          {"id": "q3", "question": "is KPO the same as LPO?"},
                          {"id": "q4", "question": "2024 trends?"},  # a year, not a number
                          {"id": "q5", "question": "What is RPO?"}]


@pytest.mark.parametrize("text", ["", "  \n\n", "Question\n", "- \n1.\n"])
def test_pasting_no_question_is_an_error_that_says_how(text: str) -> None:
    with pytest.raises(ConfigError, match="one question on each line"):
        pasted_batch(text)


@pytest.mark.parametrize(("name", "text", "delimiter"), [
    ("comma.csv", "ID,Question\nq1,What is BPO?\n", ","),
    ("semicolon.csv", "Id;QUESTION\nq1;What is BPO?\n", ";"),
    ("tab.csv", "id\tQuestion\nq1\tWhat is BPO?\n", "\t"),
    ("excel-hint.csv", "sep=;\nID;Question\nq1;What is BPO?\n", ";"),
    ("bom.csv", "\ufeffID,Question\nq1,What is BPO?\n", ","),
    ("sniffed.csv", "Ref;Owner;Question text\nq1;kim;What is BPO?\n", ";"),
])
def test_csv_headers_are_matched_in_any_case_and_the_delimiter_is_sniffed(
        tmp_path: Path, name: str, text: str, delimiter: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if name == "sniffed.csv":  # no question column: the error names what was found
        with pytest.raises(ConfigError, match="columns found: 'Ref', 'Owner', 'Question text'"):
            read_batch(path)
        return
    batch = read_batch(path)
    assert batch.delimiter == delimiter
    assert batch.rows == [{"id": "q1", "question": "What is BPO?"}]


def test_a_question_with_the_delimiter_inside_quotes_stays_whole(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('Question;Owner\n"Is BPO cheaper; and faster?";kim\n', encoding="utf-8")
    assert read_batch(path).rows == [{"question": "Is BPO cheaper; and faster?", "Owner": "kim"}]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("questions.txt", None, "Unsupported batch input"),
    ("noq.csv", "Name,Prospect\nA,B\n", "No row of noq.csv has a question (read as "
                                         "comma-separated); columns found: 'Name', 'Prospect'"),
    ("empty-questions.csv", "id,question\n1,\n2,  \n", "No row of empty-questions.csv has a "
                                                       "question"),
    ("header-only.csv", "id,question\n", "has no rows"),
    ("noq.jsonl", '{"id": 1, "text": "What is BPO?"}\n', "columns found: 'id', 'text'"),
    ("broken.jsonl", '{"question": "What\n', "First problem: line 1 is not valid JSON"),
])
def test_a_file_in_which_no_row_has_a_question_is_an_error(tmp_path: Path, name: str,
                                                           content: str | None,
                                                           message: str) -> None:
    path = tmp_path / name
    path.write_text(content or "question\nWhat?\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        read_batch(path)
    assert message in str(e.value)


def test_jsonl_keys_are_matched_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"ID": "a", "Question": "What is KPO?", "Team": "sales"}) + "\n",
                    encoding="utf-8")
    batch = read_batch(path)
    assert batch.rows == [{"id": "a", "question": "What is KPO?", "Team": "sales"}]
    assert batch.passthrough == ["Team"]


def test_xlsx_input_reads_the_first_sheet_with_numbers_as_text(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "faq.xlsx", [["ID", "Question", "Owner"], [1, "What is BPO?", None],
                                         [None, None, None], [2.0, "What is KPO?", "kim"]])
    batch = read_batch(path)
    assert batch.rows == [{"id": "1", "question": "What is BPO?", "Owner": ""},
                          {"id": "2", "question": "What is KPO?", "Owner": "kim"}]
    assert batch.columns == ["ID", "Question", "Owner"]


def test_a_file_that_is_not_a_workbook_says_so(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("id,question\n1,What is BPO?\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot read fake.xlsx as an Excel workbook"):
        read_batch(path)


def test_extra_columns_pass_through_and_clashing_ones_are_renamed(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("Question,Answer,Owner,Sources\nWhat is BPO?,old text,kim,x\n",
                    encoding="utf-8")
    batch = read_batch(path)
    assert batch.passthrough == ["input_Answer", "Owner", "input_Sources"]
    out = merge_row(batch.rows[0], {"id": "1", "answer": "new [1]", "abstained": False})
    assert out["answer"] == "new [1]" and out["input_Answer"] == "old text"
    assert out["Owner"] == "kim" and out["input_Sources"] == "x"


def test_a_failed_row_keeps_its_question(tmp_path: Path) -> None:
    out = merge_row({"id": "7", "question": "   ", "Owner": "kim"},
                    {"id": "7", "error": "Question is empty"})
    assert out == {"id": "7", "error": "Question is empty", "question": "   ", "Owner": "kim"}


def test_readable_columns_drop_markers_and_list_sources_by_title_and_section() -> None:
    result = {"answer": "BPO means outsourcing a process. [1] It saves cost [2].\n- Payroll [2]",
              "abstained": False, "citations": [
                  {"marker": 1, "doc": "a.txt", "title": "Guide A", "section": "Basics > What"},
                  {"marker": 2, "doc": "b.txt", "title": "", "section": ""}]}
    assert answer_text(result) == "BPO means outsourcing a process. It saves cost.\n- Payroll"
    assert sources_text(result) == "[1] Guide A — Basics > What\n[2] b.txt"
    refusal = {"answer": "The guides don't cover this.", "abstained": True,
               "citations": result["citations"]}
    assert sources_text(refusal) == ""  # closest passages are not sources


@pytest.mark.parametrize(("n", "word", "text"), [(0, "error", "0 errors"), (1, "error", "1 error"),
                                                 (2, "question", "2 questions"),
                                                 (1200, "row", "1,200 rows")])
def test_counts_are_pluralised(n: int, word: str, text: str) -> None:
    assert plural(n, word) == text


def test_summary_line_says_one_error_and_one_question() -> None:
    assert summary_line([{"id": "1", "error": "x"}]) == \
        "Answered 0 of 1 question (1 error)"
    assert summary_line([{"id": "1", "abstained": True}, {"id": "2", "abstained": False}],
                        1.25) == "Answered 2 of 2 questions (0 errors) in 1.2 s; 1 not covered " \
                                 "by the guides"


def test_csv_and_xlsx_answers_have_the_same_columns_and_cells(bot: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rows = [{"id": "a", "question": "What does BPO stand for?", "Owner": "kim"},
            {"id": "b", "question": "=HYPERLINK(\"x\")\x00", "Owner": "lee"},
            {"id": "c", "question": "", "Owner": ""}]
    results = [merge_row(r, answer_row(bot, r, n)) for n, r in enumerate(rows, 1)]
    write_rows(tmp_path / "a.csv", results, ["Owner"])
    write_rows(tmp_path / "a.xlsx", results, ["Owner"])
    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    sheet = load_workbook(tmp_path / "a.xlsx").active
    cells = [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]
    assert table[0] == cells[0] == CSV_FIELDS + READABLE_FIELDS + ["Owner"]
    col = {name: i for i, name in enumerate(table[0])}
    for got, want in zip(cells[1:], table[1:], strict=True):
        for name in ("id", "answer", "citations", "status", "answer_text", "sources", "Owner"):
            assert str(got[col[name]]) == want[col[name]].replace("\x00", ""), name
    first = dict(zip(table[0], table[1], strict=True))
    assert first["status"] == "answered" and "[1]" in first["answer"]
    assert "[1]" not in first["answer_text"] and first["answer_text"]
    assert first["sources"].startswith("[1] ") and " — " in first["sources"]
    assert json.loads(first["citations"])[0]["text"]  # the full passages stay for machines
    assert dict(zip(table[0], table[3], strict=True))["status"] == "error"
    assert sheet.cell(3, col["question"] + 1).data_type == "s"  # "=..." is text, not a formula
