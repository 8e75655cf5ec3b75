"""Fit the answer models on a labelled dataset (the dev set) and report how they generalise.

    python -m evals.calibrate all evals/datasets/dev.jsonl [--check evals/datasets/check.jsonl]
    python -m evals.calibrate reranker|ranker|abstention evals/datasets/dev.jsonl
    python -m evals.calibrate abstention evals/datasets/dev.jsonl [--check ...]
    python -m evals.calibrate projection        # then: bpo-kb ingest --rebuild
    bpo-kb eval evals/datasets/dev.jsonl --fit-abstention

- reranker: the passage re-ranker (bot/retrieval.py) learns to put passages that hold a
  gold quote first among the dense + BM25 candidates (listwise loss, per question).
- ranker: the unit ranker (bot/ranking.py) learns which sentences, list items and table rows
  of the retrieved passages belong to a correct answer; a unit is a positive example when
  most of its content words are in a gold quote of the item (or it holds most of the quote).
  Then its second stage, the same on the first stage's rankings with the cross-encoder's
  features of its best units added.
- abstention: the refusal model (bot/abstention.py, boosted trees) learns answerable vs not
  from the items' `answerable` labels; its threshold is the highest refusal cut that keeps
  false refusals of answerable items, scored out of fold (each set by trees fitted on the
  others), at or under FALSE_ABSTAIN_BUDGET; a second model without the
  cross-encoder's feature, on first-stage rankings, for a bot without one. `--left-out` adds
  the items asked of an index without each document (see `fit_abstention` for why it is not
  the default).

- projection: the PCA that shrinks the bundled MiniLM's word-piece vectors to
  `ingest.tokens.TOKEN_DIM` dims (ingest/token_projection.npz), fitted on the word-pieces of
  the indexed units and headings (no labels).

The models are logistic regressions (the refusal model: boosted trees) over a handful of
generic features (no question-specific rules); the fitted weights are written to
bot/reranker.json, bot/ranker.json and bot/abstention.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["fit_abstention", "fit_ranker", "main"]

RERANK_L2 = 0.005
"""L2 pull of the re-ranker's weights towards the previous fit. Without it the token-recall
feature took a weight 10x any other and dev/check recall@5 and MRR were no better (0.005
vs 0: dev MRR 0.83 vs 0.86, check recall@5 0.99 vs 0.97, answers as good or better)."""
LIST_C = 0.1
"""Inverse L2 strength of the list model: 5-fold grouped CV on dev+check+synthetic, list gain
-28 at 0.1 vs -29 at 1.0, and the folds' thresholds spread 0.63-0.73 vs 0.74-0.79 (measured
before a list showed the question's best unit; refitted since at 0.1: cross-validated -23,
thresholds 0.63-0.73; with a list's lead sentence as one of its units: -20, 0.64-0.73)."""
FALSE_ABSTAIN_BUDGET = 0.03
"""Largest share of answerable dev items the fitted threshold may refuse."""
REFUSAL_TREES = 150
REFUSAL_DEPTH = 3
REFUSAL_RATE = 0.05
REFUSAL_L2 = 1.0
"""The refusal model's boosted trees: 150 trees of depth 3, learning rate 0.05, L2 1.0.
Chosen on the eight labelled sets each left out in turn (threshold at 3% false refusals of
the others' out-of-fold scores): depth 2-4, 100-300 trees and L2 0-5 refused 0.829-0.849 of
the left-out unanswerable questions at 2.9-3.3% false refusals; the sign-constrained logistic
model 0.816 at 3.1%, unconstrained 0.803, and trees constrained in every feature 0.816."""


def _load(path: Path) -> list[dict[str, Any]]:
    from .dataset import load_dataset

    return [it if isinstance(it, dict) else _item_dict(it) for it in load_dataset(path)]


def _item_dict(item: Any) -> dict[str, Any]:
    d = dict(getattr(item, "__dict__", {}))
    for k in ("id", "question", "category", "answerable", "must_include", "sources", "history"):
        if hasattr(item, k):
            d[k] = getattr(item, k)
    srcs = []
    for s in d.get("sources") or []:
        srcs.append(s if isinstance(s, dict) else {"doc": getattr(s, "doc", ""),
                                                    "quote": getattr(s, "quote", "")})
    d["sources"] = srcs
    hist = []
    for t in d.get("history") or []:
        hist.append(t if isinstance(t, dict) else {"role": getattr(t, "role", "user"),
                                                   "content": getattr(t, "content", "")})
    d["history"] = hist
    return d


def _unit_label(unit_text: str, quotes: Sequence[str]) -> int:
    from .metrics import content_words

    u = set(content_words(unit_text))
    if len(u) < 2:
        return 0
    for q in quotes:
        qw = set(content_words(q))
        if not qw:
            continue
        inter = len(u & qw)
        if inter >= 3 and (inter / len(u) >= 0.6 or inter / len(qw) >= 0.6):
            return 1
    return 0


def _read(bot: Any, it: dict[str, Any]) -> Any:
    from bot import parse_history

    return bot.read(it["question"], parse_history(it.get("history") or []))


def _unit_rows(bot: Any, items: Sequence[dict[str, Any]],
               rank: Callable[[Any, Any], Sequence[Any]]
               ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Unit-ranker rows: for each answerable item with sources, the units `rank(q, hits)`
    gives, each with its features and whether it holds a gold quote, grouped by item."""
    xs: list[tuple[float, ...]] = []
    ys: list[int] = []
    groups: list[int] = []
    for gi, it in enumerate(items):
        if not it.get("answerable") or not it.get("sources"):
            continue
        q = _read(bot, it)
        quotes = [s["quote"] for s in it["sources"]]
        for c in rank(q, bot.retrieve(q)):
            xs.append(c.features)
            ys.append(_unit_label(c.unit.text, quotes))
            groups.append(gi)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys), groups


def _ranker_rows(bot: Any, items: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray,
                                                                     list[int]]:
    """First-stage rows: every unit of the retrieved passages, unscored."""
    from bot.ranking import candidates

    return _unit_rows(bot, items, lambda q, hits: candidates(hits, q, bot.vocab, bot.similarity))


def _cross_rows(bot: Any, items: Sequence[dict[str, Any]], units: int | None = None
                ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Second-stage rows: each item's first-stage ranking with the cross-encoder's features."""
    from bot.ranking import cross_query, with_cross

    def rank(q: Any, hits: Any) -> Sequence[Any]:
        first = bot._ranker.first_stage(hits, q, bot.vocab, bot.similarity)
        return with_cross(first, cross_query(q), bot._cross, units)

    return _unit_rows(bot, items, rank)


def _top1(x: np.ndarray, y: np.ndarray, groups: list[int], w: np.ndarray, b: float) -> float:
    """Share of items whose best-scored unit is a positive one (items with any positive)."""
    scores = x @ w + b
    best: dict[int, tuple[float, int]] = {}
    has_pos: set[int] = set()
    for s, label, g in zip(scores, y, groups, strict=True):
        if label:
            has_pos.add(g)
        if g not in best or s > best[g][0]:
            best[g] = (float(s), int(label))
    return sum(best[g][1] for g in has_pos) / max(1, len(has_pos))


def _listwise(x: np.ndarray, y: np.ndarray, groups: list[int], w0: np.ndarray,
              l2: float = 0.02, steps: int = 3000, lr: float = 0.05) -> np.ndarray:
    """Weights maximising, per question, the softmax probability of its positive units
    (listwise ranking loss), with an L2 pull towards the starting weights `w0`."""
    g = np.asarray(groups)
    ids = [np.flatnonzero(g == k) for k in sorted(set(groups))]
    ids = [i for i in ids if y[i].any()]
    w = w0.astype(np.float64).copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):
        grad = 2 * l2 * (w - w0)
        for i in ids:
            s = x[i] @ w
            e = np.exp(s - s.max())
            p_all = e / e.sum()
            pos = y[i] == 1
            p_pos = e[pos] / e[pos].sum()
            grad += (p_all @ x[i] - p_pos @ x[i][pos]) / len(ids)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def _reranker_rows(bot: Any, items: Sequence[dict[str, Any]]
                   ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    from .metrics import covers

    xs, ys, groups = [], [], []
    retriever = bot._retriever
    for gi, it in enumerate(items):
        if not it.get("answerable") or not it.get("sources"):
            continue
        quotes = [s["quote"] for s in it["sources"]]
        for c in retriever.pool(_read(bot, it)):
            text = bot.generation.chunks[c.index].text
            xs.append(c.features)
            ys.append(int(any(covers(text, q) for q in quotes)))
            groups.append(gi)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys), groups


def _rank_metrics(x: np.ndarray, y: np.ndarray, groups: list[int], w: np.ndarray, k: int = 5
                  ) -> tuple[float, float]:
    """recall@k and MRR of the positives under weights `w` (items with a positive in the pool;
    items without one count as misses)."""
    g = np.asarray(groups)
    rec, rr = [], []
    for key in sorted(set(groups)):
        i = np.flatnonzero(g == key)
        order = np.argsort(-(x[i] @ w), kind="stable")
        labels = y[i][order]
        pos = np.flatnonzero(labels)
        rank = int(pos[0]) if len(pos) else None
        rec.append(rank is not None and rank < k)
        rr.append(0.0 if rank is None else 1.0 / (rank + 1))
    return float(np.mean(rec)), float(np.mean(rr))


def fit_reranker(bot: Any, items: Sequence[dict[str, Any]], echo: Callable[[str], None],
                 check: Sequence[dict[str, Any]] = (), save: bool = True) -> dict[str, float]:
    from bot.retrieval import MODEL_PATH, RERANK_FEATURES, Reranker

    x, y, groups = _reranker_rows(bot, items)
    old = np.asarray(Reranker.default().weights)
    if len(old) < x.shape[1]:  # new features start at weight 0
        old = np.concatenate([old, np.zeros(x.shape[1] - len(old))])
    w = _listwise(x, y, groups, old, l2=RERANK_L2)
    out = {}
    out["dev_recall@5_before"], out["dev_mrr_before"] = _rank_metrics(x, y, groups, old)
    out["dev_recall@5"], out["dev_mrr"] = _rank_metrics(x, y, groups, w)
    if check:
        cx, cy, cg = _reranker_rows(bot, check)
        out["check_recall@5_before"], out["check_mrr_before"] = _rank_metrics(cx, cy, cg, old)
        out["check_recall@5"], out["check_mrr"] = _rank_metrics(cx, cy, cg, w)
    for k, v in out.items():
        echo(f"  {k}: {v:.3f}")
    echo("  weights: " + ", ".join(f"{f}={wi:+.2f}" for f, wi in zip(RERANK_FEATURES, w,
                                                                      strict=True)))
    if save:
        Reranker(tuple(float(v) for v in w)).save(MODEL_PATH, fitted_on=len(items), metrics=out)
        echo(f"wrote {MODEL_PATH}")
    return out


def _fit_ranking(x: np.ndarray, y: np.ndarray, groups: list[int], w0: np.ndarray
                 ) -> tuple[np.ndarray, float]:
    """Listwise weights pulled towards `w0`, scaled (with a bias) so scores read as
    probabilities: the bias does not change the ranking."""
    from sklearn.linear_model import LogisticRegression

    w = _listwise(x, y, groups, w0)
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x @ w)[:, None], y)
    return w * float(model.coef_[0][0]), float(model.intercept_[0])


def fit_ranker(bot: Any, items: Sequence[dict[str, Any]], echo: Callable[[str], None],
               check: Sequence[dict[str, Any]] = (), save: bool = True) -> dict[str, float]:
    """The unit ranker's first stage, then (with a cross-encoder) its second stage."""
    from bot.ranking import CROSS_FEATURES, MODEL_PATH, UNIT_FEATURES, Logistic, UnitRanker

    x, y, groups = _ranker_rows(bot, items)
    old = UnitRanker.default()
    w, b = _fit_ranking(x, y, groups, np.asarray(old.weights))
    out: dict[str, float] = {"dev_top1": _top1(x, y, groups, w, b), "dev_units": len(y),
                             "dev_pos": int(y.sum())}
    out["dev_top1_before"] = _top1(x, y, groups, np.asarray(old.weights), old.bias)
    if check:
        cx, cy, cg = _ranker_rows(bot, check)
        out["check_top1"] = _top1(cx, cy, cg, w, b)
        out["check_top1_before"] = _top1(cx, cy, cg, np.asarray(old.weights), old.bias)
    echo("  weights: " + ", ".join(f"{f}={wi:+.2f}" for f, wi in zip(UNIT_FEATURES, w,
                                                                      strict=True)))
    ranker = UnitRanker(tuple(float(v) for v in w), b, old.second)
    second = None
    if bot._cross is not None:
        bot._ranker = ranker  # the second stage re-scores the new first stage's ranking
        x2, y2, g2 = _cross_rows(bot, items)
        w0 = np.concatenate([w, np.zeros(len(CROSS_FEATURES))])
        w2, b2 = _fit_ranking(x2, y2, g2, w0)
        second = Logistic(tuple(float(v) for v in w2), b2)
        out["dev_top1_second"] = _top1(x2, y2, g2, w2, b2)
        out["dev_top1_first_same_rows"] = _top1(x2, y2, g2, w0, b)
        if check:
            cx2, cy2, cg2 = _cross_rows(bot, check)
            out["check_top1_second"] = _top1(cx2, cy2, cg2, w2, b2)
        echo("  second stage: " + ", ".join(f"{f}={wi:+.2f}" for f, wi in zip(
            UNIT_FEATURES + CROSS_FEATURES, w2, strict=True)))
    for k, v in out.items():
        echo(f"  {k}: {v:.3f}" if isinstance(v, float) else f"  {k}: {v}")
    if save:
        UnitRanker(ranker.weights, b, second).save(MODEL_PATH, fitted_on=len(items),
                                                   metrics=out)
        echo(f"wrote {MODEL_PATH}")
    return out


def _abstention_rows(bot: Any, items: Sequence[dict[str, Any]], *, cross: bool = True
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Refusal-model rows; `cross=False`: the features of a bot without a cross-encoder."""
    from bot.abstention import FEATURES, PLAIN

    xs, ys = [], []
    encoder = bot._cross if cross else None
    for it in items:
        q = _read(bot, it)
        hits = bot.retrieve(q)
        ranked = bot._ranker.rank(hits, q, bot.vocab, bot.similarity, encoder)
        _, f = bot.assess(q, hits, ranked)
        xs.append(f.vector(FEATURES if encoder is not None else PLAIN))
        ys.append(1 if it.get("answerable") else 0)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys)


def left_out_negatives(items: Sequence[dict[str, Any]], texts: Mapping[str, str]
                       ) -> dict[str, list[int]]:
    """Answerable items that become unanswerable without one document: all their sources
    are in it and none of their facts (any alternative) is in any other document's text
    (`texts`: document -> text, e.g. `evals.corpus.Corpus.texts`). Document name -> the
    items' indexes. No label beyond the items' own is used."""
    from .metrics import fact_found

    out: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        docs = {src["doc"] for src in it.get("sources") or []}
        facts = it.get("must_include") or []
        if not it.get("answerable") or not facts or len(docs) != 1:
            continue
        doc = next(iter(docs))
        if doc not in texts:
            continue
        others = "\n".join(t for d, t in texts.items() if d != doc)
        if not any(fact_found(others, f) for f in facts):
            out.setdefault(doc, []).append(i)
    return out


def _left_out_rows(bot: Any, items: Sequence[dict[str, Any]], echo: Callable[[str], None],
                   cross: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Refusal-model rows asked of an index without one document, one temporary index per
    document of the corpus folder: the items only it answers (`left_out_negatives`)
    labelled unanswerable, and the answerable items whose sources are all in the other
    documents labelled answerable (the same questions against a smaller corpus: the model
    sees both kinds in each). Returns the rows, labels and each row's item index."""
    from .corpus import Corpus
    from .leave_one_out import bot_without

    settings = bot.settings
    texts = {d: t for d, t in Corpus.load(settings).texts.items()
             if (Path(settings.corpus_dir) / d).is_file()}  # the folder's: each can be left out
    xs: list[list[float]] = []
    ys: list[int] = []
    groups: list[int] = []
    for doc, idx in sorted(left_out_negatives(items, texts).items()):
        keep = [i for i, it in enumerate(items) if it.get("answerable") and it.get("sources")
                and all(src["doc"] != doc for src in it["sources"])]
        with bot_without(settings, doc, prefix="bpo-kb-fit-") as without:
            x, _ = _abstention_rows(without, [items[i] for i in idx + keep], cross=cross)
        xs.extend(x.tolist())
        ys.extend([0] * len(idx) + [1] * len(keep))
        groups.extend(idx + keep)
        echo(f"  without {doc}: {len(idx)} items only it answers, {len(keep)} answered by "
             "the others")
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=int), groups


def _threshold(p: np.ndarray, y: np.ndarray, budget: float) -> float:
    """The refusal threshold: as high as possible while refusing at most `budget` of the
    answerable items, placed midway between two scores so that a tiny numeric difference
    (another machine, another BLAS) cannot move an item across it."""
    pos = np.sort(p[y == 1])
    if len(pos) == 0:
        return 0.5
    k = int(np.floor(budget * len(pos)))  # answerable items allowed below the threshold
    if k >= len(pos):
        return float(pos[-1])
    below = float(pos[k - 1]) if k > 0 else 0.0
    above = float(pos[k])
    # highest gap under `above` that keeps k items below: midway between the closest scores
    others = np.sort(p[(p > below) & (p < above)])
    lo = float(others[-1]) if len(others) else below
    return (lo + above) / 2


def _rates(p: np.ndarray, y: np.ndarray, t: float) -> tuple[float, float]:
    refused = p < t
    fa = float(refused[y == 1].mean()) if (y == 1).any() else 0.0
    oos = float(refused[y == 0].mean()) if (y == 0).any() else 0.0
    return fa, oos


def fit_abstention(bot: Any, items: Sequence[Any], results: Any, echo: Callable[[str], None],
                   check: Sequence[dict[str, Any]] = (), save: bool = True,
                   left_out: bool = False) -> dict[str, float]:
    """Fit the refusal model and its threshold on labelled items (signature used by
    `bpo-kb eval --fit-abstention`; `results` is not needed). The threshold is set on
    out-of-fold scores: each item scored by trees fitted without its set (an item's `_set`,
    the file it came from; five folds of one set). With `left_out`
    (`calibrate abstention --left-out`), the items are also asked of an index without each
    document (`_left_out_rows`: one temporary index per document, a minute or two each) -
    on-topic questions the smaller corpus does not answer, and ones it still does - and
    those rows are added to every fit.

    Not the default: in 5x5-fold CV on dev+check it raised out-of-fold oos refusal 0.747 ->
    0.788 (false refusals 0.032 -> 0.035), but the fitted model leans on absolute similarity
    and refused "walk me through returning something" on a two-document returns policy and
    handbook (0.18 against a 0.24 threshold; 0.55 without): a user's small corpus matters
    more than four points on the guides (measured with the logistic model before the trees)."""
    from bot.abstention import MODEL_PATH

    rows = [it if isinstance(it, dict) else _item_dict(it) for it in items]
    rows = [it for it in rows if it.get("category") != "synthetic"]  # all answerable
    fits = [(cross, *_fit_refusal(bot, rows, check, cross, left_out, echo))
            for cross in ((True, False) if bot._cross is not None else (False,))]
    if save:
        main, extra = fits[0][1], {}
        if len(fits) > 1:
            extra["without_cross_encoder"] = fits[1][1].as_dict(metrics=fits[1][2])
        MODEL_PATH.write_text(_json(main.as_dict(fitted_on=len(rows), metrics=fits[0][2],
                                                 **extra)) + "\n", encoding="utf-8")
        echo(f"wrote {MODEL_PATH}")
    return fits[0][2]


def _depth(value: Any) -> int:
    """How deeply lists nest in `value` (a number: 0, a list of numbers: 1, a tree: 2)."""
    if not isinstance(value, (list, tuple)):
        return 0
    return 1 + max((_depth(v) for v in value), default=0)


def _json(value: Any, indent: int = 0) -> str:
    """JSON with a list of numbers on one line and a tree (a list of nodes) on one line."""
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        body = ",\n".join(f"{pad}{json.dumps(k)}: {_json(v, indent + 1)}"
                          for k, v in value.items())
        return "{\n" + body + "\n" + " " * indent + "}"
    if _depth(value) > 2:  # the list of trees: one tree per line
        return "[\n" + ",\n".join(pad + _json(v, indent + 1) for v in value) + "\n" + \
            " " * indent + "]"
    return json.dumps(value, separators=(",", ":") if _depth(value) == 2 else None)


def _boosted(x: np.ndarray, y: np.ndarray, names: Sequence[str]
             ) -> tuple[float, tuple[Any, ...]]:
    """Boosted trees (scikit-learn's histogram gradient boosting, balanced classes), each
    feature's effect kept on its meaning's side (`bot.abstention.LOWERS`, `FREE`): the bias
    and the trees as `bot.abstention.AbstentionModel` reads them, checked to score every row
    as scikit-learn does."""
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier

    from bot.abstention import FREE, LOWERS, AbstentionModel

    signs = [0 if f in FREE else -1 if f in LOWERS else 1 for f in names]
    m = HistGradientBoostingClassifier(
        max_depth=REFUSAL_DEPTH, max_iter=REFUSAL_TREES, learning_rate=REFUSAL_RATE,
        l2_regularization=REFUSAL_L2, class_weight="balanced", monotonic_cst=signs,
        early_stopping=False, random_state=0).fit(x, y)
    trees = tuple(tuple((-1 if n["is_leaf"] else int(n["feature_idx"]),
                         float(n["num_threshold"]), int(n["left"]), int(n["right"]),
                         float(n["value"])) for n in p[0].nodes) for p in m._predictors)
    bias = float(np.ravel(m._baseline_prediction)[0])
    ours = np.array([AbstentionModel((), bias, 0.0, tuple(names), trees).raw(r) for r in x])
    if not np.allclose(ours, m.decision_function(x), atol=1e-6):
        raise RuntimeError("the exported trees do not score as scikit-learn's model does "
                           f"(scikit-learn {sklearn.__version__}): check "
                           "evals.calibrate._boosted against its tree format")
    return bias, trees


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: Sequence[str], names: Sequence[str],
                 extra: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Each row's score from trees fitted without its group (its set; five folds when the
    rows come from one set), `extra` rows added to every fit."""
    from bot.abstention import AbstentionModel

    keys = sorted(set(groups))
    fold = np.array([keys.index(g) for g in groups]) if len(keys) > 1 \
        else np.arange(len(y)) % 5
    p = np.zeros(len(y))
    for k in sorted(set(fold.tolist())):
        tx, ty = x[fold != k], y[fold != k]
        if extra is not None and len(extra[1]):
            tx, ty = np.vstack([tx, extra[0]]), np.concatenate([ty, extra[1]])
        bias, trees = _boosted(tx, ty, names)
        model = AbstentionModel((), bias, 0.0, tuple(names), trees)
        p[fold == k] = [model.probability(r) for r in x[fold == k]]
    return p


def _fit_refusal(bot: Any, rows: Sequence[dict[str, Any]], check: Sequence[dict[str, Any]],
                 cross: bool, left_out: bool, echo: Callable[[str], None]
                 ) -> tuple[Any, dict[str, float]]:
    """One refusal model (with or without the cross-encoder's feature) and its metrics:
    the threshold, and the false refusals and refusals of unanswerable items out of fold."""
    from bot.abstention import FEATURES, PLAIN, AbstentionModel

    names = FEATURES if cross else PLAIN
    x, y = _abstention_rows(bot, rows, cross=cross)
    extra = None
    if left_out:
        xl, yl, _ = _left_out_rows(bot, rows, echo, cross)
        extra = (xl, yl)
    groups = [str(it.get("_set", "")) for it in rows]
    oof = _out_of_fold(x, y, groups, names, extra)
    t = _threshold(oof, y, FALSE_ABSTAIN_BUDGET)
    fa, oos = _rates(oof, y, t)
    xa, ya = (np.vstack([x, extra[0]]), np.concatenate([y, extra[1]])) \
        if extra is not None and len(extra[1]) else (x, y)
    bias, trees = _boosted(xa, ya, names)
    model = AbstentionModel((), bias, t, tuple(names), trees)
    out = {"threshold": t, "out_of_fold_false_abstain": fa, "out_of_fold_oos_refusal": oos}
    if len(ya) > len(y):  # the left-out rows: refusals of their unanswerable ones
        pl = np.array([model.probability(r) for r in xa[len(y):]])
        out["left_out_negatives"] = float(np.sum(ya[len(y):] == 0))
        out["left_out_refused"] = float(np.mean(pl[ya[len(y):] == 0] < t))
    if check:
        cx, cy = _abstention_rows(bot, check, cross=cross)
        cp = np.array([model.probability(r) for r in cx])
        out["check_false_abstain"], out["check_oos_refusal"] = _rates(cp, cy, t)
    echo(f"  {'with' if cross else 'without'} the cross-encoder:")
    for k, v in out.items():
        echo(f"    {k}: {v:.3f}")
    echo(f"    {len(trees)} trees of depth {REFUSAL_DEPTH} over " + ", ".join(names))
    return model, out


def _recall(text: str, facts: Sequence[Sequence[str]]) -> float:
    """Share of `facts` the text states (evals.metrics' rule)."""
    from .metrics import fact_found

    return sum(fact_found(text, f) for f in facts) / len(facts) if facts else 0.0


def _list_rows(bot: Any, items: Sequence[dict[str, Any]]
               ) -> tuple[np.ndarray, np.ndarray, list[int], list[tuple[float, float]]]:
    """Per answerable item that asks for a list, every list among its ranked units with
    `LIST_FEATURES`, labelled by outcome: a list is a positive when answering with it states more of the item's facts
    than the answer without a list (or, for items without facts - the synthetic ones -
    when it holds their gold passage's units). Also returns each list's (fact recall with
    it, without it), for choosing the threshold."""
    from bot.compose import ListModel, compose, render
    from bot.compose.listing import faq_lead, list_features, list_lines, whole_lists

    never = ListModel((0.0,) * len(bot._lists.weights), 0.0, 2.0)
    xs, ys, groups, recalls = [], [], [], []
    for gi, it in enumerate(items):
        if not it.get("answerable") or not it.get("sources"):
            continue
        q = _read(bot, it)
        if not q.wants_list:
            continue  # only a question that asks for a list is answered with one
        ranked = bot.rank(q, bot.retrieve(q))
        facts = it.get("must_include") or []
        quotes = [s["quote"] for s in it["sources"]]

        base = compose(q, ranked, bot.vocab, max_units=bot.settings.max_answer_sentences,
                       similarity=bot.similarity, neighbour=bot._neighbour, lists=never)
        base_r = _recall(base.text, facts)
        faq = faq_lead(ranked)
        for whole in whole_lists(ranked, bot._neighbour):
            if facts:
                r = _recall(render(list_lines(whole, q, ranked, bot.similarity)).text, facts)
                label = int(r > base_r)
            else:
                r, base_r = 0.0, 0.0
                label = int(sum(1 for item in whole.items if any(
                    _unit_label(c.unit.text, quotes) for c in item)) >= 2)
            xs.append(list_features(whole, q, ranked, bot.vocab, faq))
            ys.append(label)
            groups.append(gi)
            recalls.append((r, base_r))
    return np.asarray(xs, dtype=np.float64), np.asarray(ys), groups, recalls


def _list_gain(p: np.ndarray, y: np.ndarray, groups: list[int], t: float, subset: set[int],
               recalls: list[tuple[float, float]], has_facts: dict[int, bool]) -> float:
    """Over the questions in `subset`, answering with the best-scored list when it clears
    `t`: for questions with facts, the fact recall it gains over the answer without a list;
    for the others (synthetic), +1 for a list holding the gold, -1 for another, -1 for a
    gold list missed."""
    g = np.asarray(groups)
    gain = 0.0
    for key in subset:
        i = np.flatnonzero(g == key)
        best = i[int(np.argmax(p[i]))]
        if has_facts[key]:
            if p[best] >= t:
                gain += recalls[best][0] - recalls[best][1]
        elif p[best] >= t:
            gain += 1 if y[best] else -1
        elif y[i].any():
            gain -= 1
    return gain


def fit_lists(bot: Any, items: Sequence[dict[str, Any]], echo: Callable[[str], None],
              save: bool = True) -> dict[str, float]:
    """The list model (bot/compose/listing.py): logistic regression over `LIST_FEATURES` on
    the lists of questions that ask for a list, and the threshold that maximises the gain
    of answering them with the best list (`_list_gain`)."""
    from sklearn.linear_model import LogisticRegression

    from bot.compose.listing import LIST_FEATURES, MODEL_PATH, ListModel

    x, y, groups, recalls = _list_rows(bot, items)
    facts = {gi: bool(it.get("must_include")) for gi, it in enumerate(items)}
    asks = set(groups)
    grid = [float(t) for t in np.linspace(0.05, 0.95, 91)] + [1.1]

    def fit_on(rows: np.ndarray) -> LogisticRegression:
        m = LogisticRegression(C=LIST_C, max_iter=5000, class_weight="balanced")
        return m.fit(x[rows], y[rows])

    def best_t(p: np.ndarray, qs: set[int]) -> float:
        return max(grid, key=lambda t: (_list_gain(p, y, groups, t, qs, recalls, facts), -t))

    # The threshold: the median of the ones chosen inside a 5-fold split by question (each
    # on the other folds' gain) - the in-sample best sits higher and was a narrow peak.
    order = np.random.default_rng(0).permutation(sorted(asks))
    cv_t, cv_gain = [], 0.0
    for k in range(5):
        held = {int(q) for q in order[k::5]}
        p = fit_on(np.array([gq not in held for gq in groups])).predict_proba(x)[:, 1]
        cv_t.append(best_t(p, asks - held))
        cv_gain += _list_gain(p, y, groups, cv_t[-1], held, recalls, facts)
    t = float(np.median(cv_t))
    model = fit_on(np.ones(len(y), dtype=bool))
    p = model.predict_proba(x)[:, 1]
    out = {"lists": len(y), "positive": int(y.sum()), "questions": len(asks), "threshold": t,
           "gain": _list_gain(p, y, groups, t, asks, recalls, facts), "cv_gain": cv_gain,
           "gain_never": _list_gain(p, y, groups, 1.1, asks, recalls, facts)}
    echo(f"  {len(y)} lists ({int(y.sum())} positive) of {len(asks)} list questions; "
         f"threshold {t:.2f} (median of folds' {', '.join(f'{v:.2f}' for v in cv_t)}): gain "
         f"{out['gain']:.1f}, cross-validated {cv_gain:.1f} (never a list: "
         f"{out['gain_never']:.1f})")
    echo("  weights: " + ", ".join(f"{f}={w:+.2f}" for f, w in zip(LIST_FEATURES,
                                                                   model.coef_[0], strict=True)))
    if save:
        ListModel(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]),
                  t).save(MODEL_PATH, fitted_on=len(items), metrics=out)
        echo(f"wrote {MODEL_PATH}")
    return out


def fit_names(bot: Any, echo: Callable[[str], None], save: bool = True) -> dict[str, float]:
    """The name model (bot/names.py): a logistic regression over the embeddings of the
    index's own words, each labelled a name when the documents write it with capitals nearly
    every time, at least once inside a sentence. No eval labels are used."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from bot.names import MODEL_PATH, NameModel

    terms = bot.generation.terms
    embed = bot._retriever.embedder.embed_query
    ws = sorted(w for w in terms.words if w.isalpha() and len(w) > 2)
    y = np.asarray([int(terms.capitalised(w) and terms.inside.get(w, 0) > 0) for w in ws])
    x = np.stack([embed(w) for w in ws])
    model = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
    auc = float(cross_val_score(model, x, y, cv=5, scoring="roc_auc").mean())
    model.fit(x, y)
    out = {"words": len(ws), "names": int(y.sum()), "cv_auc": auc}
    echo(f"  {len(ws)} words of the index, {int(y.sum())} written as names; 5-fold AUC {auc:.3f}")
    if save:
        NameModel(model.coef_[0].astype(np.float32), float(model.intercept_[0]),
                  bot.settings.embedder).save(MODEL_PATH, metrics=out)
        echo(f"wrote {MODEL_PATH}")
    return out


def fit_projection(bot: Any, echo: Callable[[str], None], save: bool = True) -> None:
    """PCA of the word-piece vectors of every unit and heading of the live index."""
    from ingest.tokens import PROJECTION_PATH, TOKEN_DIM, Projection, group_texts

    gen = bot.generation
    texts, _ = group_texts(gen.chunks)
    vecs = np.concatenate([v for _, v in bot._retriever.embedder.embed_tokens(texts)])
    proj = Projection.fit(vecs, TOKEN_DIM, gen.manifest["embedder"])
    x = vecs[np.random.default_rng(0).choice(len(vecs), min(2000, len(vecs)), replace=False)]
    full, low = x @ x.T, proj.apply(x) @ proj.apply(x).T
    echo(f"  {len(vecs)} word-pieces -> {TOKEN_DIM} dims; cosine error on 2000 of them: "
         f"mean {float(np.abs(full - low).mean()):.3f}")
    if save:
        proj.save(PROJECTION_PATH)
        echo(f"wrote {PROJECTION_PATH}; rebuild the index: bpo-kb ingest --rebuild")


def main(argv: Sequence[str] | None = None) -> int:
    from bot import Bot
    from bpo_kb import Settings

    ap = argparse.ArgumentParser(prog="python -m evals.calibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["reranker", "ranker", "lists", "abstention", "all",
                                      "projection", "names"])
    ap.add_argument("dataset", type=Path, nargs="*",
                    help="Labelled sets to fit on (their items are pooled).")
    ap.add_argument("--check", type=Path, default=None,
                    help="A second labelled set to report generalisation on (not fitted).")
    ap.add_argument("--dry-run", action="store_true", help="Report, don't save.")
    ap.add_argument("--left-out", action="store_true",
                    help="abstention: also fit on the items asked of an index without each "
                         "document (a temporary index per document).")
    args = ap.parse_args(argv)
    bot = Bot.open(Settings())
    if args.model == "projection":
        fit_projection(bot, print, save=not args.dry_run)
        return 0
    if args.model == "names":
        fit_names(bot, print, save=not args.dry_run)
        return 0
    if not args.dataset:
        ap.error(f"{args.model} needs a labelled dataset, e.g. evals/datasets/dev.jsonl")
    items = [{**it, "_set": path.stem} for path in args.dataset for it in _load(path)]
    check = _load(args.check) if args.check else []
    if args.model in ("reranker", "all"):
        print("passage re-ranker:")
        fit_reranker(bot, items, print, check, save=not args.dry_run)
        from bot.retrieval import Reranker

        bot._retriever.reranker = Reranker.default()
    if args.model in ("ranker", "all"):
        print("unit ranker:")
        fit_ranker(bot, items, print, check, save=not args.dry_run)
        from bot.ranking import UnitRanker

        bot._ranker = UnitRanker.default()  # the new weights for the abstention features
    if args.model in ("lists", "all"):
        print("list model:")
        fit_lists(bot, items, print, save=not args.dry_run)
        from bot.compose import ListModel

        bot._lists = ListModel.default()
    if args.model in ("abstention", "all"):
        print("abstention:")
        fit_abstention(bot, items, None, print, check, save=not args.dry_run,
                       left_out=args.left_out)
    json.dumps({})
    return 0


if __name__ == "__main__":
    sys.exit(main())
