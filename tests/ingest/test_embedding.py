"""The bundled embedder: torch for documents, ONNX Runtime for queries when it reproduces torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

QUESTIONS = [
    "What is the difference between BPO and BPM?",
    "how much does offshore support cost per hour",
    "KPO vs LPO?",
    "Qu'est-ce que l'externalisation ? 🤔",
    "word " * 400,  # longer than the model's 256 tokens: truncated the same way
]
SPEC = "sentence-transformers:all-MiniLM-L6-v2"


def _fresh():  # type: ignore[no-untyped-def]
    """An embedder of its own (the session's shared one may already be accelerated)."""
    from ingest.embedding import SentenceTransformerEmbedder, _bundled_path

    return SentenceTransformerEmbedder(SPEC, _bundled_path())


def test_onnx_query_vectors_match_torch(embedder, tmp_path: Path) -> None:
    fresh = _fresh()
    assert fresh.accelerate_queries(tmp_path / "models") is True
    exported = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert len(exported) == 2 and exported[0].endswith(".json") and \
        exported[1].endswith(".onnx"), exported  # the model and its probe vector, once
    torch_vecs = embedder.embed_documents(QUESTIONS)  # documents always go through torch
    for q, want in zip(QUESTIONS, torch_vecs, strict=True):
        got = fresh.embed_query(q)
        assert got.shape == want.shape and got.dtype == np.float32
        assert float(np.abs(got - want).max()) < 1e-4, q[:40]
    again = _fresh()
    assert again.accelerate_queries(tmp_path / "models") is True
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == exported  # reused
    assert again.dim == 384
    assert float(np.abs(again.embed_query(QUESTIONS[0]) - torch_vecs[0]).max()) < 1e-4


def test_unusable_cache_dir_keeps_torch(tmp_path: Path) -> None:
    """A cache dir that cannot be written is not an error: queries stay on torch."""
    fresh = _fresh()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    assert fresh.accelerate_queries(blocker / "models") is False
    vec = fresh.embed_query(QUESTIONS[0])
    assert float(np.abs(vec - fresh.embed_documents([QUESTIONS[0]])[0]).max()) < 1e-5


def test_tampered_export_is_not_used(tmp_path: Path) -> None:
    """An export whose recorded probe vector no longer matches is refused (torch is used)."""
    assert _fresh().accelerate_queries(tmp_path / "models")
    meta_path = next((tmp_path / "models").glob("*.json"))
    meta = json.loads(meta_path.read_text())
    meta["probe"] = [-x for x in meta["probe"]]
    meta_path.write_text(json.dumps(meta))
    fresh = _fresh()
    assert fresh.accelerate_queries(tmp_path / "models") is False
    assert fresh.embed_query(QUESTIONS[1]).shape == (384,)


def test_answering_never_imports_torch_once_exported(corpus_settings, bot) -> None:
    """With the export in the data dir, a process that opens the index and answers (what
    `bpo-kb ask` and `serve` do) does not load torch: cold answers start seconds sooner."""
    assert list(corpus_settings.models_dir.glob("query-*.onnx"))
    code = (
        "import sys, json\n"
        "from bpo_kb import Settings\n"
        "from bot import Bot\n"
        f"s = Settings(data_dir={str(corpus_settings.data_dir)!r}, _env_file=None)\n"
        "a = Bot.open(s).ask('What is the difference between BPO and BPM?')\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'cited': len(a.citations)}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"torch": False, "cited": result["cited"]} and result["cited"] >= 1


def test_bot_embeds_questions_with_onnx(bot) -> None:
    """A Bot turns the accelerated path on; its query vectors equal torch's."""
    embedder = bot._retriever.embedder
    assert embedder._onnx is not None
    question = "What is the difference between BPO and BPM?"
    assert bot._retriever.search(question)
    vec = embedder.embed_query(question + " ?")
    assert float(np.abs(vec - embedder.embed_documents([question + " ?"])[0]).max()) < 1e-4
