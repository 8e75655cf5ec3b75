"""The bundled embedder: torch for documents, ONNX Runtime for queries when it reproduces torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

QUESTIONS = [
    "What is the difference between BPO and BPM?",
    "how much does offshore support cost per hour",
    "KPO vs LPO?",
    "Qu'est-ce que l'externalisation ? 🤔",
    "word " * 400,  # longer than the model's 256 tokens: truncated the same way
]


def test_onnx_query_vectors_match_torch(embedder, tmp_path: Path) -> None:
    from ingest.embedding import _OnnxQueryEncoder

    enc = _OnnxQueryEncoder.load_or_export(embedder._model, tmp_path / "models", embedder.name)
    exported = list((tmp_path / "models").glob("query-*.onnx"))
    assert len(exported) == 1, "the model is exported once, under the cache dir"
    torch_vecs = embedder.embed_documents(QUESTIONS)  # documents always go through torch
    for q, want in zip(QUESTIONS, torch_vecs, strict=True):
        got = enc.encode(q)
        assert got.shape == want.shape and got.dtype == np.float32
        assert float(np.abs(got - want).max()) < 1e-4, q[:40]
    again = _OnnxQueryEncoder.load_or_export(embedder._model, tmp_path / "models", embedder.name)
    assert list((tmp_path / "models").glob("query-*.onnx")) == exported  # reused, not re-exported
    assert float(np.abs(again.encode(QUESTIONS[0]) - torch_vecs[0]).max()) < 1e-4


def test_unusable_cache_dir_keeps_torch(tmp_path: Path) -> None:
    """A cache dir that cannot be written is not an error: queries stay on torch."""
    from ingest.embedding import SentenceTransformerEmbedder, _bundled_path

    fresh = SentenceTransformerEmbedder("sentence-transformers:all-MiniLM-L6-v2", _bundled_path())
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    assert fresh.accelerate_queries(blocker / "models") is False
    vec = fresh.embed_query(QUESTIONS[0])
    want = fresh.embed_documents([QUESTIONS[0]])[0]
    assert float(np.abs(vec - want).max()) < 1e-5
    assert fresh.accelerate_queries(tmp_path / "models") is True
    assert float(np.abs(fresh.embed_query(QUESTIONS[1]) -
                        fresh.embed_documents([QUESTIONS[1]])[0]).max()) < 1e-4


def test_bot_embeds_questions_with_onnx(bot) -> None:
    """A Bot turns the accelerated path on; its query vectors equal torch's."""
    embedder = bot._retriever.embedder
    assert embedder._onnx is not None
    question = "What is the difference between BPO and BPM?"
    assert bot._retriever.search(question)
    vec = embedder.embed_query(question + " ?")
    assert float(np.abs(vec - embedder.embed_documents([question + " ?"])[0]).max()) < 1e-4
