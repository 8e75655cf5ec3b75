"""Training data the refusal model can be fitted on, derived from the labelled items alone."""

from __future__ import annotations

from evals.calibrate import left_out_negatives


def test_left_out_negatives_are_the_items_only_one_document_answers() -> None:
    texts = {"a.txt": "Refunds take 5 business days. Shipping is free.",
             "b.txt": "Shipping is free over $50. Returns need an RA."}

    def item(doc: str, facts: list[list[str]], answerable: bool = True) -> dict[str, object]:
        return {"answerable": answerable, "must_include": facts,
                "sources": [{"doc": doc, "quote": "x"}] if answerable else []}

    items = [
        item("a.txt", [["5 business days"]]),         # only a.txt says it
        item("a.txt", [["free"]]),                    # b.txt says it too: still answerable
        item("b.txt", [["RA"], ["$50"]]),             # only b.txt
        item("a.txt", [], answerable=False),          # unanswerable anyway
        {"answerable": True, "must_include": [["free"]],
         "sources": [{"doc": "a.txt", "quote": "x"}, {"doc": "b.txt", "quote": "y"}]},
    ]
    assert left_out_negatives(items, texts) == {"a.txt": [0], "b.txt": [2]}
