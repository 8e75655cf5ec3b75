"""Reading eval datasets (JSONL, CSV) and validating the bundled ones against the corpus."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from evals import DatasetError, Item, Source, load_dataset
from evals.metrics import normalize

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "evals" / "datasets"
CORPUS = REPO / "corpus"
GOOD = {"id": "d1", "question": "What does offshore cost?", "category": "pricing",
        "answerable": True, "must_include": [["$8", "8-25"], ["offshore"]],
        "sources": [{"doc": "a.txt", "quote": "Offshore costs $8-25."}],
        "history": [{"role": "user", "content": "Hi"}], "reviewer": "kim"}


def _eval_sets() -> list[Path]:
    """Every eval dataset in evals/datasets (other JSONL files there, e.g. the verifier's
    sentence pairs, have no question/answerable fields)."""
    out = []
    for p in sorted(DATASETS.glob("*.jsonl")):
        first = json.loads(p.read_text(encoding="utf-8").splitlines()[0])
        if "question" in first and "answerable" in first:
            out.append(p)
    return out


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_jsonl_item_is_read_with_unknown_fields_kept(tmp_path: Path) -> None:
    items = load_dataset(_write_jsonl(tmp_path / "set.jsonl", [GOOD, "",
                                      {"id": 2, "question": "Who?", "answerable": False}]))
    assert items[0] == Item(id="d1", question="What does offshore cost?", category="pricing",
                            answerable=True, must_include=(("$8", "8-25"), ("offshore",)),
                            sources=(Source("a.txt", "Offshore costs $8-25."),),
                            history=({"role": "user", "content": "Hi"},))
    assert items[0].extra == {"reviewer": "kim"} and items[0].line == 1
    assert items[1].id == "2" and items[1].category == "uncategorized" and items[1].line == 3


def test_csv_with_json_list_columns_reads_like_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(GOOD))
        w.writeheader()
        w.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in GOOD.items()})
        w.writerow({"id": "d2", "question": "Who?", "category": "x", "answerable": "false",
                    "must_include": "", "sources": "[]", "history": "", "reviewer": ""})
    jsonl = load_dataset(_write_jsonl(tmp_path / "set.jsonl", [GOOD]))
    items = load_dataset(path)
    assert items[0] == jsonl[0]
    assert items[1].answerable is False and items[1].must_include == () and items[1].line == 3


@pytest.mark.parametrize(("row", "message"), [
    ({**GOOD, "question": "  "}, "line 1, item 'd1', field 'question': missing or empty"),
    ({**GOOD, "id": None}, "line 1, field 'id': missing or empty"),
    ({**GOOD, "answerable": "maybe"}, "line 1, item 'd1', field 'answerable': must be true or "
                                      "false (a JSON boolean), got the string 'maybe'"),
    ({**GOOD, "answerable": "yes"}, "got the string 'yes'; write true or false without quotes"),
    ({**GOOD, "answerable": 1}, "field 'answerable': must be true or false (a JSON boolean), "
                                "got the number 1"),
    ({**GOOD, "must_include": ["$8", "offshore"]}, "line 1, item 'd1', field 'must_include': "
                                                   'must be a list of facts, each a list of '
                                                   'alternative strings: write [["$8"], '
                                                   '["offshore"]]'),
    ({**GOOD, "must_include": [["$8"], "offshore"]}, "field 'must_include': fact 1 must be a "
                                                     "non-empty list"),
    ({**GOOD, "must_include": "offshore"}, "field 'must_include': must be a list of facts"),
    ({**{k: v for k, v in GOOD.items() if k != "must_include"}, "must_inlcude": [["$8"]]},
     "field 'must_inlcude': unknown field; did you mean 'must_include'?"),
    ({**GOOD, "must_include": [[]]}, "field 'must_include': fact 0"),
    ({**GOOD, "sources": [{"doc": "a.txt"}]}, "line 1, item 'd1', field 'sources': source 0 "
                                              "must be"),
    ({**GOOD, "history": [{"role": "bot", "content": "x"}]}, "field 'history': turn 0"),
    ({**GOOD, "answerable": False}, "an unanswerable item (answerable: false) has no facts"),
    ("{not json", "line 1: not valid JSON"),
    ("[1, 2]", "line 1: not a JSON object"),
])
def test_invalid_item_is_reported_with_line_and_field(tmp_path: Path, row: Any,
                                                      message: str) -> None:
    with pytest.raises(DatasetError) as e:
        load_dataset(_write_jsonl(tmp_path / "bad.jsonl", [row]))
    assert message in str(e.value)
    assert "bad.jsonl has 1 invalid item (" in str(e.value)


def test_every_invalid_item_is_listed_and_duplicates_named(tmp_path: Path) -> None:
    rows = [GOOD, {**GOOD, "question": ""}, GOOD]
    with pytest.raises(DatasetError) as e:
        load_dataset(_write_jsonl(tmp_path / "bad.jsonl", rows))
    text = str(e.value)
    assert "2 invalid items (2 problems)" in text and "line 2, item 'd1', field 'question'" in text
    assert "line 3, item 'd1', field 'id': duplicate id (first on line 1)" in text


def test_every_problem_of_one_item_is_named_at_once(tmp_path: Path) -> None:
    row = {"id": "x", "question": "", "answerable": "yes", "must_include": "offshore",
           "history": {"role": "user"}}
    with pytest.raises(DatasetError) as e:
        load_dataset(_write_jsonl(tmp_path / "bad.jsonl", [row]))
    text = str(e.value)
    assert "1 invalid item (4 problems)" in text
    for name in ("question", "answerable", "must_include", "history"):
        assert f"line 1, item 'x', field '{name}'" in text, name


def test_csv_answerable_may_be_yes_or_no_and_headers_any_case(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text("ID;Question;Answerable\na;What is BPO?;yes\nb;Who won?;No\n",
                    encoding="utf-8")
    assert [(it.id, it.answerable) for it in load_dataset(path)] == [("a", True), ("b", False)]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("set.txt", "x", "Unsupported dataset type '.txt'"),
    ("empty.jsonl", "\n\n", "has no items"),
    ("nohead.csv", "question,category\nWhat?,x\n", "CSV header lacks column(s) answerable, id"),
    ("bad.csv", 'id,question,answerable,must_include\n1,Q?,true,"[[""$8""]"\n',
     "field 'must_include': is not valid JSON"),
])
def test_unreadable_dataset_says_what_to_fix(tmp_path: Path, name: str, content: str,
                                             message: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("$", r"\$")):
        load_dataset(tmp_path / name)


def test_missing_dataset_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")


# -- the bundled sets ---------------------------------------------------------------------------
def test_bundled_eval_sets_are_found() -> None:
    names = [p.name for p in _eval_sets()]
    assert "dev.jsonl" in names and "check.jsonl" in names


@pytest.mark.parametrize("path", _eval_sets(), ids=lambda p: p.name)
def test_bundled_set_quotes_facts_and_labels_are_consistent(path: Path) -> None:
    corpus = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.iterdir()
              if p.suffix in (".txt", ".md", ".html")}
    problems = []
    for it in load_dataset(path):
        where = f"{path.name} {it.id} (line {it.line})"
        for s in it.sources:
            if s.doc not in corpus:
                problems.append(f"{where}: doc {s.doc!r} is not in corpus/")
            elif s.quote not in corpus[s.doc]:
                problems.append(f"{where}: quote is not an exact substring of {s.doc}: "
                                f"{s.quote[:80]!r}")
        if it.answerable and not (it.must_include and it.sources):
            problems.append(f"{where}: answerable but has no facts or no sources")
        if not it.answerable and (it.must_include or it.sources):
            problems.append(f"{where}: unanswerable but has facts or sources")
        quotes = [normalize(s.quote).lower() for s in it.sources]
        for fact in it.must_include:
            if not any(normalize(alt).lower() in q for alt in fact for q in quotes):
                problems.append(f"{where}: no alternative of fact {list(fact)} is in a quote")
    assert not problems, "\n".join(problems)
