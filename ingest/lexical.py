"""The lexical index: BM25 (bm25s) over stemmed chunk text, saved beside the vectors."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bpo_kb.errors import IndexCorrupt

from .text import stems

__all__ = ["LexicalIndex"]

log = logging.getLogger(__name__)


def _quiet_bm25s() -> None:
    # bm25s sets its own logger to DEBUG when imported, so this must run after the import
    logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 scores for a query against every chunk (rows aligned with the chunk table)."""

    def __init__(self, retriever: object, vocab: dict[str, int], n_docs: int) -> None:
        self._bm25 = retriever
        self._vocab = vocab
        self.n_docs = n_docs
        self.doc_freq = self._doc_freq()

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        _quiet_bm25s()
        tokens = [stems(t) or ["_empty_"] for t in texts]
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        bm25.index(tokens, show_progress=False)
        vocab = dict(bm25.vocab_dict)
        return cls(bm25, vocab, len(texts))

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(path), show_progress=False)  # type: ignore[attr-defined]
        (path / "bpo_kb.json").write_text(json.dumps({"n_docs": self.n_docs}))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import bm25s

        _quiet_bm25s()
        try:
            bm25 = bm25s.BM25.load(str(path), show_progress=False, verbosity=0)
            n_docs = json.loads((path / "bpo_kb.json").read_text())["n_docs"]
        except (OSError, ValueError, KeyError) as e:
            raise IndexCorrupt(f"Lexical index in {path} is unreadable ({e}); "
                               "run `bpo-kb ingest --rebuild`") from e
        return cls(bm25, dict(bm25.vocab_dict), int(n_docs))

    def _doc_freq(self) -> dict[str, int]:
        """Number of chunks containing each stem (for rarity weighting)."""
        scores = getattr(self._bm25, "scores", None)
        if not scores:
            return {}
        indptr = np.asarray(scores["indptr"])
        counts = np.diff(indptr)
        return {tok: int(counts[i]) for tok, i in self._vocab.items() if i < len(counts)}

    def idf(self, stem: str) -> float:
        """BM25-style inverse document frequency of a stem (unknown stems get the maximum)."""
        df = self.doc_freq.get(stem, 0)
        return float(np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5)))

    def df_ratio(self, stem: str) -> float:
        """Share of chunks containing the stem (0 for unknown stems)."""
        return self.doc_freq.get(stem, 0) / max(1, self.n_docs)

    def knows(self, stem: str) -> bool:
        return stem in self._vocab

    def scores(self, query_stems: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros if no query stem is known)."""
        known = [s for s in query_stems if s in self._vocab]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)  # type: ignore[attr-defined]
