"""Which units (sentences, list items, table rows) answer the question: a small learned ranker.

Every unit of the retrieved passages gets a feature vector - how similar it is to the
question (sentence vectors, and word by word: token recall, `ingest.tokens`), how much of
the question's weighted terms it and its heading cover, how
good its passage is, and whether it has the shape the question wants (a figure, a definition,
a list item, either side of a comparison). A logistic model turns the features into the
probability that the unit belongs to a correct answer. Its weights are fitted on the dev
set's gold quotes (`python -m evals.calibrate ranker evals/datasets/dev.jsonl`) and stored in
`bot/ranker.json`; until then hand-set weights are used.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.text import stems
from ingest.units import Unit, units_of

from .lexicon import concept, concepts
from .query import ACRONYMS
from .retrieval import Hit
from .shape import Shape

__all__ = ["DEFINES", "UNIT_FEATURES", "Candidate", "UnitRanker", "candidates"]

MODEL_PATH = Path(__file__).with_name("ranker.json")
_EXPANSION_STEMS = {stems(a)[0]: tuple(stems(e)) for a, e in ACRONYMS.items() if stems(a)}

UNIT_FEATURES = (
    "sim", "sim_rel", "sim_rank", "cov", "cov_unit", "ctx_cov", "chunk_rel", "chunk_rank",
    "first", "item", "row", "length", "short", "num_ok", "num_missing", "defines",
    "list_item", "side", "faq", "num_match", "tokens", "tokens_rel",
)
DEFINES = UNIT_FEATURES.index("defines")


@dataclass(frozen=True)
class Candidate:
    """A unit of a retrieved passage, with its features and score for one question."""

    unit: Unit
    hit: Hit
    features: tuple[float, ...]
    coverage: float
    """Share of the question's weighted terms the unit (and its heading) covers."""
    score: float = 0.0


def _has(term: str, bag: frozenset[str]) -> bool:
    """Is the term in the bag: itself, a word of the same concept ("staff" for "employees"),
    or, for an acronym, all the words of its expansion ("KPO" in "knowledge process ...")?"""
    if term in bag or concept(term) in bag:
        return True
    expansion = _EXPANSION_STEMS.get(term)
    if not expansion:
        return False
    return all(e in bag for e in expansion)


def _coverage(unit_stems: frozenset[str], context: frozenset[str], terms: dict[str, float]
              ) -> tuple[float, float, float]:
    total = sum(terms.values()) or 1.0
    both = only_unit = only_ctx = 0.0
    unit_bag = concepts(unit_stems)
    ctx_bag = concepts(context)
    for t, w in terms.items():
        in_unit = _has(t, unit_bag)
        in_ctx = _has(t, ctx_bag)
        if in_unit:
            both += w
            only_unit += w
        elif in_ctx:
            both += 0.5 * w
        if in_ctx:
            only_ctx += w
    return both / total, only_unit / total, only_ctx / total


_NUMBER = re.compile(r"\d[\d,.]*")


def candidates(hits: Sequence[Hit], terms: dict[str, float], shape: Shape,
               question: str = "") -> list[Candidate]:
    """Every unit of the retrieved passages with its features (unscored). `num_match` marks
    units that state a figure the question itself quotes ("is it really over $300 billion?")."""
    q_numbers = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(question)}
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
    sides = [frozenset(side) for side in shape.sides]
    out = []
    for i, (u, h, sim, tok) in enumerate(rows):
        ctx = u.scope_stems
        cov, cov_unit, ctx_cov = _coverage(u.stems, ctx, terms)
        n = len(u.text.split())
        defin = float(shape.defined_by(u.text, u.label))
        side = 0.0
        if sides:
            side = sum(1.0 for sd in sides if sd & (u.stems | ctx)) / len(sides)
        feats = (
            sim, sim / best_sim, 1.0 / (1 + sim_rank[i]), cov, cov_unit, ctx_cov,
            max(0.0, h.score) / best_hit, 1.0 / (1 + h.rank), float(u.position == 0),
            float(u.kind == "item"), float(u.kind == "row"), min(n, 60) / 60.0, float(n < 6),
            float(shape.wants_number and u.has_number),
            float(shape.wants_number and not u.has_number), defin,
            float(shape.kind == "list" and u.kind in ("item", "row")), side,
            float(h.chunk.kind == "faq"),
            float(bool(q_numbers) and bool(q_numbers & {n.replace(",", "").rstrip(".")
                                                        for n in _NUMBER.findall(u.text)})),
            tok, tok / best_tokens,
        )
        out.append(Candidate(u, h, feats, cov))
    return out


@dataclass(frozen=True)
class UnitRanker:
    """Logistic model over `UNIT_FEATURES`."""

    weights: tuple[float, ...]
    bias: float

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
        return cls(tuple(weights + [0.0] * (len(UNIT_FEATURES) - len(weights))),
                   float(data["bias"]))

    def save(self, path: Path, **extra: object) -> None:
        path.write_text(json.dumps({"features": UNIT_FEATURES, "weights": list(self.weights),
                                    "bias": self.bias, **extra}, indent=1) + "\n",
                        encoding="utf-8")

    def score(self, cands: Sequence[Candidate]) -> list[Candidate]:
        """The candidates with their probability of belonging to the answer, best first."""
        if not cands:
            return []
        x = np.asarray([c.features for c in cands], dtype=np.float64)
        z = x @ np.asarray(self.weights) + self.bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        scored = [Candidate(c.unit, c.hit, c.features, c.coverage, float(s))
                  for c, s in zip(cands, p, strict=True)]
        scored.sort(key=lambda c: -c.score)
        return scored


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
