"""Which units (sentences, list items, table rows) answer the question: a small learned ranker.

Every unit of the retrieved passages gets a feature vector - how similar it is to the
question (sentence vectors, and word by word: token recall, `ingest.tokens`), how much of
the question's weighted terms it and its heading cover, how
good its passage is, and whether it has the shape the question wants (a figure, a definition,
a list item, either side of a comparison). A logistic model turns the features into the
probability that the unit belongs to a correct answer. Its weights are fitted on the dev
set's gold quotes (`python -m evals.calibrate ranker evals/datasets/dev.jsonl`) and stored in
`bot/ranker.json`; until then hand-set weights are used.

A second stage reads the question and each of the first stage's `CROSS_UNITS` best units
together (`bot.cross_encoder`): a second logistic model over the same features plus the
cross-encoder's (`CROSS_FEATURES`) re-scores every unit. It is fitted the same way, on the
first stage's rankings (`python -m evals.calibrate ranker`), and stored beside the first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ingest.units import Unit, units_of

from .cross_encoder import CrossEncoder
from .definition import defines
from .figures import kinds_in, values_in
from .question import Question
from .retrieval import Hit
from .vocab import Vocabulary

__all__ = ["CROSS_FEATURES", "CROSS_UNITS", "DEFINES", "REFUSAL_UNITS", "UNIT_FEATURES",
           "Candidate", "Logistic", "UnitRanker", "candidates", "cross_query", "cross_text",
           "with_cross", "with_read"]

MODEL_PATH = Path(__file__).with_name("ranker.json")
Similarity = Callable[[str, list[str]], list[float]]
"""similarity(text, candidates): cosine similarities (the bot's embedder)."""

UNIT_FEATURES = (
    "sim", "sim_rel", "sim_rank", "cov", "cov_unit", "ctx_cov", "chunk_rel", "chunk_rank",
    "first", "item", "row", "length", "short", "num_ok", "num_missing", "defines",
    "list_item", "side", "faq", "num_match", "tokens", "tokens_rel", "faq_match",
)
DEFINES = UNIT_FEATURES.index("defines")
CROSS_FEATURES = ("cross", "cross_rel", "cross_top")
"""The cross-encoder's logit for the unit (/10), its distance to the best one (/10), and
1/(1 + its rank among the units it read); units it did not read get the lowest logit read
and rank feature 0."""
CROSS_UNITS = 6
"""How many of the first stage's best units the second stage reads (4-8 ms a pair on 2 cores).
Fitted on dev+check, the best unit's precision on blind..blind4 rose 0.59 -> 0.63 with 4
units read, 0.64 with 6, and no more with 8, 10 or all of them."""
CROSS_SHAPES = ("list",)
"""The question shapes the second stage runs for: where it pays for its ~30 ms. On the four
blind sets' 87 list questions fact recall rose 0.725 -> 0.790 with it (the list model picks
the list from better unit scores); on their 365 other questions 0.829 -> 0.832."""
REFUSAL_UNITS = 1
"""For other questions the cross-encoder reads only the first stage's best unit (~6 ms), for
the refusal model (`bot.abstention`'s `cross`). Fitted on dev+check, on the four blind sets:
oos refusal 0.768 -> 0.818 at false refusals 0.044 -> 0.040; reading 2, 3 or 6 units gave
no more (0.817, 0.825, 0.809 at 0.044-0.047)."""
CROSS = len(UNIT_FEATURES)
"""Index of the `cross` feature in a second-stage candidate's features."""


@dataclass(frozen=True)
class Candidate:
    """A unit of a retrieved passage, with its features and score for one question."""

    unit: Unit
    hit: Hit
    features: tuple[float, ...]
    coverage: float
    """Share of the question's weighted terms the unit (and its heading) covers."""
    score: float = 0.0
    cross: float | None = None
    """The cross-encoder's logit for (question, unit), for the units it read."""


def _coverage(unit: frozenset[str], context: frozenset[str], terms: dict[str, float]
              ) -> tuple[float, float, float]:
    """Weighted shares of the question's terms found in the unit and its context (heading,
    label: half credit), in the unit alone, and in the context alone."""
    total = sum(terms.values()) or 1.0
    both = only_unit = only_ctx = 0.0
    for t, w in terms.items():
        in_unit = t in unit
        in_ctx = t in context
        if in_unit:
            both += w
            only_unit += w
        elif in_ctx:
            both += 0.5 * w
        if in_ctx:
            only_ctx += w
    return both / total, only_unit / total, only_ctx / total


def candidates(hits: Sequence[Hit], q: Question, vocab: Vocabulary,
               similarity: Similarity | None = None) -> list[Candidate]:
    """Every unit of the retrieved passages with its features (unscored). `num_match` marks
    units that state a figure the question itself quotes ("is it really over $300 billion?");
    `faq_match` how similar the question is to the FAQ question a unit answers (the guide
    asks the user's own question)."""
    terms = dict(q.terms)
    q_values = values_in(q.text)
    subject = q.subject_stems() if q.shape == "definition" else frozenset()
    sides = q.side_stems() if q.shape == "comparison" else ()
    rows: list[tuple[Unit, Hit, float, float]] = []
    for h in hits:
        units = units_of(h.chunk)
        sims = h.unit_sims if len(h.unit_sims) == len(units) else (h.dense,) * len(units)
        toks = h.unit_tokens if len(h.unit_tokens) == len(units) else (0.0,) * len(units)
        rows.extend((u, h, float(s), float(t)) for u, s, t in zip(units, sims, toks, strict=True))
    if not rows:
        return []
    best_tokens = max(r[3] for r in rows) or 1.0
    best_sim = max(r[2] for r in rows) or 1.0
    order = sorted(range(len(rows)), key=lambda i: -rows[i][2])
    sim_rank = {i: r for r, i in enumerate(order)}
    best_hit = max(h.score for h in hits) or 1.0
    wants = q.figures - {"number"}
    faqs = sorted({r[0].context for r in rows if r[0].context.endswith("?")})
    faq_sim = dict(zip(faqs, similarity(q.dense or q.query, faqs), strict=True)) \
        if similarity is not None and faqs else {}
    out = []
    for i, (u, h, sim, tok) in enumerate(rows):
        unit_bag = vocab.widen(u.stems)
        ctx = vocab.widen(u.scope_stems)
        cov, cov_unit, ctx_cov = _coverage(unit_bag, ctx, terms)
        n = len(u.text.split())
        has_asked = bool(q.figures) and bool(kinds_in(u.text) & wants if wants else u.has_number)
        side = sum(1.0 for sd in sides if sd & (unit_bag | ctx)) / len(sides) if sides else 0.0
        feats = (
            sim, sim / best_sim, 1.0 / (1 + sim_rank[i]), cov, cov_unit, ctx_cov,
            max(0.0, h.score) / best_hit, 1.0 / (1 + h.rank), float(u.position == 0),
            float(u.kind == "item"), float(u.kind == "row"), min(n, 60) / 60.0, float(n < 6),
            float(has_asked), float(bool(q.figures) and not u.has_number),
            float(bool(subject) and defines(u.text, u.label, subject, vocab)),
            float(q.shape == "list" and u.kind in ("item", "row")), side,
            float(h.chunk.kind == "faq"),
            float(bool(q_values) and bool(q_values & values_in(u.text))),
            tok, tok / best_tokens, max(0.0, faq_sim.get(u.context, 0.0)),
        )
        out.append(Candidate(u, h, feats, cov))
    return out


def cross_text(u: Unit) -> str:
    """What the cross-encoder reads of a unit: its heading (or FAQ question), then the unit."""
    return f"{u.context}: {u.text}" if u.context else u.text


def with_cross(scored: Sequence[Candidate], question: str, encoder: CrossEncoder,
               n: int | None = None) -> list[Candidate]:
    """First-stage candidates (best first) with `CROSS_FEATURES` appended: the first `n`
    read by the cross-encoder together with `question`."""
    if not scored:
        return []
    top = list(scored[:CROSS_UNITS if n is None else n])
    logits = [float(x) for x in encoder.score(question, [cross_text(c.unit) for c in top])]
    best, low = max(logits), min(logits)
    order = sorted(range(len(top)), key=lambda i: -logits[i])
    rank = {i: r for r, i in enumerate(order)}
    out = []
    for i, c in enumerate(scored):
        read = i < len(top)
        v = logits[i] if read else low
        extra = (v / 10.0, (v - best) / 10.0, 1.0 / (1 + rank[i]) if read else 0.0)
        out.append(Candidate(c.unit, c.hit, c.features[:CROSS] + extra, c.coverage, c.score,
                             logits[i] if read else None))
    return out


def with_read(ranked: Sequence[Candidate], question: str, encoder: CrossEncoder, n: int
              ) -> list[Candidate]:
    """The ranking unchanged, its first `n` units with the cross-encoder's logit (`cross`)."""
    top = list(ranked[:n])
    logits = encoder.score(question, [cross_text(c.unit) for c in top])
    return [replace(c, cross=float(v)) for c, v in zip(top, logits, strict=True)] + \
        list(ranked[n:])


@dataclass(frozen=True)
class Logistic:
    """score = sigmoid(w . features + b)."""

    weights: tuple[float, ...]
    bias: float

    def score(self, cands: Sequence[Candidate]) -> list[Candidate]:
        """The candidates with their probability of belonging to the answer, best first."""
        if not cands:
            return []
        x = np.asarray([c.features for c in cands], dtype=np.float64)
        z = x @ np.asarray(self.weights) + self.bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        scored = [Candidate(c.unit, c.hit, c.features, c.coverage, float(s), c.cross)
                  for c, s in zip(cands, p, strict=True)]
        scored.sort(key=lambda c: -c.score)
        return scored


@dataclass(frozen=True)
class UnitRanker:
    """Logistic model over `UNIT_FEATURES`, and the second stage over them plus
    `CROSS_FEATURES` (None until fitted)."""

    weights: tuple[float, ...]
    bias: float
    second: Logistic | None = None
    cross_units: int = CROSS_UNITS
    """How many first-stage units the second stage was fitted to read."""

    @classmethod
    def default(cls) -> UnitRanker:
        if MODEL_PATH.exists():
            return cls.load(MODEL_PATH)
        hand = {"sim_rel": 4.0, "cov": 3.0, "chunk_rel": 2.0, "num_ok": 1.0,
                "num_missing": -0.5, "defines": 2.0, "list_item": 0.5, "short": -1.0,
                "side": 0.5}
        return cls(tuple(hand.get(f, 0.0) for f in UNIT_FEATURES), -7.0)

    @classmethod
    def load(cls, path: Path) -> UnitRanker:
        data = json.loads(path.read_text(encoding="utf-8"))
        fitted = tuple(data["features"])
        if fitted != UNIT_FEATURES[:len(fitted)]:
            raise ValueError(f"{path} was fitted on features {data['features']}, this code "
                             f"uses {UNIT_FEATURES}; re-fit with `python -m evals.calibrate ranker`")
        weights = [float(w) for w in data["weights"]]  # features added since weigh 0
        second = None
        cross = data.get("cross")
        units = CROSS_UNITS
        if cross and tuple(cross["features"]) == UNIT_FEATURES + CROSS_FEATURES:
            second = Logistic(tuple(float(w) for w in cross["weights"]), float(cross["bias"]))
            units = int(cross.get("units", CROSS_UNITS))
        return cls(tuple(weights + [0.0] * (len(UNIT_FEATURES) - len(weights))),
                   float(data["bias"]), second, units)

    def save(self, path: Path, **extra: object) -> None:
        data: dict[str, object] = {"features": UNIT_FEATURES, "weights": list(self.weights),
                                   "bias": self.bias}
        if self.second is not None:
            data["cross"] = {"features": UNIT_FEATURES + CROSS_FEATURES,
                             "weights": list(self.second.weights), "bias": self.second.bias,
                             "units": self.cross_units}
        path.write_text(json.dumps({**data, **extra}, indent=1) + "\n", encoding="utf-8")

    def rank(self, hits: Sequence[Hit], q: Question, vocab: Vocabulary,
             similarity: Similarity | None = None,
             cross_encoder: CrossEncoder | None = None) -> list[Candidate]:
        """Every unit of the passages scored for the question, best first; furniture never,
        units about the document itself only when there is nothing else. With a
        cross-encoder (and a fitted second stage), for the shapes in `CROSS_SHAPES`, the
        second stage's scores; for the others the first stage's, its best unit read by the
        cross-encoder (`Candidate.cross`, for the refusal model)."""
        first = self.first_stage(hits, q, vocab, similarity)
        if cross_encoder is None:
            return first
        if q.shape not in CROSS_SHAPES or self.second is None:
            return with_read(first, cross_query(q), cross_encoder, REFUSAL_UNITS)
        return self.second_stage(first, q, cross_encoder)

    def second_stage(self, first: Sequence[Candidate], q: Question,
                     cross_encoder: CrossEncoder) -> list[Candidate]:
        """A first-stage ranking re-scored by the second stage (unchanged until it is fitted)."""
        if self.second is None:
            return list(first)
        return self.second.score(with_cross(first, cross_query(q), cross_encoder,
                                            self.cross_units))

    def first_stage(self, hits: Sequence[Hit], q: Question, vocab: Vocabulary,
                    similarity: Similarity | None = None) -> list[Candidate]:
        """The first stage's ranking (see `rank`)."""
        scored = [c for c in self.score(candidates(hits, q, vocab, similarity))
                  if not c.unit.furniture]
        return [c for c in scored if not c.unit.about_document] or scored

    def score(self, cands: Sequence[Candidate]) -> list[Candidate]:
        """The candidates with the first stage's probability, best first."""
        return Logistic(self.weights, self.bias).score(cands)


def cross_query(q: Question) -> str:
    """What the cross-encoder reads of the question: what it is about, without how to answer
    ("in plain English, please" took 7 points off a logit)."""
    return q.content or q.text


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
