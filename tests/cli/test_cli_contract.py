"""The CLI contract other tools rely on: `ask --json` and `batch` (.jsonl/.csv in and out),
and first use without an index (ask, batch and the Bot that serve opens build it)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bpo_kb import Settings
from ingest import current_generation

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
BPM_QUESTION = "What is the difference between BPO and BPM?"
BPM_PASSAGES = (
    "BPM is the discipline of analyzing, designing, and improving how processes work internally.",
    "BPO stands for business process outsourcing, while BPM is business process management.",
    "BPM focuses on analyzing and optimizing processes internally, while BPO is about "
    "outsourcing the execution of those processes.",
)
ANSWER_KEYS = {"question", "answer", "abstained", "citations", "retrieval_query", "latency_ms",
               "backend"}
CITATION_KEYS = {"marker", "doc", "title", "section", "text", "start", "end", "score"}


def _check_answer(d: dict[str, Any]) -> None:
    """One `ask --json` object (or the answer part of a batch row) honours the contract."""
    assert ANSWER_KEYS <= set(d), sorted(ANSWER_KEYS - set(d))
    assert isinstance(d["question"], str) and isinstance(d["answer"], str) and d["answer"]
    assert isinstance(d["abstained"], bool)
    assert isinstance(d["retrieval_query"], str) and d["retrieval_query"]
    assert isinstance(d["latency_ms"], int | float) and d["latency_ms"] >= 0
    assert isinstance(d["backend"], str) and d["backend"]
    assert isinstance(d["citations"], list)
    for c in d["citations"]:
        assert CITATION_KEYS <= set(c), sorted(CITATION_KEYS - set(c))
        assert isinstance(c["marker"], int) and c["text"] and c["doc"] and c["title"]
        if c["start"] is not None:
            assert 0 <= c["start"] < c["end"] <= len(c["text"])
        if not d["abstained"]:
            assert f"[{c['marker']}]" in d["answer"]


def _bpo_kb() -> list[str]:
    script = Path(sys.executable).parent / "bpo-kb"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


@pytest.fixture(scope="module")
def data_copy(corpus_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's index (the CLI runs read it; nobody rebuilds the corpus)."""
    data = tmp_path_factory.mktemp("cli-index") / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    return data


@pytest.fixture
def cli_env(data_copy: Path) -> dict[str, str]:
    return {"BPO_KB_DATA_DIR": str(data_copy), "BPO_KB_CORPUS_DIR": str(CORPUS)}


# -- ask --json --------------------------------------------------------------------------------
@pytest.mark.slow
def test_ask_json_returns_the_contract_with_the_bpm_passage_cited(data_copy: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPO_KB_")}
    env.update(BPO_KB_DATA_DIR=str(data_copy), BPO_KB_CORPUS_DIR=str(CORPUS), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    proc = subprocess.run([*_bpo_kb(), "ask", "--json", BPM_QUESTION], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ingest first" not in proc.stderr and "Building the index" not in proc.stderr
    d = json.loads(proc.stdout)
    _check_answer(d)
    assert d["question"] == BPM_QUESTION and d["abstained"] is False
    assert any(p in c["text"] for c in d["citations"] for p in BPM_PASSAGES), d["citations"]


# -- batch -------------------------------------------------------------------------------------
GOOD = [
    {"id": "q1", "question": BPM_QUESTION, "team": "sales"},  # other fields: passed through
    {"id": "q2", "question": "and how much does it cost?",
     "history": [{"role": "user", "content": "What is offshore BPO?"},
                 {"role": "assistant", "content": "Offshore BPO moves work abroad [1]."}]},
    {"id": "q6", "question": "What does BPO stand for?", "history": []},
]


def _write_jsonl_input(path: Path) -> list[str]:
    lines = [json.dumps(GOOD[0]), json.dumps(GOOD[1]),
             json.dumps({"id": "q3", "note": "no question here"}),
             '{"id": "q4", "question": "broken',
             json.dumps({"id": "q5", "question": "What is BPO?",
                         "history": {"role": "user", "content": "not a list"}}),
             json.dumps(GOOD[2])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["q1", "q2", "q3", "line-4", "q5", "q6"]


def _write_csv_input(path: Path) -> list[str]:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "question", "history", "team"])
        w.writeheader()
        w.writerow({"id": "q1", "question": GOOD[0]["question"], "team": "sales"})
        w.writerow({"id": "q2", "question": GOOD[1]["question"],
                    "history": json.dumps(GOOD[1]["history"])})
        w.writerow({"id": "q3", "question": "", "history": ""})  # no question
        w.writerow({"id": "q4", "question": "What is BPO?", "history": "[not json"})
        w.writerow({"id": "q5", "question": "What is BPO?", "history": '{"role": "user"}'})
        w.writerow({"id": "q6", "question": GOOD[2]["question"], "history": "[]"})
    return ["q1", "q2", "q3", "q4", "q5", "q6"]


def _read_output(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            row: dict[str, Any] = {k: v for k, v in r.items() if v != ""}
            if "citations" in row:  # lists are JSON in a CSV cell, scalars are text
                row["citations"] = json.loads(row["citations"])
                row["abstained"] = {"True": True, "False": False}[row["abstained"]]
                row["latency_ms"] = float(row["latency_ms"])
            rows.append(row)
    return rows


@pytest.mark.parametrize(("in_fmt", "out_fmt"), [("jsonl", "jsonl"), ("jsonl", "csv"),
                                                  ("csv", "jsonl"), ("csv", "csv")])
def test_batch_answers_every_row_and_marks_bad_rows_with_an_error(
        tmp_path: Path, cli_env: dict[str, str], in_fmt: str, out_fmt: str) -> None:
    from cli import main

    src = tmp_path / f"questions.{in_fmt}"
    ids = (_write_jsonl_input if in_fmt == "jsonl" else _write_csv_input)(src)
    out = tmp_path / "out" / f"answers.{out_fmt}"
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(out)], env=cli_env)
    assert result.exit_code == 0, result.output
    rows = _read_output(out)
    assert [r["id"] for r in rows] == ids
    by_id = {r["id"]: r for r in rows}
    bad = {"q3", "q5", "line-4" if in_fmt == "jsonl" else "q4"}
    for rid, row in by_id.items():
        if rid in bad:
            assert row.get("error"), row
            continue
        assert "error" not in row, row
        _check_answer(row)
    assert by_id["q1"]["team"] == "sales"  # other input columns pass through
    assert by_id["q3"].get("note") == ("no question here" if in_fmt == "jsonl" else None)
    assert any(p in c["text"] for c in by_id["q1"]["citations"] for p in BPM_PASSAGES)
    # the follow-up was retrieved with its history: the standalone query names the topic
    assert "offshore" in by_id["q2"]["retrieval_query"].lower()
    assert "Answered 3 of 6 questions (3 errors)" in result.stderr


def test_batch_error_messages_say_what_is_wrong(tmp_path: Path, cli_env: dict[str, str]) -> None:
    from cli import main

    src = tmp_path / "questions.jsonl"
    _write_jsonl_input(src)
    out = tmp_path / "answers.jsonl"
    assert CliRunner().invoke(main, ["batch", str(src), "-o", str(out)],
                              env=cli_env).exit_code == 0
    errors = {r["id"]: r["error"] for r in _read_output(out) if "error" in r}
    assert "question" in errors["q3"]
    assert "line 4" in errors["line-4"] and "JSON" in errors["line-4"]
    assert "history" in errors["q5"] and "list" in errors["q5"]


def test_batch_loads_the_model_and_index_once(
        tmp_path: Path, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import Bot
    from cli import main
    from ingest import Generation, make_embedder

    opened: list[str] = []
    real_open = Generation.open.__func__  # type: ignore[attr-defined]

    def counting_open(cls, index_dir, name, **kw):  # type: ignore[no-untyped-def]
        opened.append(name)
        return real_open(cls, index_dir, name, **kw)

    bots: list[Bot] = []
    real_init = Bot.__init__

    def counting_init(self, *a, **kw):  # type: ignore[no-untyped-def]
        bots.append(self)
        real_init(self, *a, **kw)

    monkeypatch.setattr(Generation, "open", classmethod(counting_open))
    monkeypatch.setattr(Bot, "__init__", counting_init)
    src = tmp_path / "questions.jsonl"
    questions = ["What is BPO?", "What is KPO?", "What is LPO?", "What is nearshore BPO?",
                 "What is onshore BPO?", "What is offshore BPO?", "What is ITES?",
                 "What does BPO stand for?"]
    src.write_text("".join(json.dumps({"id": f"q{i}", "question": q}) + "\n"
                           for i, q in enumerate(questions)), encoding="utf-8")
    loads_before = make_embedder.cache_info().misses
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "a.jsonl")],
                                env=cli_env)
    assert result.exit_code == 0, result.output
    assert len(_read_output(tmp_path / "a.jsonl")) == len(questions)
    assert len(bots) == 1
    assert len(opened) == 1
    assert make_embedder.cache_info().misses - loads_before <= 1


# -- first use without an index ----------------------------------------------------------------
@pytest.fixture
def fresh_env(tmp_path: Path, small_corpus: Path) -> dict[str, str]:
    return {"BPO_KB_DATA_DIR": str(tmp_path / "fresh-data"), "BPO_KB_CORPUS_DIR": str(small_corpus)}


def test_ask_builds_the_index_on_first_use(fresh_env: dict[str, str], embedder: object) -> None:
    from cli import main

    result = CliRunner().invoke(main, ["ask", "--json", "What is nearshore outsourcing?"],
                                env=fresh_env)
    assert result.exit_code == 0, result.output
    assert "ingest first" not in result.output
    d = json.loads(result.stdout)
    _check_answer(d)
    assert {c["doc"] for c in d["citations"]} <= {"alpha.md", "beta.txt"}
    assert current_generation(Path(fresh_env["BPO_KB_DATA_DIR"]) / "index") is not None


@pytest.mark.parametrize(("args", "message"), [
    (["ask", ""], "Question is empty"),
    (["ask", "What is BPO?", "--history", "[not json"], "--history is not valid JSON"),
    (["ask", "What is BPO?", "--history", '{"role": "user"}'], "history must be a list"),
])
def test_ask_rejects_a_bad_question_before_building_anything(
        fresh_env: dict[str, str], args: list[str], message: str) -> None:
    from cli import main

    result = CliRunner().invoke(main, args, env=fresh_env)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert not (Path(fresh_env["BPO_KB_DATA_DIR"]) / "index").exists()


def test_batch_builds_the_index_once_on_first_use(
        tmp_path: Path, fresh_env: dict[str, str], embedder: object) -> None:
    from cli import main

    src = tmp_path / "q.csv"
    src.write_text("id,question\n1,What is nearshore outsourcing?\n2,What are the risks?\n",
                   encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "a.csv")],
                                env=fresh_env)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("Building the index") == 1
    assert "ingest first" not in result.output
    assert [r["id"] for r in _read_output(tmp_path / "a.csv")] == ["1", "2"]
    assert len(list((Path(fresh_env["BPO_KB_DATA_DIR"]) / "index").glob("g-*"))) == 1


def test_bot_open_for_serve_builds_the_index_on_first_use(
        tmp_path: Path, small_corpus: Path, embedder: object) -> None:
    from bot import Bot

    settings = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus, _env_file=None)
    builds: list[int] = []
    bot = Bot.open(settings, on_build=lambda: builds.append(1))
    assert builds == [1]
    assert bot.ask("What is nearshore outsourcing?").citations
    Bot.open(settings, on_build=lambda: builds.append(1))  # second start: nothing to build
    assert builds == [1]
