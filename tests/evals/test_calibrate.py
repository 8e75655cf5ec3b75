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


def test_refusal_trees_score_as_fitted_keep_each_features_side_and_survive_json() -> None:
    """The trees `calibrate` exports score every row as scikit-learn's model does (checked
    inside `_boosted`), an unknown word never raises the score, a coverage feature never
    lowers it, and the JSON written reads back to the same scores."""
    import json

    import numpy as np

    from bot.abstention import FEATURES, AbstentionModel
    from evals.calibrate import _boosted, _json

    rng = np.random.default_rng(0)
    x = rng.random((300, len(FEATURES)))
    x[:, FEATURES.index("unknown")] = rng.integers(0, 4, 300)
    y = ((x[:, FEATURES.index("req_cov")] + x[:, FEATURES.index("cross")]
          - 0.3 * x[:, FEATURES.index("unknown")] + 0.2 * rng.standard_normal(300)) > 0.6)
    bias, trees = _boosted(x, y.astype(int), FEATURES)
    model = AbstentionModel((), bias, 0.5, FEATURES, trees)
    row = list(x[0])
    for f, step in (("unknown", 1.0), ("req_cov", 0.3), ("cross", 0.3)):
        i = FEATURES.index(f)
        more = row.copy()
        more[i] += step
        assert (model.raw(more) <= model.raw(row)) == (f == "unknown"), f
    back = AbstentionModel._from(json.loads(_json(model.as_dict())))
    assert [back.raw(r) for r in x[:20]] == [model.raw(r) for r in x[:20]]
