"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank.

`HybridRetriever.search` returns `Hit`s; `as_langchain()` wraps it as a LangChain
`BaseRetriever` for code that composes LangChain runnables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest import Chunk, Generation, make_embedder
from ingest.text import stems

from .query import expand_query

__all__ = ["Hit", "HybridRetriever"]

RRF_K = 20
"""Reciprocal-rank-fusion constant: score = sum over retrievers of 1 / (RRF_K + rank)."""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its scores."""

    chunk: Chunk
    """The passage."""
    score: float
    """Fused score (higher is better)."""
    dense: float
    """Cosine similarity of query and passage vectors."""
    lexical: float
    """BM25 score."""
    rank: int
    """0-based rank after fusion."""


class HybridRetriever:
    """Dense + lexical retrieval over one index generation."""

    def __init__(self, generation: Generation, embedder_spec: str, *, candidates: int = 30
                 ) -> None:
        self.gen = generation
        self.embedder = make_embedder(embedder_spec)
        self.candidates = candidates

    def search(self, query: str, k: int = 6) -> list[Hit]:
        """The `k` best passages for `query` (already a standalone query)."""
        expanded = expand_query(query)
        qvec = self.embedder.embed_query(expanded)
        dense = self.gen.store.query(qvec, self.candidates)
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense)}
        dense_sim = dict(dense)
        lex = self.gen.lexical.scores(stems(expanded))
        n_lex = min(self.candidates, len(lex))
        lex_top = np.argpartition(-lex, n_lex - 1)[:n_lex] if n_lex else np.array([], dtype=int)
        lex_top = lex_top[np.argsort(-lex[lex_top])]
        lex_rank: dict[str, int] = {}
        for r, i in enumerate(lex_top):
            if lex[i] <= 0:
                break
            lex_rank[self.gen.chunks[int(i)].chunk_id] = r
        fused: dict[str, float] = {}
        for cid, r in dense_rank.items():
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + r + 1)
        for cid, r in lex_rank.items():
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + r + 1)
        order = sorted(fused, key=lambda c: -fused[c])[:k]
        hits = []
        for rank, cid in enumerate(order):
            idx = self.gen.by_id.get(cid)
            if idx is None:
                continue  # a vector whose chunk left the table: skip rather than fail
            chunk = self.gen.chunks[idx]
            dsim = dense_sim.get(cid)
            if dsim is None:
                dsim = float(np.dot(self.gen.vectors[idx], qvec))
            hits.append(Hit(chunk=chunk, score=fused[cid], dense=float(dsim),
                            lexical=float(lex[idx]), rank=rank))
        return hits

    def as_langchain(self, k: int = 6) -> Any:
        """This retriever as a LangChain `BaseRetriever` (documents carry the chunk metadata)."""
        from langchain_core.callbacks import CallbackManagerForRetrieverRun
        from langchain_core.documents import Document as LCDocument
        from langchain_core.retrievers import BaseRetriever

        outer = self

        class BpoKbRetriever(BaseRetriever):
            """Hybrid dense + BM25 retriever over the bpo-kb index."""

            top_k: int = k

            def _get_relevant_documents(self, query: str, *,
                                        run_manager: CallbackManagerForRetrieverRun
                                        ) -> list[LCDocument]:
                return [LCDocument(page_content=h.chunk.text,
                                   metadata={**h.chunk.metadata(), "chunk_id": h.chunk.chunk_id,
                                             "score": h.score, "dense": h.dense,
                                             "lexical": h.lexical})
                        for h in outer.search(query, self.top_k)]

        return BpoKbRetriever()
