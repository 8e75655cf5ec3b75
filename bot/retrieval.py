"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, then re-ranked.

Stage 1 proposes candidates: the nearest chunks by vector (Chroma) and the best chunks by
BM25, merged by reciprocal-rank fusion. Stage 2 re-ranks that pool with a linear model over
a few signals: the query's similarity to the chunk's best sentence, list item or table row
(unit vectors computed at ingest), the chunk's own similarity, BM25, the fused rank, how
well the chunk's headings match the question's specific words, and the best token recall of
the query in one of its units or its heading (word-piece matching, `ingest.tokens`: a unit
saying each thing the question asks, in other words, beats one sharing only its topic).
The weights are fitted on the dev set (`python -m evals.calibrate reranker ...`, stored in
bot/reranker.json).
`as_langchain()` wraps the retriever as a LangChain `BaseRetriever`. Everything it knows
about the question comes from one parsed `Question` (bot/question.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest import Chunk, Generation, make_embedder
from ingest.text import stems
from ingest.units import chunk_heading_stems, table_header, units_of

from .definition import defines
from .question import COMMON_DF, Question, dense_text
from .vocab import Vocabulary

__all__ = ["COMMON_DF", "RERANK_FEATURES", "Hit", "HybridRetriever", "Pooled", "Reranker",
           "dense_text"]

RRF_K = 20
"""Reciprocal-rank-fusion constant: score = sum over retrievers of 1 / (RRF_K + rank)."""
RERANK_FEATURES = ("unit", "unit2", "chunk", "lexical", "fused", "dense_rank", "lexical_rank",
                   "heading", "faq", "stub", "defines", "sides", "tokens", "tokens_rel",
                   "head_tokens")
DEFINITION_CANDIDATES = 10
"""For "what is X?" questions, the best BM25 passages for X alone join the candidates (a
passage defining X can rank low for the whole question's words)."""
STUB_CHARS = 100
"""Passages shorter than this with no full sentence (bylines, lone headings) are "stubs"."""
MODEL_PATH = Path(__file__).with_name("reranker.json")


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its scores."""

    chunk: Chunk
    """The passage."""
    score: float
    """Final ranking score (higher is better)."""
    dense: float
    """Cosine similarity of query and passage vectors."""
    lexical: float
    """BM25 score."""
    rank: int
    """0-based rank."""
    unit_sims: tuple[float, ...] = field(default=(), compare=False)
    """Cosine similarity of the query to each of the chunk's units (in `units_of` order)."""
    unit_tokens: tuple[float, ...] = field(default=(), compare=False)
    """Token recall of the question in each of the chunk's units (`ingest.tokens`)."""
    heading_tokens: float = field(default=0.0, compare=False)
    """Token recall of the question in the chunk's own heading."""

    @property
    def best_unit(self) -> float:
        return max(self.unit_sims) if self.unit_sims else self.dense


@dataclass(frozen=True)
class Reranker:
    """Linear re-ranking model over `RERANK_FEATURES`."""

    weights: tuple[float, ...]

    @classmethod
    def default(cls) -> Reranker:
        if MODEL_PATH.exists():
            data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
            fitted = tuple(data["features"])
            if fitted == RERANK_FEATURES[:len(fitted)]:  # features added since weigh 0
                weights = [float(w) for w in data["weights"]]
                return cls(tuple(weights + [0.0] * (len(RERANK_FEATURES) - len(weights))))
        hand = {"unit": 0.45, "chunk": 0.2, "lexical": 0.2, "fused": 0.15}
        return cls(tuple(hand.get(f, 0.0) for f in RERANK_FEATURES))

    def save(self, path: Path, **extra: object) -> None:
        path.write_text(json.dumps({"features": RERANK_FEATURES, "weights": list(self.weights),
                                    **extra}, indent=1) + "\n", encoding="utf-8")


@dataclass
class Pooled:
    """A chunk in the stage-1 pool with its re-ranking features."""

    index: int
    dense: float
    lexical: float
    unit_sims: tuple[float, ...]
    features: tuple[float, ...]
    unit_tokens: tuple[float, ...] = ()
    heading_tokens: float = 0.0


SIDES = RERANK_FEATURES.index("sides")
SIDE_BY_SIDE_RANK = 2
"""Where a passage labelling every side of a comparison goes when it ranked below `k`."""


def _keep_side_by_side(scored: list[tuple[float, Pooled]], k: int
                       ) -> list[tuple[float, Pooled]]:
    """For "X vs Y": a table or list with a row or item for X and one for Y answers it side
    by side, however its rows' wording scores against the question's. When none ranks in
    the top `k`, the best such passage is moved up to rank `SIDE_BY_SIDE_RANK` + 1."""
    if any(c.features[SIDES] >= 1.0 for _, c in scored[:k]):
        return scored
    j = next((j for j, (_, c) in enumerate(scored) if c.features[SIDES] >= 1.0), None)
    if j is None:
        return scored
    at = min(SIDE_BY_SIDE_RANK, k - 1)
    item = scored.pop(j)
    score = scored[at][0] if at < len(scored) else item[0]
    scored.insert(at, (score, item[1]))
    return scored


def _is_stub(text: str) -> bool:
    """Page furniture rather than a passage: short and without a sentence ending in a period."""
    return len(text) < STUB_CHARS and not re.search(r"\w[.!?](?:\s|$)", text)


def sides_labelled(sides: tuple[frozenset[str], ...], labels: list[str],
                   vocab: Vocabulary) -> float:
    """The share of a comparison's sides that label a row, item or heading among `labels`
    (a table with a "Virtual assistant" row and a "BPO" row answers "VA vs BPO?")."""
    if not sides:
        return 0.0
    bags = [vocab.widen(frozenset(stems(lab))) for lab in labels if lab]
    return sum(1.0 for side in sides if side and any(side <= b for b in bags)) / len(sides)


class HybridRetriever:
    """Dense + lexical retrieval over one index generation."""

    def __init__(self, generation: Generation, embedder_spec: str, *, candidates: int = 30,
                 reranker: Reranker | None = None, model_cache: Path | None = None,
                 vocab: Vocabulary | None = None) -> None:
        self.gen = generation
        self.embedder = make_embedder(embedder_spec)
        accelerate = getattr(self.embedder, "accelerate_queries", None)
        if model_cache is not None and accelerate is not None:
            accelerate(model_cache)  # ONNX Runtime for query vectors when it can be set up
        self.candidates = candidates
        self.reranker = reranker or Reranker.default()
        self.vocab = vocab or Vocabulary.empty()

    def pool(self, q: Question) -> list[Pooled]:
        """Stage 1: the fused dense + BM25 candidates for the question, with re-ranking
        features. The dense side embeds the query (and, for a follow-up, the question as
        typed; for a definition, "What is X?") and keeps each passage's best similarity, so
        a topic word that misleads cannot bury the passage the question itself points to."""
        df = self.gen.lexical.df_ratio
        texts = [q.dense or dense_text(q.query, df)]
        if q.follow_up:
            texts.append(dense_text(q.asked, df))
        if q.shape == "definition" and q.subject:
            texts.append(f"What is {q.subject}?")
        texts = list(dict.fromkeys(t for t in texts if t.strip()))
        qvecs = [self.embedder.embed_query(t) for t in texts]
        dense_all: dict[str, float] = {}
        for qv in qvecs:
            for cid, sim in self.gen.store.query(qv, self.candidates):
                dense_all[cid] = max(sim, dense_all.get(cid, -1.0))
        dense = sorted(dense_all.items(), key=lambda kv: -kv[1])[:self.candidates]
        qmat = np.stack(qvecs)
        lex = self.gen.lexical.scores(stems(q.query))
        n_lex = min(self.candidates, len(lex))
        lex_top = np.argpartition(-lex, n_lex - 1)[:n_lex] if n_lex else np.array([], dtype=int)
        lex_top = lex_top[np.argsort(-lex[lex_top])]
        fused: dict[int, float] = {}
        dense_sim: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        lex_rank: dict[int, int] = {}
        for r, (cid, sim) in enumerate(dense):
            idx = self.gen.by_id.get(cid)
            if idx is None:
                continue  # a vector whose chunk left the table: skip rather than fail
            dense_sim[idx] = sim
            dense_rank[idx] = r
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (RRF_K + r + 1)
        for r, i in enumerate(lex_top):
            if lex[i] <= 0:
                break
            lex_rank[int(i)] = r
            fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (RRF_K + r + 1)
        subject = q.subject_stems() if q.shape == "definition" else frozenset()
        sides = q.side_stems() if q.shape == "comparison" else ()
        if subject:  # a passage defining X can rank low for the whole question's words
            for i in self._top_lexical(sorted(subject), DEFINITION_CANDIDATES):
                fused.setdefault(i, 0.0)
        elif sides:  # a table or list with a row for each side
            for i in self._top_lexical(sorted(t for side in sides for t in side),
                                       DEFINITION_CANDIDATES):
                fused.setdefault(i, 0.0)
        if not fused:
            return []
        max_lex = float(max(lex[i] for i in fused)) or 1.0
        max_fused = max(fused.values())
        q_terms = dict(q.terms)
        q_total = sum(q_terms.values()) or 1.0
        token_recall = self._token_recall(texts[0], list(fused))  # the dense text: one pass
        best_tokens = max((t[0] for t in token_recall.values()), default=0.0) or 1.0
        out = []
        for idx, f in fused.items():
            chunk = self.gen.chunks[idx]
            dsim = dense_sim.get(idx)
            if dsim is None:
                dsim = float(np.max(qmat @ self.gen.vectors[idx]))
            units = units_of(chunk)
            uv = self.gen.unit_vectors_of(idx)
            sims = tuple(float(x) for x in np.max(np.asarray(uv) @ qmat.T, axis=1)) \
                if len(uv) else ()
            # a sentence about the document ("By the end of this article...") says nothing
            top2 = sorted((x for x, u in zip(sims, units, strict=False)
                           if not u.about_document), reverse=True)[:2] or [dsim]
            heading = self.vocab.widen(chunk_heading_stems(chunk))
            head_cov = sum(w for t, w in q_terms.items() if t in heading) / q_total
            feats = (top2[0], top2[-1], dsim, float(lex[idx]) / max_lex, f / max_fused,
                     1.0 / (1 + dense_rank.get(idx, self.candidates)),
                     1.0 / (1 + lex_rank.get(idx, self.candidates)), head_cov,
                     float(chunk.kind == "faq"), float(_is_stub(chunk.text)),
                     float(bool(subject) and any(defines(u.text, u.label, subject, self.vocab)
                                                 for u in units)),
                     sides_labelled(sides, [u.label for u in units] + list(table_header(chunk)),
                                    self.vocab) if sides else 0.0,
                     token_recall[idx][0], token_recall[idx][0] / best_tokens,
                     token_recall[idx][2])
            out.append(Pooled(idx, dsim, float(lex[idx]), sims, feats, token_recall[idx][1],
                              token_recall[idx][2]))
        return out

    def _token_recall(self, text: str, indexes: list[int]
                      ) -> dict[int, tuple[float, tuple[float, ...], float]]:
        """Per chunk: the best token recall of `text` in one of its units (sentences about
        the document aside) or its heading, the recall in each unit, and in the heading."""
        tokens = self.gen.tokens
        ids, vecs, pieces = self.embedder.embed_query_tokens(text)
        q = tokens.query(ids, vecs, pieces)
        groups: list[int] = []
        spans: list[tuple[int, int]] = []
        for idx in indexes:
            a, b = int(self.gen.unit_offsets[idx]), int(self.gen.unit_offsets[idx + 1])
            spans.append((len(groups), b - a))
            groups.extend(range(a, b))
            groups.append(tokens.heading_group(idx))
        rec = tokens.recall(q, groups)
        out = {}
        for idx, (at, n) in zip(indexes, spans, strict=True):
            per_unit = tuple(float(x) for x in rec[at:at + n])
            units = units_of(self.gen.chunks[idx])
            said = [x for x, u in zip(per_unit, units, strict=False) if not u.about_document]
            out[idx] = (max([*(said or per_unit), float(rec[at + n])]), per_unit,
                        float(rec[at + n]))
        return out

    def _top_lexical(self, terms: list[str], n: int) -> list[int]:
        """Indices of the `n` best BM25 chunks for `terms` (only those that match at all)."""
        lex = self.gen.lexical.scores(terms)
        n = min(n, len(lex))
        if not n:
            return []
        top = np.argpartition(-lex, n - 1)[:n]
        return [int(i) for i in top[np.argsort(-lex[top])] if lex[i] > 0]

    def search(self, q: Question | str, k: int = 6) -> list[Hit]:
        """The `k` best passages for a question (a plain string is searched as it is)."""
        if isinstance(q, str):
            q = Question(asked=q, text=q, query=q, terms={s: self.gen.lexical.idf(s)
                                                          for s in stems(q)})
        pool = self.pool(q)
        w = np.asarray(self.reranker.weights)
        scored = sorted(((float(np.dot(w, c.features)), c) for c in pool),
                        key=lambda t: (-t[0], t[1].index))
        scored = _keep_side_by_side(scored, k)
        return [Hit(chunk=self.gen.chunks[c.index], score=s, dense=c.dense, lexical=c.lexical,
                    rank=rank, unit_sims=c.unit_sims, unit_tokens=c.unit_tokens,
                    heading_tokens=c.heading_tokens)
                for rank, (s, c) in enumerate(scored[:k])]

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
