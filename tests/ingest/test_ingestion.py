"""Ingest into a real embedded Chroma in tmp dirs: skipped files, idempotence, incremental
updates (changed, added, removed files), and an index that survives being moved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bpo_kb import Settings
from ingest import Generation, chunk_document, embed_text, ingest, load_document
from ingest.text import stem

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"

FILLER = ("The provider runs the work with trained staff, clear service levels and monthly "
          "reports that the client reviews with them. ")

DOCS = {
    "alpha.md": (
        "# Payroll outsourcing\n\n"
        "## What it covers\n\n"
        "Payroll outsourcing hands salary runs, tax filings and payslips to a provider. "
        + FILLER * 3 + "\n\n"
        "## What it costs\n\n"
        "Payroll providers charge between $4 and $12 per employee per month. "
        + FILLER * 3 + "\n"),
    "beta.txt": (
        "Nearshore delivery\n"
        "Nearshore outsourcing places work in a neighbouring country, such as Zanzibar "
        "for a Tanzanian company. " + FILLER * 3 + "\n\n"
        "Time zones\n"
        "Time zones overlap, which eases collaboration between the teams. " + FILLER * 3 + "\n"),
    "gamma.txt": (
        "Customer support\n"
        "Offshore customer support desks answer calls around the clock. " + FILLER * 3 + "\n"),
}


def _corpus(root: Path, docs: dict[str, str] = DOCS) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for name, text in docs.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


def _settings(root: Path, corpus: Path) -> Settings:
    return Settings(data_dir=root / "data", corpus_dir=corpus, _env_file=None)


def _live(settings: Settings) -> Generation:
    return Generation.open_current(settings.index_dir, embedder_spec=settings.embedder)


def _ids_by_doc(gen: Generation) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in gen.chunks:
        out.setdefault(c.doc_id, set()).add(c.chunk_id)
    return out


def _embed_texts(path: Path) -> set[str]:
    doc = load_document(path, path.name)
    assert not hasattr(doc, "reason"), doc
    return {embed_text(c) for c in chunk_document(doc)}  # type: ignore[arg-type]


def _assert_store_matches_table(gen: Generation) -> None:
    """Chroma holds exactly the chunk table's ids, with the table's vectors and metadata."""
    assert gen.store.ids() == {c.chunk_id for c in gen.chunks}
    got = gen.store._col.get(ids=[c.chunk_id for c in gen.chunks],
                             include=["embeddings", "metadatas"])
    stored = dict(zip(got["ids"], zip(got["embeddings"], got["metadatas"], strict=True),
                      strict=True))
    for c, v in zip(gen.chunks, gen.vectors, strict=True):
        emb, meta = stored[c.chunk_id]
        assert float(np.dot(np.asarray(emb, dtype=np.float32), v)) == pytest.approx(1.0, abs=1e-4)
        assert meta == c.metadata()
    assert gen.lexical.n_docs == len(gen.chunks)


# -- skipped files -----------------------------------------------------------------------------
def test_binary_empty_and_undecodable_files_are_skipped_while_the_rest_ingest(
        tmp_path: Path, embedder: object) -> None:
    corpus = _corpus(tmp_path, {"beta.txt": DOCS["beta.txt"], "gamma.txt": DOCS["gamma.txt"]})
    (corpus / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00garbage\x00")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "latin1.md").write_bytes("Caf\u00e9 outsourcing\n".encode("latin-1"))
    report = ingest(_settings(tmp_path, corpus))
    assert report.documents == 2
    assert sorted(report.added) == ["beta.txt", "gamma.txt"]
    reasons = {Path(s["path"]).name: s["reason"] for s in report.skipped}
    assert set(reasons) == {"binary.txt", "empty.txt", "latin1.md"}
    assert reasons["binary.txt"].startswith("binary file (NUL byte at offset 4)")
    assert reasons["empty.txt"] == "empty file"
    assert reasons["latin1.md"].startswith("not valid UTF-8 (byte 0xe9 at offset 3)")
    gen = _live(_settings(tmp_path, corpus))
    assert {c.doc_id for c in gen.chunks} == {"beta.txt", "gamma.txt"}
    assert gen.manifest["skipped"] == report.skipped


def test_cli_ingest_prints_each_skipped_file_with_its_reason(
        tmp_path: Path, embedder: object) -> None:
    from cli import main

    corpus = _corpus(tmp_path, {"gamma.txt": DOCS["gamma.txt"]})
    (corpus / "empty.txt").write_bytes(b"")
    result = CliRunner().invoke(main, ["ingest", str(corpus)],
                                env={"BPO_KB_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    assert "Indexed 1 documents" in result.stdout
    assert f"Skipped {corpus / 'empty.txt'}: empty file" in result.stderr


# -- idempotence -------------------------------------------------------------------------------
def test_reingest_of_the_unchanged_corpus_embeds_nothing(
        corpus_settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    s = Settings(data_dir=data, corpus_dir=CORPUS, _env_file=None)
    before = _live(s)
    report = ingest(s)
    assert report.up_to_date
    assert report.embedded == 0
    assert report.generation == before.name
    assert report.documents == 4 and report.chunks == len(before.chunks)
    assert report.unchanged == 4 and not (report.added or report.changed or report.removed)
    assert sorted(p.name for p in s.index_dir.glob("g-*")) == [before.name]


def test_cli_says_it_embedded_zero_chunks_on_an_unchanged_corpus(
        corpus_settings: Settings, tmp_path: Path) -> None:
    from cli import main

    data = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    env = {"BPO_KB_DATA_DIR": str(data), "BPO_KB_CORPUS_DIR": str(CORPUS)}
    result = CliRunner().invoke(main, ["ingest"], env=env)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout and "embedded 0 chunks" in result.stdout
    as_json = CliRunner().invoke(main, ["ingest", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["embedded"] == 0 and report["up_to_date"] is True


# -- incremental updates -----------------------------------------------------------------------
def test_changed_file_embeds_only_its_changed_chunks(tmp_path: Path, embedder: object) -> None:
    corpus = _corpus(tmp_path)
    s = _settings(tmp_path, corpus)
    first = ingest(s)
    assert first.embedded == first.chunks
    before = _live(s)
    old_texts = _embed_texts(corpus / "alpha.md")

    edited = DOCS["alpha.md"].replace("between $4 and $12", "between $5 and $15")
    (corpus / "alpha.md").write_text(edited, encoding="utf-8")
    new_texts = _embed_texts(corpus / "alpha.md")
    changed_chunks = len(new_texts - old_texts)
    assert changed_chunks == 1  # the edit touches one section of a multi-chunk document

    report = ingest(s)
    assert report.changed == ["alpha.md"] and report.unchanged == 2
    assert not report.added and not report.removed
    assert report.embedded == changed_chunks
    after = _live(s)
    assert after.name != before.name
    old_ids, new_ids = _ids_by_doc(before), _ids_by_doc(after)
    assert new_ids["beta.txt"] == old_ids["beta.txt"]
    assert new_ids["gamma.txt"] == old_ids["gamma.txt"]
    assert len(new_ids["alpha.md"] - old_ids["alpha.md"]) == changed_chunks
    assert any("$5 and $15" in c.text for c in after.chunks)
    assert not any("$4 and $12" in c.text for c in after.chunks)
    _assert_store_matches_table(after)


def test_added_file_embeds_only_its_own_chunks(tmp_path: Path, embedder: object) -> None:
    corpus = _corpus(tmp_path)
    s = _settings(tmp_path, corpus)
    ingest(s)
    before = _live(s)
    (corpus / "delta.md").write_text(
        "# Legal process outsourcing\n\nLPO hands contract review and discovery to a "
        "specialist provider. " + FILLER * 2 + "\n", encoding="utf-8")
    report = ingest(s)
    assert report.added == ["delta.md"] and report.unchanged == 3
    assert report.embedded == len(_embed_texts(corpus / "delta.md"))
    after = _live(s)
    old_ids, new_ids = _ids_by_doc(before), _ids_by_doc(after)
    assert all(new_ids[d] == old_ids[d] for d in old_ids)
    assert report.documents == 4 and report.chunks == len(after.chunks)
    _assert_store_matches_table(after)


def test_removed_file_leaves_chroma_and_the_bm25_index(tmp_path: Path, embedder: object) -> None:
    corpus = _corpus(tmp_path)
    s = _settings(tmp_path, corpus)
    ingest(s)
    before = _live(s)
    beta_ids = _ids_by_doc(before)["beta.txt"]
    assert beta_ids <= before.store.ids()
    assert before.lexical.knows(stem("zanzibar"))

    (corpus / "beta.txt").unlink()
    report = ingest(s)
    assert report.removed == ["beta.txt"] and report.embedded == 0
    after = _live(s)
    assert not beta_ids & after.store.ids()
    assert {c.doc_id for c in after.chunks} == {"alpha.md", "gamma.txt"}
    assert not after.lexical.knows(stem("zanzibar"))
    assert "beta.txt" not in after.manifest["documents"]
    old_ids, new_ids = _ids_by_doc(before), _ids_by_doc(after)
    assert new_ids["alpha.md"] == old_ids["alpha.md"]
    assert new_ids["gamma.txt"] == old_ids["gamma.txt"]
    _assert_store_matches_table(after)


def test_renamed_heading_replaces_the_stored_vector_of_an_unchanged_paragraph(
        tmp_path: Path, embedder: object) -> None:
    # The paragraph's text (and so its chunk id) stays the same, but the heading it is
    # embedded with changes: Chroma must not keep the vector of the old heading.
    text = "Support operations guide\n" + DOCS["gamma.txt"]
    corpus = _corpus(tmp_path, {"gamma.txt": text})
    s = _settings(tmp_path, corpus)
    ingest(s)
    before = _live(s)
    assert [c.section for c in before.chunks] == ["Customer support"]
    (corpus / "gamma.txt").write_text(text.replace("Customer support", "Help desk operations"),
                                      encoding="utf-8")
    report = ingest(s)
    assert report.embedded == 1
    after = _live(s)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert after.chunks[0].section == "Help desk operations"
    _assert_store_matches_table(after)


def test_manifest_title_change_updates_the_index(tmp_path: Path, embedder: object) -> None:
    corpus = _corpus(tmp_path, {"gamma.txt": DOCS["gamma.txt"]})
    s = _settings(tmp_path, corpus)
    ingest(s)
    (corpus / "manifest.json").write_text(json.dumps(
        {"documents": [{"file": "gamma.txt", "title": "Support desks: a field guide"}]}))
    report = ingest(s)
    assert report.changed == ["gamma.txt"]
    after = _live(s)
    assert {c.title for c in after.chunks} == {"Support desks: a field guide"}
    assert after.manifest["documents"]["gamma.txt"]["title"] == "Support desks: a field guide"
    _assert_store_matches_table(after)


def test_index_keeps_working_after_the_data_dir_is_moved(
        tmp_path: Path, embedder: object) -> None:
    corpus = _corpus(tmp_path, {"gamma.txt": DOCS["gamma.txt"]})
    first = tmp_path / "first"
    ingest(Settings(data_dir=first / "data", corpus_dir=corpus, _env_file=None))
    moved = tmp_path / "moved"
    shutil.move(str(first), str(moved))
    s = Settings(data_dir=moved / "data", corpus_dir=corpus, _env_file=None)
    gen = _live(s)
    assert Path(gen.store.location["path"]).is_relative_to(moved)
    assert gen.store.count() == len(gen.chunks)
    assert gen.store.query(gen.vectors[0], 1)[0][0] == gen.chunks[0].chunk_id
    assert not first.exists()
    assert ingest(s).up_to_date
