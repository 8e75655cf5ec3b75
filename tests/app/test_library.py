"""The document library view of an index, and saving uploaded documents into the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.library import documents, ingest_summary, origins, save_uploads
from bpo_kb import ConfigError
from ingest import IngestReport


def test_documents_lists_titles_origins_and_passage_counts(bot: Any) -> None:
    docs = documents(bot.generation)
    assert len(docs) == len(bot.generation.manifest["documents"])
    assert sum(d.passages for d in docs) == len(bot.generation.chunks)
    assert [d.title.lower() for d in docs] == sorted(d.title.lower() for d in docs)
    catalyst = next(d for d in docs if d.doc_id.startswith("catalyst"))
    assert catalyst.origin == "Catalyst Outsourcing (Singapore), 2026"
    assert origins(bot.generation)[catalyst.doc_id] == catalyst.origin


def test_save_uploads_uses_safe_names_inside_the_corpus(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "Pricing notes (v2)!.md").write_text("# Pricing\n\nNotes.", encoding="utf-8")
    corpus = tmp_path / "corpus"
    assert save_uploads([src / "Pricing notes (v2)!.md"], corpus) == ["Pricing-notes-v2-.md"]
    assert (corpus / "Pricing-notes-v2-.md").read_text(encoding="utf-8").startswith("# Pricing")


def test_save_uploads_rejects_unsupported_files_before_copying_any(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("fine", encoding="utf-8")
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    corpus = tmp_path / "corpus"
    with pytest.raises(ConfigError, match=r"Unsupported file type '\.exe' for tool\.exe"):
        save_uploads([tmp_path / "ok.txt", tmp_path / "tool.exe"], corpus)
    assert not corpus.exists()


def test_ingest_summary_says_what_changed_and_what_was_skipped() -> None:
    assert ingest_summary(IngestReport(documents=4, chunks=170, up_to_date=True)).startswith(
        "Already up to date: 4 documents, 170 passages.")
    text = ingest_summary(IngestReport(documents=5, chunks=180, added=["new.md"], embedded=7,
                                       skipped=[{"path": "/c/big.pdf", "reason": "too big"}]))
    assert "added 1, changed 0, removed 0" in text and "Skipped big.pdf: too big." in text
