"""Token vectors: the contextual word-piece vectors of every answer unit, to match a question
word by word.

A unit's pooled vector blurs a sentence into one point, so a sentence that shares the
question's topic can outscore the one that makes its point ("break into a new country
without an office" vs "...enter new markets... without the need to establish a physical
office"). Token recall compares word-pieces instead: for every content word-piece of the
question, its best cosine to any word-piece of the unit, averaged with IDF weights (the
recall half of BERTScore). It is a re-ranking and unit-ranking feature (`bot/retrieval.py`,
`bot/ranking.py`).

Stored in each index generation (`Generation.tokens`), for every unit (in index order) and
then every chunk's heading (its last section title), as groups of rows:

    tokens.npy          int8 [T, D]: projected, normalised word-piece vectors x 127
    token_ids.npy       int32 [T]: their vocabulary ids (the cache key's companions)
    token_offsets.npy   int64 [G + 1]: group g is rows offsets[g]:offsets[g + 1]
    token_df.npy        int32 [V]: in how many units each vocabulary id occurs (for IDF)

The bundled MiniLM's 384-dim vectors are projected to `TOKEN_DIM` dims by a fixed PCA
(`token_projection.npz`, fitted on the guides' word-pieces: `python -m evals.calibrate
projection`), which keeps the guides' token file at ~1.5 MB and 100k chunks at ~0.8 GB;
measured on dev and check, 64 dims rank as well as 384. Other models keep all their dims.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import Chunk
from .text import STOPWORDS

__all__ = ["PROJECTION_PATH", "TOKEN_DIM", "Projection", "QueryTokens", "TokenArrays",
           "TokenVectors", "encode", "group_texts", "heading_text"]

TOKEN_DIM = 64
PROJECTION_PATH = Path(__file__).with_name("token_projection.npz")
_SCALE = 127.0
_PUNCT = re.compile(r"^[\W_]+$")


def heading_text(chunk: Chunk) -> str:
    """The chunk's own heading: the last title of its section path ("" when it has none)."""
    return chunk.section.split(" > ")[-1].strip()


def group_texts(chunks: Sequence[Chunk]) -> tuple[list[str], int]:
    """The texts of a generation's word-piece groups, in group order - every unit of every
    chunk, then every chunk's heading - and how many of them are units."""
    from .units import units_of

    texts = [u.text for c in chunks for u in units_of(c)]
    n_units = len(texts)
    return texts + [heading_text(c) for c in chunks], n_units


@dataclass(frozen=True)
class Projection:
    """A linear map to fewer dims (PCA), for one embedding model."""

    mean: np.ndarray
    components: np.ndarray
    """[input dims, output dims]."""
    model: str

    def apply(self, vecs: np.ndarray) -> np.ndarray:
        """Projected, re-normalised rows (float32)."""
        z = (np.asarray(vecs, dtype=np.float32) - self.mean) @ self.components
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)

    @classmethod
    def fit(cls, vecs: np.ndarray, dims: int, model: str) -> Projection:
        """PCA of the rows `vecs` to `dims` dims."""
        x = np.asarray(vecs, dtype=np.float64)
        mean = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        return cls(mean.astype(np.float32), vt[:dims].T.astype(np.float32), model)

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean, components=self.components, model=np.asarray(self.model))

    @classmethod
    def for_model(cls, model: str, dim: int, path: Path = PROJECTION_PATH) -> Projection | None:
        """The bundled projection when it was fitted for `model` (the embedder's `kind:name`
        string, compared case-insensitively) with `dim` input dims, else None (no projection)."""
        if not path.is_file():
            return None
        with np.load(path) as data:
            proj = cls(data["mean"], data["components"], str(data["model"]))
        if proj.model.lower() != model.lower() or proj.mean.shape[0] != dim:
            return None
        return proj


def quantize(vecs: np.ndarray) -> np.ndarray:
    """Normalised float rows -> int8 (x 127)."""
    return np.clip(np.rint(np.asarray(vecs) * _SCALE), -127, 127).astype(np.int8)


Group = tuple[np.ndarray, np.ndarray]
"""One text's word-pieces: ids (int32) and quantised vectors (int8 [n, D])."""


def encode(embedder: Any, texts: Sequence[str], projection: Projection | None,
           progress: Callable[[int], None] | None = None) -> list[Group]:
    """Word-piece groups of `texts`, projected and quantised."""
    out = []
    for ids, vecs in embedder.embed_tokens(list(texts), progress=progress):
        if projection is not None:
            vecs = projection.apply(vecs) if len(vecs) else \
                np.zeros((0, projection.components.shape[1]), np.float32)
        out.append((np.asarray(ids, dtype=np.int32), quantize(vecs)))
    return out


@dataclass
class TokenArrays:
    """What an index generation stores of its units' and headings' word-pieces."""

    vectors: np.ndarray
    """int8 [T, D]"""
    ids: np.ndarray
    """int32 [T]"""
    offsets: np.ndarray
    """int64 [groups + 1]: units (in index order), then chunk headings"""
    df: np.ndarray
    """int32 [vocabulary]: in how many units each id occurs"""

    @classmethod
    def from_groups(cls, groups: Sequence[Group], n_units: int, dims: int) -> TokenArrays:
        """Concatenate the groups of every unit and then every heading."""
        ids = np.concatenate([g[0] for g in groups]).astype(np.int32) if groups else \
            np.zeros(0, np.int32)
        vecs = np.concatenate([g[1].reshape(-1, dims) for g in groups]) if groups else \
            np.zeros((0, dims), np.int8)
        offsets = np.concatenate(([0], np.cumsum([len(g[0]) for g in groups]))).astype(np.int64)
        vocab = int(ids.max()) + 1 if len(ids) else 1
        return cls(vecs, ids, offsets,
                   TokenVectors.document_frequency(ids, offsets, n_units, vocab))


@dataclass(frozen=True)
class QueryTokens:
    """A question's content word-pieces: projected vectors and IDF weights."""

    vectors: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.weights)


class TokenVectors:
    """Word-piece vectors of every unit and chunk heading of one index generation."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray, df: np.ndarray,
                 n_units: int, projection: Projection | None, ids: np.ndarray) -> None:
        self.vectors = vectors
        self.ids = ids
        """The rows' vocabulary ids (what a later ingest reuses with the vectors)."""
        self.offsets = offsets
        self.df = df
        self.n_units = n_units
        self.projection = projection

    def heading_group(self, chunk_index: int) -> int:
        """The group of chunk number `chunk_index`'s heading (units come first)."""
        return self.n_units + chunk_index

    def query(self, ids: np.ndarray, vecs: np.ndarray, pieces: Sequence[str]) -> QueryTokens:
        """A question's word-pieces (from `Embedder.embed_query_tokens`) as `QueryTokens`:
        punctuation and stopwords left out, each weighted by its IDF over the units."""
        keep = [i for i, p in enumerate(pieces)
                if not _PUNCT.match(p) and p.lstrip("#").lower() not in STOPWORDS]
        if not keep:
            return QueryTokens(np.zeros((0, self.vectors.shape[1]), np.float32), np.zeros(0))
        v = np.asarray(vecs, dtype=np.float32)[keep]
        if self.projection is not None:
            v = self.projection.apply(v)
        ids_k = np.asarray(ids)[keep]
        df = np.where(ids_k < len(self.df), self.df[np.minimum(ids_k, len(self.df) - 1)], 0)
        weights = np.log((self.n_units + 1.0) / (df + 1.0))
        return QueryTokens(v, np.maximum(weights, 1e-3))

    def recall(self, q: QueryTokens, groups: Sequence[int]) -> np.ndarray:
        """Per group: the IDF-weighted mean, over the question's word-pieces, of each one's
        best cosine to a word-piece of the group (0 for an empty group or question)."""
        out = np.zeros(len(groups), dtype=np.float64)
        if not len(q) or not len(groups):
            return out
        g = np.asarray(groups, dtype=np.int64)
        starts, ends = self.offsets[g], self.offsets[g + 1]
        lens = ends - starts
        filled = np.flatnonzero(lens > 0)
        if not len(filled):
            return out
        rows = np.concatenate([np.arange(starts[i], ends[i]) for i in filled])
        mat = np.asarray(self.vectors[rows], dtype=np.float32) * (1.0 / _SCALE)
        sims = q.vectors @ mat.T
        seg = np.concatenate(([0], np.cumsum(lens[filled])[:-1]))
        best = np.maximum.reduceat(sims, seg, axis=1)
        out[filled] = (q.weights @ best) / q.weights.sum()
        return out

    @staticmethod
    def document_frequency(ids: np.ndarray, offsets: np.ndarray, n_units: int,
                           vocab: int) -> np.ndarray:
        """In how many of the first `n_units` groups each vocabulary id occurs."""
        end = int(offsets[n_units])
        if end == 0:
            return np.zeros(vocab, dtype=np.int32)
        group = np.repeat(np.arange(n_units, dtype=np.int64), np.diff(offsets[:n_units + 1]))
        pairs = np.unique(group * vocab + np.asarray(ids[:end], dtype=np.int64))
        return np.bincount(pairs % vocab, minlength=vocab).astype(np.int32)
