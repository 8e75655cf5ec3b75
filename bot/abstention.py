"""Calibrated abstention: does the guide text actually answer *this* question?

Topic similarity alone cannot tell "what does offshore support cost?" (answered) from "what
does offshore support cost in Vietnam?" (not answered): both retrieve the same passages. The
decision therefore looks at the question's specific asks:

- rare terms of the question (weighted by rarity in the corpus) and how many of them one
  retrieved passage covers, together (`coverage`);
- terms the corpus has never seen at all, names and acronyms especially (`unknown_*`);
- whether a figure is asked for and the best covering passage gives one (`figure_ok`);
- dense similarity of the best passage (`dense`).

A logistic model over these features gives an answerability score in [0, 1]; the bot refuses
below a threshold. Weights and threshold are fitted on the labelled dev set with
`bpo-kb eval --fit-abstention` and stored in `bot/abstention.json`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest import LexicalIndex
from ingest.text import STOPWORDS, normalize, stem, words

from .retrieval import Hit
from .shape import question_shape

__all__ = ["FEATURES", "AbstentionModel", "Features", "features"]

MODEL_PATH = Path(__file__).with_name("abstention.json")

FEATURES = ("coverage", "coverage2", "dense", "unknown_names", "unknown_words", "figure_ok",
            "lexical")


@dataclass(frozen=True)
class Features:
    coverage: float
    """Share of the question's weighted terms found in the best single passage."""
    coverage2: float
    """The same over the best two passages together."""
    dense: float
    """Cosine similarity of the best passage."""
    unknown_names: float
    """Capitalised words, acronyms and numbers of the question the corpus never uses."""
    unknown_words: float
    """Other content words of the question the corpus never uses."""
    figure_ok: float
    """1 when no figure is asked for or the best passage gives one; else 0."""
    lexical: float
    """Best BM25 score, squashed to [0, 1)."""
    missing: tuple[str, ...] = ()
    """The question's words the corpus does not know (for explanations)."""

    def vector(self) -> list[float]:
        return [float(getattr(self, f)) for f in FEATURES]


_NAME = re.compile(r"\b(?:[A-Z][a-zA-Z]+|[A-Z]{2,}[a-z]?s?|\d[\d,.]*)\b")
_IGNORE_NAMES = {"i", "what", "how", "is", "are", "can", "does", "do", "which", "who", "why",
                 "when", "where", "should", "tell", "give", "list", "explain", "and", "the", "a",
                 "my", "we", "our", "ok", "okay", "so", "hi", "hello", "please", "thanks"}


def features(question: str, query: str, hits: Sequence[Hit], lexical: LexicalIndex,
             idf: Callable[[str], float], unit_coverage: Callable[[Hit], float]) -> Features:
    """Answerability features for a question and its retrieved passages."""
    q = normalize(question)
    shape = question_shape(q)
    unknown_names: list[str] = []
    for m in _NAME.finditer(q):
        w = m.group(0)
        if w.lower() in _IGNORE_NAMES or w.lower() in STOPWORDS:
            continue
        key = stem(w.lower().rstrip("s") if w.isupper() else w.lower())
        if not (lexical.knows(key) or lexical.knows(stem(w.lower()))):
            unknown_names.append(w)
    unknown_words = [w for w in words(q) if w not in STOPWORDS and len(w) > 2
                     and not lexical.knows(stem(w))
                     and w not in {n.lower() for n in unknown_names}]
    covs = sorted((unit_coverage(h) for h in hits), reverse=True) or [0.0]
    cov = covs[0]
    cov2 = min(1.0, covs[0] + 0.5 * (covs[1] if len(covs) > 1 else 0.0))
    best_dense = max((h.dense for h in hits), default=0.0)
    best_lex = max((h.lexical for h in hits), default=0.0)
    figure_ok = 1.0
    if shape.wants_number and hits:
        top = max(hits, key=unit_coverage)
        figure_ok = 1.0 if re.search(r"\d", top.chunk.text) else 0.0
    return Features(coverage=cov, coverage2=cov2, dense=best_dense,
                    unknown_names=float(len(unknown_names)),
                    unknown_words=float(len(unknown_words)), figure_ok=figure_ok,
                    lexical=best_lex / (best_lex + 10.0),
                    missing=tuple(unknown_names + unknown_words))


@dataclass(frozen=True)
class AbstentionModel:
    """Logistic answerability model: score = sigmoid(w . x + b); refuse below `threshold`."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def default(cls) -> AbstentionModel:
        if MODEL_PATH.exists():
            return cls.load(MODEL_PATH)
        # hand-set starting point, used until a model is fitted on the dev set
        return cls(weights=(6.0, 2.0, 4.0, -2.5, -0.6, 1.0, 1.0), bias=-5.0, threshold=0.5)

    @classmethod
    def load(cls, path: Path) -> AbstentionModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, "
                             f"this code uses {FEATURES}; re-fit with --fit-abstention")
        return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]))

    def save(self, path: Path, **extra: object) -> None:
        path.write_text(json.dumps({"features": FEATURES, "weights": list(self.weights),
                                    "bias": self.bias, "threshold": self.threshold, **extra},
                                   indent=1) + "\n", encoding="utf-8")

    def score(self, f: Features) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, f.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
