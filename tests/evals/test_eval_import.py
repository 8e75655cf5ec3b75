"""Datasets of other evaluation tools converted, with the mapping printed (issue 15, item 10):
ragas (JSONL, JSON, CSV), promptfoo CSV, DeepEval JSON; real files, the real corpus."""

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
from evals import Corpus, DatasetError, read_dataset
from evals.importers import detect_format
from evals.phrases import key_phrases

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
PRICE = ("BPO pricing varies by function, geography, volume, and technology involvement. "
         "Offshore labor-intensive work may range from $8-$25 per hour, while specialized "
         "financial or legal process outsourcing commands higher rates.")
OFFSHORE = "If you hire a service provider from the Philippines or India, that\u2019s an offshore BPO."
RAGAS = [
    {"user_input": "How much does offshore BPO cost per hour?",
     "reference": "Offshore labour-intensive work costs about $8-$25 per hour; legal process "
                  "outsourcing costs more.",
     "reference_contexts": [PRICE], "response": "It is cheap.", "retrieved_contexts": ["x"],
     "synthesizer_name": "single_hop_specific_query_synthesizer"},
    {"user_input": "What is an offshore BPO?",
     "reference": "Hiring a service provider in another country, such as the Philippines or "
                  "India.",
     "reference_contexts": [OFFSHORE, "A sentence that no guide contains, made up for this."]},
    {"user_input": "What does Mexican labour law say about severance?",
     "reference": "The guides do not cover this.", "reference_contexts": []},
    {"user_input": [{"content": "What is offshore BPO?", "type": "human"},
                    {"content": "Offshore BPO moves work abroad.", "type": "ai"},
                    {"content": "and what does it cost?", "type": "human"}],
     "reference": "Labor-intensive work costs $8-$25 per hour.", "reference_contexts": []},
]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load(Settings(corpus_dir=CORPUS, data_dir=REPO / "no-such-dir", _env_file=None))


def _ragas_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"testset.{kind}"
    if kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in RAGAS), encoding="utf-8")
    elif kind == "json":
        path.write_text(json.dumps(RAGAS, indent=1), encoding="utf-8")
    else:  # what pandas' to_csv writes: lists as Python reprs
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["user_input", "reference", "reference_contexts",
                                               "response"])
            w.writeheader()
            for r in RAGAS[:3]:
                w.writerow({"user_input": r["user_input"], "reference": r["reference"],
                            "reference_contexts": str(r["reference_contexts"]),
                            "response": r.get("response", "")})
    return path


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv"])
def test_a_ragas_dataset_is_converted_with_its_mapping(tmp_path: Path, corpus: Corpus,
                                                       kind: str) -> None:
    data = read_dataset(_ragas_file(tmp_path, kind), corpus)
    assert data.format == "ragas"
    price, offshore, law = data.items[:3]
    assert price.question == RAGAS[0]["user_input"] and price.answerable
    assert ("$8-$25", "$8") in price.must_include  # a figure the guide states
    assert ("legal process outsourcing",) in price.must_include
    assert not any("labour" in a for f in price.must_include for a in f)  # not in the corpus
    assert price.sources[0].doc == "empireonecx-what-is-bpo-2026.txt"
    assert price.sources[0].quote == PRICE
    assert [s.quote for s in offshore.sources] == [OFFSHORE]  # the made-up context dropped
    assert {"Philippines"} <= {a for f in offshore.must_include for a in f}
    assert not law.answerable and not law.must_include and not law.sources
    text = "\n".join(data.mapping)
    assert "as a ragas dataset" in text and "user_input -> question" in text
    assert "reference (free text) -> must_include" in text
    assert "reference_contexts -> sources" in text and "not in the corpus, dropped (item 2)" in text
    assert "answerable: false (1 item)" in text
    if kind != "csv":
        assert "not mapped: response (the evaluated system's answer" in text
        assert "retrieved_contexts (what the evaluated system retrieved" in text
        assert price.category == "single_hop_specific_query_synthesizer"
        follow = data.items[3]
        assert follow.question == "and what does it cost?"
        assert [t["role"] for t in follow.history] == ["user", "assistant"]


def test_a_promptfoo_csv_is_converted(tmp_path: Path, corpus: Corpus) -> None:
    path = tmp_path / "tests.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["question", "__expected1", "__expected2", "__description"])
        w.writerow(["How much does offshore BPO cost per hour?", "icontains:$8",
                    "not-contains:$100", "pricing"])
        w.writerow(["What is the capital of Mongolia?",
                    "llm-rubric: declines, saying the guides do not cover it", "", "oos"])
        w.writerow(["What are the main types of BPO?", "contains-any:back-office,front-office",
                    "contains-all:onshore,nearshore", ""])
        w.writerow(["What does BPO stand for?", "Business Process Outsourcing", "", ""])
    data = read_dataset(path, corpus)
    assert data.format == "promptfoo"
    cost, oos, types, stands = data.items
    assert cost.must_include == (("$8",),) and cost.answerable
    assert not oos.answerable
    assert types.must_include == (("back-office", "front-office"), ("onshore",), ("nearshore",))
    assert stands.must_include == (("Business Process Outsourcing",),)
    text = "\n".join(data.mapping)
    assert "as a promptfoo dataset (4 items)" in text
    assert "__expected not-contains x1" in text and "__description" in text


def test_a_promptfoo_csv_without_a_question_var_says_which_vars_it_has(
        tmp_path: Path, corpus: Corpus) -> None:
    path = tmp_path / "tests.csv"
    path.write_text("topic,audience,__expected\npricing,cfo,icontains:$8\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="found vars: 'topic', 'audience'"):
        read_dataset(path, corpus)


def test_a_deepeval_json_is_converted(tmp_path: Path, corpus: Corpus) -> None:
    path = tmp_path / "goldens.json"
    path.write_text(json.dumps([
        {"input": "How much does offshore BPO cost per hour?",
         "expected_output": "Around $8-$25 per hour.", "actual_output": None,
         "context": ["Offshore labor-intensive work may range from $8-$25 per hour"],
         "retrieval_context": ["ignored"], "additional_metadata": {"category": "pricing"}},
        {"input": "Who won the 2022 World Cup?",
         "expected_output": "I don't know; the guides don't cover football.", "context": None},
    ]), encoding="utf-8")
    data = read_dataset(path, corpus)
    assert data.format == "deepeval"
    cost, football = data.items
    assert cost.category == "pricing" and cost.must_include == (("$8-$25", "$8"),)
    assert cost.sources[0].doc == "empireonecx-what-is-bpo-2026.txt"
    assert not football.answerable
    text = "\n".join(data.mapping)
    assert "input -> question" in text and "context -> sources" in text
    assert "retrieval_context (what the evaluated system retrieved" in text


def test_formats_are_told_apart_by_their_fields() -> None:
    assert detect_format([{"id": 1, "question": "q", "answerable": True}]) == "bpo-kb"
    assert detect_format([{"user_input": "q", "reference": "r"}]) == "ragas"
    assert detect_format([{"question": "q", "ground_truth": "r"}]) == "ragas"
    assert detect_format([{"question": "q", "__expected": "icontains:x"}]) == "promptfoo"
    assert detect_format([{"input": "q", "expected_output": "r"}]) == "deepeval"


def test_key_phrases_are_kept_only_when_the_corpus_has_them_and_the_question_not(
        corpus: Corpus) -> None:
    facts = key_phrases("Offshore BPO in the Philippines costs $8-$25 per hour, says Zorblax "
                        "Consulting.", "What does offshore BPO cost in the Philippines?",
                        corpus)
    flat = [a for f in facts for a in f]
    assert "$8-$25" in flat
    assert "Philippines" not in flat  # the question says it already
    assert not any("Zorblax" in a for a in flat)  # the guides never say it
    assert len(facts) <= 3


def test_a_ragas_file_runs_end_to_end_with_the_mapping_printed(
        tmp_path: Path, corpus_settings: Settings) -> None:
    data = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    env = {"BPO_KB_DATA_DIR": str(data), "BPO_KB_CORPUS_DIR": str(CORPUS)}
    src = _ragas_file(tmp_path, "jsonl")
    converted = tmp_path / "converted.jsonl"
    res = CliRunner().invoke(main, ["eval", str(src), "--report", str(tmp_path / "r"),
                                    "--save-converted", str(converted)], env=env)
    assert res.exit_code == 0, res.output
    assert "Read testset.jsonl as a ragas dataset (4 items)" in res.stderr
    assert "testset.jsonl: 4 items (3 answerable, 1 unanswerable, 0 errors)" in res.stdout
    rows: list[dict[str, Any]] = [json.loads(x) for x in converted.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert read_dataset(converted, Corpus.load(Settings(data_dir=data, corpus_dir=CORPUS,
                                                        _env_file=None))).format == "bpo-kb"
