"""Page furniture is recognised at ingest by general signals and kept out of answers."""

from __future__ import annotations

import json

import pytest

from ingest import Document, chunk_document
from ingest.furniture import furniture_spans
from ingest.units import units_of
from tests.conftest import CORPUS, REPO

PAGE = """Acme Guide to Returns
- March 3, 2025
- 6 min read
- By Dana Smith
Returns are accepted within 30 days of delivery. Refunds go back to the original payment method.
Not sure which plan fits? Acme helps shops like yours pick the right one. Get started with a free consultation →
Exchanges are free for items of the same price.
Which policy will you adopt? Head to the comments section and let us know!
Written by Dana Smith
Dana helps retailers write clear policies. She lives in Leeds.
"""


def _flagged(text: str, publisher: str = "") -> list[str]:
    return [text[a:b] for a, b in furniture_spans(text, publisher)]


def test_calls_to_action_bylines_pitch_and_author_box_are_furniture() -> None:
    flagged = _flagged(PAGE, publisher="Acme Ltd")
    for junk in ("- March 3, 2025", "- 6 min read", "- By Dana Smith",
                 "Acme helps shops like yours pick the right one.",
                 "Get started with a free consultation →", "Not sure which plan fits?",
                 "Head to the comments section and let us know!", "Written by Dana Smith",
                 "Dana helps retailers write clear policies."):
        assert junk in flagged, (junk, flagged)
    for content in ("Returns are accepted within 30 days of delivery.",
                    "Exchanges are free for items of the same price."):
        assert content not in flagged


def test_an_arrow_inside_a_sentence_is_content() -> None:
    assert not _flagged("CMMI levels 1-5 (Initial → Managed → Optimizing).\n")


def test_furniture_never_answers_and_all_furniture_chunks_are_dropped() -> None:
    doc = Document("acme.txt", "Acme Guide to Returns", PAGE, "x", "/acme.txt",
                   {"publisher": "Acme Ltd"})
    units = [u for c in chunk_document(doc) for u in units_of(c)]
    for junk in ("free consultation", "Dana helps retailers", "let us know"):
        found = [u for u in units if junk in u.text]
        assert found and all(u.furniture and u.about_document for u in found), junk
    assert any("30 days" in u.text and not u.about_document for u in units)
    # a section that is nothing but furniture is not indexed at all
    long = "Returns are accepted within thirty days. " * 30
    doc = Document("b.md", "B", f"# Policy\n\n{long}\n\n# Share\n\nShare this post. Follow us "
                   "on social media. Leave a comment below!\n", "x", "/b.md", {})
    assert [c.section for c in chunk_document(doc)] == ["Policy"]


@pytest.mark.parametrize("dataset", ["dev.jsonl", "check.jsonl", "blind.jsonl", "loo.jsonl"])
def test_no_gold_quote_of_a_bundled_eval_set_is_furniture(dataset: str) -> None:
    """The guides' real content is not lost: no quote an evaluator chose as the answer
    overlaps a sentence flagged as furniture."""
    manifest = {d["file"]: d for d in json.loads((CORPUS / "manifest.json").read_text())
                ["documents"]}
    spans = {name: furniture_spans((CORPUS / name).read_text(encoding="utf-8"),
                                   manifest.get(name, {}).get("publisher", ""))
             for name in manifest}
    bad = []
    for line in (REPO / "evals" / "datasets" / dataset).read_text("utf-8").splitlines():
        item = json.loads(line)
        for s in item["sources"]:
            text = (CORPUS / s["doc"]).read_text(encoding="utf-8")
            at = text.find(s["quote"])
            if any(a < at + len(s["quote"]) and at < b for a, b in spans[s["doc"]]):
                bad.append((item["id"], s["quote"][:80]))
    assert not bad


@pytest.mark.parametrize(("table", "sentence"), [
    ("Types\n| Type | What it means | Typical work |\n|---|---|---|\n"
     "| Nearshore | Provider in a neighbouring region | Support in a close time zone |\n",
     "Nearshore: Provider in a neighbouring region; typical work: Support in a close time zone."),
    # a column name keeps its acronyms inside the sentence
    ("Fit\n| Signal | Lean toward a VA | Lean toward full BPO |\n|---|---|---|\n"
     "| Volume | One person could handle it | High volume needing many seats |\n",
     "Volume: One person could handle it; lean toward full BPO: High volume needing many "
     "seats."),
])
def test_table_rows_read_as_sentences(table: str, sentence: str) -> None:
    doc = Document("t.md", "T", table, "x", "/t.md", {})
    rows = [u for c in chunk_document(doc) for u in units_of(c) if u.kind == "row"]
    assert rows[0].text == sentence
