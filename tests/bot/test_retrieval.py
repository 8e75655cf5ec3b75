"""Hybrid retrieval (Chroma + BM25) over the session's index of the real corpus."""

from __future__ import annotations

import numpy as np
import pytest

from bot import HybridRetriever
from bot.query import expand_query
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
                           candidates=corpus_settings.candidates)


def test_bpm_question_retrieves_the_bpo_bpm_passage(retriever: HybridRetriever) -> None:
    hits = retriever.search(BPM_QUESTION, k=6)
    assert any(is_bpm_passage(h.chunk.text) for h in hits[:3]), [h.chunk.chunk_id for h in hits]
    assert [h.rank for h in hits] == list(range(len(hits)))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hits_come_from_the_dense_and_lexical_candidates(retriever: HybridRetriever) -> None:
    gen = retriever.gen
    for question in (BPM_QUESTION, "How much does offshore customer support cost per hour?",
                     "What is KPO?"):
        query = expand_query(question)
        dense = {cid for cid, _ in gen.store.query(retriever.embedder.embed_query(query),
                                                   retriever.candidates)}
        lex = gen.lexical.scores(stems(query))
        top_lex = {gen.chunks[int(i)].chunk_id
                   for i in np.argsort(-lex)[:retriever.candidates] if lex[i] > 0}
        hits = retriever.search(question, k=10)
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


@pytest.mark.parametrize(("question", "added"), [
    ("We're a 12-person company. Does BPO make sense for us?", "small business SME"),
    ("Which would you suggest for a five-person startup?", "small business SME"),
    ("We have a 2,000-employee operation; is a GCC better?", "enterprise"),
])
def test_company_size_is_searched_in_the_guides_terms(question: str, added: str) -> None:
    assert added in expand_query(question)


def test_a_mid_sized_headcount_adds_no_size_words() -> None:
    q = expand_query("We run a 200-person contact centre")
    assert "small business" not in q and "enterprise" not in q


@pytest.mark.parametrize(("answer", "question", "resolved"), [
    ("Mainly FTE (dedicated headcount), time & materials, outcome-based pricing, and hybrids.",
     "What's the downside of the second one?", "What's the downside of time & materials?"),
    ("The big ones are data security, hidden costs, vendor lock-in and quality drift.",
     "how do we guard against the last one?", "how do we guard against quality drift?"),
    ("Teleperformance and Concentrix are the two largest CX outsourcers.",
     "Where is the second one based?", "Where is Concentrix based?"),
    ("- Lower cost: fees replace salaries. [1]\n- Focus on core work. Hours return. [1]",
     "tell me more about the first one", "tell me more about Lower cost"),
])
def test_ordinal_follow_up_points_into_the_previous_answers_list(
        answer: str, question: str, resolved: str) -> None:
    from bot.query import Turn, resolve_ordinal

    history = [Turn("user", "an earlier question"), Turn("assistant", answer)]
    assert resolve_ordinal(question, history) == resolved


@pytest.mark.parametrize("question", [
    "ok and for first contact resolution?",  # 'first' qualifies a noun, it points nowhere
    "What's the second biggest hub?",
])
def test_ordinal_that_names_something_else_is_left_alone(question: str) -> None:
    from bot.query import Turn, resolve_ordinal

    history = [Turn("user", "x"), Turn("assistant", "India, the Philippines and Mexico.")]
    assert resolve_ordinal(question, history) == question
