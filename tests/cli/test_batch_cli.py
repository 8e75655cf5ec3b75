"""`bpo-kb batch` with the files a sales rep has: `ID,Question` headers, semicolons, Excel,
extra columns, no question at all (the repros of issue 15, items 7 and 8)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bpo_kb import Settings
from cli import main

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


@pytest.fixture(scope="module")
def env(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("batch-index") / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    return {"BPO_KB_DATA_DIR": str(data), "BPO_KB_CORPUS_DIR": str(CORPUS)}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _batch(env: dict[str, str], src: Path, out: Path) -> Any:
    return CliRunner().invoke(main, ["batch", str(src), "-o", str(out)], env=env)


@pytest.mark.parametrize(("header", "sep"), [("ID,Question,Owner", ","),
                                             ("id;question;owner", ";"),
                                             ("Id\tQUESTION\tOwner", "\t")])
def test_batch_reads_any_header_case_and_delimiter(env: dict[str, str], tmp_path: Path,
                                                   header: str, sep: str) -> None:
    src = tmp_path / "prospects.csv"
    src.write_text(f"{header}\n" + sep.join(["p1", "What does BPO stand for?", "kim"]) + "\n"
                   + sep.join(["p2", "What is KPO?", "lee"]) + "\n", encoding="utf-8")
    out = tmp_path / "answers.csv"
    result = _batch(env, src, out)
    assert result.exit_code == 0, result.output
    rows = _csv(out)
    assert [r["id"] for r in rows] == ["p1", "p2"]
    assert all(r["answer"] and not r["error"] for r in rows), rows
    assert [r[header.split(sep)[2]] for r in rows] == ["kim", "lee"]  # passed through
    assert "Answered 2 of 2 questions (0 errors)" in result.stderr


def test_batch_of_a_file_without_questions_exits_1_naming_its_columns(
        env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "prospects.csv"
    src.write_text("Ref,Prospect question\n1,What is BPO?\n", encoding="utf-8")
    result = _batch(env, src, tmp_path / "answers.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: No row of prospects.csv has a question")
    assert "columns found: 'Ref', 'Prospect question'" in result.stderr
    assert not (tmp_path / "answers.csv").exists()


def test_batch_id_is_optional_and_one_error_is_singular(env: dict[str, str],
                                                       tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("Question,Owner\nWhat is BPO?,kim\n,lee\n\nWhat is the capital of Mongolia?,"
                   "kim\n", encoding="utf-8")  # a row without a question; a blank line
    out = tmp_path / "a.jsonl"
    result = _batch(env, src, out)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert "Answered 2 of 3 questions (1 error)" in result.stderr
    assert "1 not covered by the guides" in result.stderr
    assert rows[1]["error"] and rows[1]["question"] == ""
    assert set(rows[0]) >= {"question", "answer", "abstained", "citations", "retrieval_query",
                            "latency_ms", "backend", "suggestions", "answerability", "notice"}
    assert "answer_text" not in rows[0]  # JSONL is the machine contract only


def test_batch_csv_has_columns_to_paste_into_an_email(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("id,question\nq1,What are the risks of outsourcing and how do I reduce "
                   "them?\n", encoding="utf-8")
    out = tmp_path / "a.csv"
    assert _batch(env, src, out).exit_code == 0
    row = _csv(out)[0]
    citations = json.loads(row["citations"])
    assert citations and all(c["text"] for c in citations)  # the full JSON stays
    assert "[1]" in row["answer"] and "[1]" not in row["answer_text"]
    assert row["answer_text"].split()[:3] == row["answer"].split()[:3]
    lines = row["sources"].splitlines()
    assert len(lines) == len(citations)
    for c, line in zip(citations, lines, strict=True):
        assert line == f"[{c['marker']}] {c['title']} — {c['section']}"
    assert len(row["sources"]) < 600 and row["status"] == "answered"


def test_batch_reads_and_writes_excel(env: dict[str, str], tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    for r in (["ID", "Question", "Region"], [101, "What does BPO stand for?", "EU"],
              [102, "What is nearshore outsourcing?", "US"]):
        wb.active.append(r)
    wb.save(tmp_path / "faq.xlsx")
    assert _batch(env, tmp_path / "faq.xlsx", tmp_path / "answers.xlsx").exit_code == 0
    assert _batch(env, tmp_path / "faq.xlsx", tmp_path / "answers.csv").exit_code == 0
    sheet = load_workbook(tmp_path / "answers.xlsx").active
    rows = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    table = _csv(tmp_path / "answers.csv")
    assert rows[0] == list(table[0])  # the same columns
    got = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["id"] for r in got] == ["101", "102"] and [r["Region"] for r in got] == ["EU", "US"]
    for x, c in zip(got, table, strict=True):
        assert x["answer_text"] == c["answer_text"] and x["sources"] == c["sources"]
        assert json.loads(x["citations"]) == json.loads(c["citations"])


def test_batch_rejects_an_unknown_output_type_before_answering(env: dict[str, str],
                                                               tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("question\nWhat is BPO?\n", encoding="utf-8")
    result = _batch(env, src, tmp_path / "a.txt")
    assert result.exit_code == 1 and "must end in .csv, .jsonl, .xlsx" in result.stderr
