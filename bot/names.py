"""Names: is a word the documents never use the name of something (a country, a company, a
law) or an ordinary word? Decided without the question's capitals, so that "who is the ceo
of teleperformance" and "Who is the CEO of Teleperformance?" are read alike.

A word the documents use is a name when they write it as one (`ingest.terms`: with
capitals nearly every time). For a word they never use, a small fitted model over the
word's embedding (the bot's own embedder) says how name-like it is: it is trained on the
documents' own words, labelled by how the documents write them ("India", "Genpact", "GDPR"
vs "provider", "ballpark"), and so reads "Vietnam", "PIPEDA" or "TaskUs" as names and
"realtor", "fallback" as words (`python -m evals.calibrate names`, stored in
bot/names.json; fitted for one embedder, ignored with another).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MODEL_PATH", "NameModel"]

MODEL_PATH = Path(__file__).with_name("names.json")
THRESHOLD = 0.6
"""A word scoring at least this is a name."""


@dataclass(frozen=True)
class NameModel:
    """Logistic model over a word's embedding: P(the word is a name)."""

    weights: np.ndarray
    bias: float
    embedder: str
    threshold: float = THRESHOLD

    @classmethod
    def load(cls, embedder: str, path: Path | None = None) -> NameModel | None:
        """The fitted model for `embedder` (None when there is none for it)."""
        path = path or MODEL_PATH
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if str(data.get("embedder", "")).lower() != embedder.lower():
            return None
        return cls(np.asarray(data["weights"], dtype=np.float32), float(data["bias"]),
                   data["embedder"], float(data.get("threshold", THRESHOLD)))

    def save(self, path: Path | None = None, **extra: object) -> None:
        path = path or MODEL_PATH
        path.write_text(json.dumps({"embedder": self.embedder, "threshold": self.threshold,
                                    "bias": self.bias,
                                    "weights": [round(float(w), 6) for w in self.weights],
                                    **extra}) + "\n", encoding="utf-8")

    def probability(self, vector: np.ndarray) -> float:
        z = float(vector @ self.weights) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def is_name(self, word: str, embed: Callable[[str], np.ndarray]) -> bool:
        return self.probability(embed(word)) >= self.threshold
