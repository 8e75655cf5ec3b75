"""Checks shared by the LLM tests: what every verified generated answer must satisfy."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import REPO

_MARK = re.compile(r"\[(\d+)\]")


def dev_items(*ids: str) -> list[dict[str, Any]]:
    """Items of evals/datasets/dev.jsonl by id, in the order given."""
    rows = {}
    for line in (REPO / "evals" / "datasets" / "dev.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["id"]] = row
    return [rows[i] for i in ids]


def cite_hit(answer: Any, item: dict[str, Any]) -> bool:
    """Some citation's text holds >= 60% of the content words of a gold quote (evals' rule)."""
    from evals.metrics import covers

    return any(covers(c.text, s["quote"]) for c in answer.citations for s in item["sources"])


def assert_verified(answer: Any, verifier: Any, question: str) -> None:
    """Markers match the citations 1..k; each cited sentence is supported by its citation;
    each citation's span lies inside its passage; the JSON rows carry the verifier's counts."""
    from generate.verify import Passage, split_claims

    assert answer.verified_sentences and answer.verified_sentences >= 1
    markers = {int(m) for m in _MARK.findall(answer.answer)}
    cited = {c.marker for c in answer.citations}
    assert markers == cited == set(range(1, len(cited) + 1)), (answer.answer, cited)
    by_marker = {c.marker: c for c in answer.citations}
    for c in answer.citations:
        assert c.start is not None and c.end is not None
        assert 0 <= c.start < c.end <= len(c.text)
    for claim in split_claims(answer.answer):
        if "unsupported" in claim.text:
            continue
        assert claim.cited, claim.text
        for n in claim.cited:
            cit = by_marker[n]
            s = verifier.support(claim.text, Passage(n, cit.text, f"{cit.title}\n{cit.section}"),
                                 question=question)
            assert s.supported, (claim.text, s.reason)
    d = answer.to_dict()
    assert d["backend"] == answer.backend
    assert d["verified_sentences"] == answer.verified_sentences
    assert d["removed_sentences"] == list(answer.removed_sentences)
