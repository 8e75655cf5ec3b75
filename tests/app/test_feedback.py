"""The feedback store (real SQLite in tmp), draft eval items, content-gap grouping with the real
embedder, and the `bpo-kb feedback export|report` commands."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.feedback import FeedbackStore, content_gaps, draft_eval_items, group_similar


def _answer(question: str, *, abstained: bool = False, text: str = "An answer [1].") -> dict:
    cite = {"marker": 1, "doc": "guide.txt", "title": "Guide", "section": "Costs",
            "text": "Offshore costs $8-$25 per hour.", "start": 0, "end": 31, "score": 0.5}
    return {"question": question, "answer": text, "abstained": abstained,
            "citations": [cite], "retrieval_query": question, "backend": "extractive",
            "suggestions": [], "answerability": 0.9, "notice": None, "latency_ms": 3.0}


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data" / "feedback.sqlite3")


def test_store_records_rating_reason_and_history(store: FeedbackStore) -> None:
    history = [{"role": "user", "content": "What is BPO?"},
               {"role": "assistant", "content": "BPO is ..."}]
    fid = store.record(_answer("and offshore?"), history, rating=-1)
    store.set_reason(fid, "  missing   the nearshore   option ")
    item = store.get(fid)
    assert item is not None
    assert (item.question, item.rating, item.reason) == ("and offshore?", -1,
                                                        "missing the nearshore option")
    assert item.history == history and item.citations[0]["doc"] == "guide.txt"
    assert item.backend == "extractive" and item.created.endswith("Z")
    with sqlite3.connect(store.path) as con:
        cols = {r[1] for r in con.execute("PRAGMA table_info(feedback)")}
    assert {"question", "history", "answer", "citations", "backend", "rating", "reason",
            "created"} <= cols


def test_rating_can_change_and_be_cleared(store: FeedbackStore) -> None:
    fid = store.record(_answer("q"), rating=1)
    store.rate(fid, -1)
    assert store.get(fid).rating == -1  # type: ignore[union-attr]
    store.rate(fid, None)
    assert store.get(fid).rating is None  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="rating must be 1"):
        store.rate(fid, 5)


def test_gap_rows_are_dislikes_and_unrated_or_disliked_refusals(store: FeedbackStore) -> None:
    store.record(_answer("liked"), rating=1)
    store.record(_answer("disliked"), rating=-1)
    store.record(_answer("refused", abstained=True))
    store.record(_answer("refused but liked", abstained=True), rating=1)
    assert [i.question for i in store.items(disliked_or_refused=True)] == ["disliked", "refused"]
    assert [i.question for i in store.items(rating=1)] == ["liked", "refused but liked"]


def test_missing_database_means_no_items(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "nothing" / "feedback.sqlite3")
    assert store.items() == []
    assert not store.path.exists()


def test_draft_eval_items_leave_labels_to_the_evaluator(store: FeedbackStore) -> None:
    store.record(_answer("liked"), rating=1)
    fid = store.record(_answer("What does KPO cost?"),
                       [{"role": "user", "content": "What is KPO?"}], rating=-1)
    store.set_reason(fid, "no price given")
    drafts = draft_eval_items(store.items())
    assert len(drafts) == 1
    d = drafts[0]
    assert d["question"] == "What does KPO cost?" and d["history"][0]["content"] == "What is KPO?"
    assert d["answerable"] is None and d["must_include"] == [] and d["sources"] == []
    assert d["answer_given"] == "An answer [1]." and d["feedback"]["reason"] == "no price given"
    assert d["id"] == f"fb-{fid:04d}"


def test_group_similar_joins_vectors_above_threshold() -> None:
    import numpy as np

    v = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.05, 1]], dtype=np.float32)
    assert group_similar(v, 0.9) == [[0, 1], [2, 3]]
    assert group_similar(v, 0.9999) == [[0], [1], [2], [3]]
    assert group_similar(np.zeros((0, 2)), 0.5) == []


def test_content_gaps_group_paraphrases_with_the_real_embedder(
        store: FeedbackStore, embedder: Any) -> None:
    for q in ("How much does a BPO contract cost in Brazil?",
              "What are BPO prices in Brazil?",
              "How much does BPO cost in Brazil?"):
        store.record(_answer(q, abstained=True))
    store.record(_answer("Who founded Teleperformance?"), rating=-1)
    store.set_reason(4, "wrong company")
    gaps = content_gaps(store.items(disliked_or_refused=True), embedder, threshold=0.7)
    assert [g.asked for g in gaps] == [3, 1]
    assert gaps[0].refused == 3 and gaps[1].disliked == 1 and gaps[1].reasons == ["wrong company"]


def test_feedback_commands_export_drafts_and_report_gaps(tmp_path: Path, embedder: Any) -> None:
    from cli import main

    data = tmp_path / "data"
    store = FeedbackStore(data / "feedback.sqlite3")
    store.record(_answer("What do BPO firms charge in Brazil?", abstained=True))
    store.record(_answer("BPO pricing in Brazil?", abstained=True))
    fid = store.record(_answer("Is KPO cheaper than LPO?"), rating=-1)
    store.set_reason(fid, "it did not compare prices")
    env = {"BPO_KB_DATA_DIR": str(data)}

    out = tmp_path / "drafts.jsonl"
    r = CliRunner().invoke(main, ["feedback", "export", "--as-eval", str(out)], env=env)
    assert r.exit_code == 0, r.output
    drafts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["question"] for d in drafts] == ["Is KPO cheaper than LPO?"]

    r = CliRunner().invoke(main, ["feedback", "report"], env=env)
    assert r.exit_code == 0, r.output
    assert "3 refused or 👎 questions in 2 topics" in r.output
    assert "asked 2x: refused 2" in r.output and "reason: it did not compare prices" in r.output

    r = CliRunner().invoke(main, ["feedback", "report", "--json"], env=env)
    groups = json.loads(r.output)
    assert sorted(g["asked"] for g in groups) == [1, 2]


def test_feedback_report_with_no_database_says_so(tmp_path: Path) -> None:
    from cli import main

    r = CliRunner().invoke(main, ["feedback", "report"],
                           env={"BPO_KB_DATA_DIR": str(tmp_path / "none")})
    assert r.exit_code == 0 and "No refused or 👎 questions" in r.output
