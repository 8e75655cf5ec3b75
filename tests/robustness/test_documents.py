"""Bad documents are skipped with a named reason in the ingest report; everything else in the
same folder still ingests and is answerable."""

from __future__ import annotations

import io
import os
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bpo_kb import IngestError, Settings
from ingest import Skipped, current_generation, ingest, load_document

MB = 1024 * 1024


def text_pdf(lines: list[str]) -> bytes:
    """A real one-page PDF with a text layer (Helvetica), built with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    w = PdfWriter()
    page = w.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): w._add_object(font)})})
    content = DecodedStreamObject()
    content.set_data(("BT /F1 12 Tf 72 720 Td 16 TL "
                      + " ".join(f"({esc(s)}) Tj T*" for s in lines) + " ET").encode("latin-1"))
    page[NameObject("/Contents")] = w._add_object(content)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    """A PDF whose only page has no text layer (what a scan without OCR looks like)."""
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(612, 792)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def encrypted_pdf(data: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


PDF_LINES = ["Zanzibar delivery handbook",
             "Offshore support from Zanzibar costs $9 per agent hour.",
             "Zanzibar centres work in English and Swahili."]
HTML = """<!doctype html><html><head><title>Kilimanjaro staffing notes</title>
<style>body{color:red}</style><script>var secret = "do not index";</script></head>
<body><h1>Kilimanjaro staffing notes</h1>
<p>The Kilimanjaro centre staffs <b>40 agents</b> per shift for overnight coverage.</p>
<table><tr><th>Shift</th><th>Agents</th></tr><tr><td>Night</td><td>40</td></tr></table>
</body></html>"""


def write_bad_files(d: Path) -> dict[str, str]:
    """Every kind of bad document in `d`; returns file name -> expected reason fragment."""
    expected = {}

    def put(name: str, data: bytes, reason: str) -> None:
        (d / name).write_bytes(data)
        expected[name] = reason

    put("binary.txt", bytes(range(256)) * 64, "binary file (NUL byte at offset 0)")
    put("controls.md", bytes(range(1, 32)) * 400, "binary content (mostly control characters)")
    put("empty.txt", b"", "empty file")
    put("blank.md", b" \n\t\n  ", "empty file")
    put("latin1.txt", "Caf\u00e9 outsourcing guide\n".encode("latin-1"),
        "not valid UTF-8 (byte 0xe9 at offset 3)")
    put("scan.pdf", blank_pdf(), "PDF has no text layer")
    put("locked.pdf", encrypted_pdf(text_pdf(["Secret rates"]), "secret"),
        "encrypted PDF (needs a password)")
    put("broken.pdf", b"%PDF-1.7\n1 0 obj <<\n garbage", "unreadable PDF")
    put("deep.html", b"<div>" * 5000 + b"x" + b"</div>" * 5000, "HTML nested too deeply")
    put("slides.pptx", b"PK\x03\x04rest", "unsupported file type '.pptx'")
    put("headings.md", b"# Pricing\n\nOffshore rates by country\n\nSee the appendix",
        "no passages found: every line looks like a heading")
    with (d / "huge.txt").open("w", encoding="utf-8") as fh:  # 50 MB of real text
        line = "Offshore outsourcing moves work to another country to cut costs. " * 15 + "\n"
        for _ in range(50 * MB // len(line) + 1):
            fh.write(line)
    expected["huge.txt"] = "file too large (50.0 MB > limit 20.0 MB)"
    os.symlink("loop-b.txt", d / "loop-a.txt")
    os.symlink("loop-a.txt", d / "loop-b.txt")
    expected["loop-a.txt"] = expected["loop-b.txt"] = "symlink loop"
    os.symlink("self.md", d / "self.md")
    expected["self.md"] = "symlink loop"
    os.symlink("no-such-file.txt", d / "dangling.txt")
    expected["dangling.txt"] = "broken symlink"
    os.mkfifo(d / "pipe.txt")
    expected["pipe.txt"] = "not a regular file (a named pipe)"
    os.symlink(".", d / "parent-loop")  # a folder link back to itself: must not be walked
    return expected


def write_good_files(d: Path) -> None:
    (d / "zanzibar.pdf").write_bytes(text_pdf(PDF_LINES))
    (d / "kilimanjaro.html").write_text(HTML, encoding="utf-8")
    (d / "notes.md").write_text("# Nearshore notes\n\nNearshore outsourcing to Mexico keeps "
                                "time zones aligned for US teams.\n", encoding="utf-8")
    (d / "windows.txt").write_bytes("Windows notes\nThe Valparaiso team answers calls in "
                                    "Spanish.\n".encode("utf-16"))  # UTF-16 with BOM
    (d / "folder.txt").mkdir()  # a folder with a document's name is walked like any folder
    (d / "folder.txt" / "inside.md").write_text(
        "# Inside notes\n\nThe Patagonia desk handles refunds within two days.\n",
        encoding="utf-8")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, embedder: Any
          ) -> tuple[Settings, dict[str, Any], dict[str, str]]:
    """A folder of good and bad documents, ingested once."""
    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    corpus.mkdir()
    expected = write_bad_files(corpus)
    write_good_files(corpus)
    s = Settings(data_dir=root / "data", corpus_dir=corpus, _env_file=None)
    report = ingest(s)
    return s, report.to_dict(), expected


@pytest.fixture(scope="module")
def mixed_bot(mixed: Any) -> Any:
    from bot import Bot

    return Bot.open(mixed[0])


def test_each_bad_document_is_skipped_with_its_named_reason(mixed: Any) -> None:
    s, report, expected = mixed
    got = {Path(x["path"]).name: x["reason"] for x in report["skipped"]}
    assert set(got) == set(expected), f"unexpected skips {set(got) ^ set(expected)}"
    for name, reason in expected.items():
        assert reason in got[name], f"{name}: {got[name]!r}"


def test_everything_else_in_the_folder_ingests(mixed: Any) -> None:
    s, report, _ = mixed
    assert sorted(report["added"]) == ["folder.txt/inside.md", "kilimanjaro.html", "notes.md",
                                       "windows.txt", "zanzibar.pdf"]
    assert report["documents"] == 5 and report["chunks"] >= 5
    assert current_generation(s.index_dir) == report["generation"]


@pytest.mark.parametrize(("question", "doc", "words"), [
    ("How much does offshore support from Zanzibar cost per hour?", "zanzibar.pdf", "$9"),
    ("How many agents does the Kilimanjaro centre staff per shift?", "kilimanjaro.html",
     "40 agents"),
    ("Which language does the Valparaiso team answer calls in?", "windows.txt", "Spanish"),
])
def test_pdf_and_html_documents_with_text_are_answerable(mixed_bot: Any, question: str, doc: str,
                                                         words: str) -> None:
    ans = mixed_bot.ask(question)
    assert not ans.abstained, ans.answer
    assert any(c.doc == doc for c in ans.citations), [c.doc for c in ans.citations]
    assert words in ans.answer
    assert "do not index" not in " ".join(c.text for c in ans.citations)


def test_a_50_mb_file_is_refused_by_size_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(50 * MB)  # its size is all the loader may look at
    tracemalloc.start()
    try:
        got = load_document(path, "huge.txt", max_bytes=20 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(got, Skipped)
    assert got.reason.startswith("file too large (50.0 MB > limit 20.0 MB)")
    assert "BPO_KB_MAX_FILE_MB" in got.reason
    assert peak < 1 * MB, f"loader allocated {peak / MB:.1f} MB for a file it refuses"


def test_a_named_pipe_does_not_hang_the_loader(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(load_document(tmp_path / "pipe.md", "p")),
                         daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "load_document blocked on a named pipe"
    assert isinstance(result[0], Skipped) and "named pipe" in result[0].reason


def test_a_file_deleted_during_ingest_is_skipped_and_the_rest_ingest(
        small_corpus: Path, tmp_path: Path, embedder: Any) -> None:
    (small_corpus / "gamma.md").write_text("# Gamma\n\nGamma outsourcing is about Zanzibar.\n",
                                           encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus, _env_file=None)
    victim = small_corpus / "beta.txt"  # files are read in sorted order: alpha, beta, gamma

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "read" and done == 1 and victim.exists():
            victim.unlink()  # after alpha was read, before beta is opened

    report = ingest(s, progress=progress)
    assert report.skipped == [{"path": str(victim),
                               "reason": "file disappeared before it could be read"}]
    assert sorted(report.added) == ["alpha.md", "gamma.md"]


def test_a_corpus_left_with_only_bad_files_is_refused_and_the_live_index_kept(
        small_corpus: Path, tmp_path: Path, embedder: Any) -> None:
    s = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus, _env_file=None)
    live = ingest(s).generation
    for f in small_corpus.iterdir():
        f.unlink()
    (small_corpus / "empty.txt").write_bytes(b"")
    (small_corpus / "binary.txt").write_bytes(b"\x00\x01" * 100)
    with pytest.raises(IngestError, match=r"No text to index under .*2 files found, 2 skipped "
                                          r".*empty file.*The live index is unchanged"):
        ingest(s)
    assert current_generation(s.index_dir) == live
    fresh = Settings(data_dir=tmp_path / "fresh", corpus_dir=small_corpus, _env_file=None)
    with pytest.raises(IngestError, match="No text to index"):
        ingest(fresh)
    assert current_generation(fresh.index_dir) is None
