"""Hybrid retrieval (Chroma + BM25) over the session's index of the real corpus."""

from __future__ import annotations

import numpy as np
import pytest

from bot import HybridRetriever
from bpo_kb import Settings
from ingest.text import stems

BPM_QUESTION = "What is the difference between BPO and BPM?"
BPM_PASSAGES = (
    # empireonecx FAQ answer, flowz FAQ answer, empireonecx "Related Terms" bullet
    "BPM is the discipline of analyzing, designing, and improving how processes work internally.",
    "BPO stands for business process outsourcing, while BPM is business process management.",
    "BPM focuses on analyzing and optimizing processes internally, while BPO is about "
    "outsourcing the execution of those processes.",
)


def is_bpm_passage(text: str) -> bool:
    return any(p in text for p in BPM_PASSAGES)


@pytest.fixture(scope="module")
def retriever(bot, corpus_settings: Settings) -> HybridRetriever:  # type: ignore[no-untyped-def]
    return HybridRetriever(bot.generation, corpus_settings.embedder,
                           candidates=corpus_settings.candidates, vocab=bot.vocab)


def test_bpm_question_retrieves_the_bpo_bpm_passage(retriever: HybridRetriever) -> None:
    hits = retriever.search(BPM_QUESTION, k=6)
    assert any(is_bpm_passage(h.chunk.text) for h in hits[:3]), [h.chunk.chunk_id for h in hits]
    assert [h.rank for h in hits] == list(range(len(hits)))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hits_come_from_the_dense_and_lexical_candidates(bot, retriever: HybridRetriever  # type: ignore[no-untyped-def]
                                                         ) -> None:
    from bot.retrieval import dense_text

    gen = retriever.gen
    for question in (BPM_QUESTION, "How much does offshore customer support cost per hour?",
                     "Why would a company pick nearshore?"):
        q = bot.read(question)
        dense = {cid for cid, _ in gen.store.query(
            retriever.embedder.embed_query(dense_text(q.query, gen.lexical.df_ratio)),
            retriever.candidates)}
        lex = gen.lexical.scores(stems(q.query))
        top_lex = {gen.chunks[int(i)].chunk_id
                   for i in np.argsort(-lex)[:retriever.candidates] if lex[i] > 0}
        hits = retriever.search(q, k=10)
        assert len(hits) == 10
        for h in hits:
            assert h.chunk.chunk_id in dense | top_lex
            assert h.lexical == pytest.approx(float(lex[gen.by_id[h.chunk.chunk_id]]))
        # the best passages include one that both retrievers proposed
        assert any(h.chunk.chunk_id in dense & top_lex for h in hits[:3]), question


def test_langchain_adapter_returns_documents_with_metadata(retriever: HybridRetriever) -> None:
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    lc = retriever.as_langchain(k=3)
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke(BPM_QUESTION)
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert any(is_bpm_passage(d.page_content) for d in docs)
    for d in docs:
        meta = d.metadata
        assert {"doc_id", "title", "section", "start", "end", "chunk_id", "score"} <= set(meta)
        assert meta["doc_id"].endswith(".txt") and meta["title"]
        chunk = retriever.gen.chunks[retriever.gen.by_id[meta["chunk_id"]]]
        assert d.page_content == chunk.text
    same = [h.chunk.chunk_id for h in retriever.search(BPM_QUESTION, k=3)]
    assert [d.metadata["chunk_id"] for d in docs] == same


def test_question_with_no_known_words_still_returns_dense_hits(
        retriever: HybridRetriever) -> None:
    hits = retriever.search("zxqv wprt", k=3)
    assert len(hits) == 3
    assert all(h.lexical == 0.0 for h in hits)
