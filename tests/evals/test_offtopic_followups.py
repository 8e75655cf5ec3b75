"""The generated off-topic follow-up sets are what their command makes (no hand edits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.offtopic_followups import OPENINGS, followups, main

DATASETS = Path(__file__).resolve().parents[2] / "evals" / "datasets"
HISTORY_SETS = ["dev", "check", "blind", "blind2", "blind3", "blind4", "blind5", "blind6"]


@pytest.mark.parametrize(("source", "out", "prefix"), [
    ("offtopic", "offtopic_followups", "offfu"), ("offtopic2", "offtopic2_followups", "off2fu")])
def test_the_bundled_sets_are_regenerated_byte_for_byte(tmp_path: Path, source: str, out: str,
                                                          prefix: str) -> None:
    made = tmp_path / f"{out}.jsonl"
    assert main([str(DATASETS / f"{source}.jsonl"), "--histories",
                 *(str(DATASETS / f"{s}.jsonl") for s in HISTORY_SETS), "-o", str(made),
                 "--prefix", prefix]) == 0
    assert made.read_bytes() == (DATASETS / f"{out}.jsonl").read_bytes()


def test_each_question_follows_a_history_with_an_opening_in_turn() -> None:
    history = [{"role": "user", "content": "What is KPO?"},
               {"role": "assistant", "content": "Knowledge process outsourcing [1]."}]
    rows = followups([{"question": "Who won the world cup?"}] * len(OPENINGS), [history])
    assert [r["question"] for r in rows] == [o + "who won the world cup?" for o in OPENINGS]
    assert all(r["history"] == history and r["answerable"] is False for r in rows)
    with pytest.raises(ValueError, match="no item"):
        followups([{"question": "x"}], [])
