"""Each loader turns a real file into a `Document`, or a `Skipped` that names the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import Document, Skipped, chunk_document, load_document
from ingest.loaders import discover, read_manifest


def make_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A minimal but real one-page PDF with a text layer (Helvetica), written by hand."""
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({esc(s)}) Tj T*" for s in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
    ]
    if title is not None:
        objects.append(f"<< /Title ({esc(title)}) /Producer (bpo-kb tests) >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    info = f" /Info {len(objects)} 0 R" if title is not None else ""
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return out


def _load(path: Path, **kw: object) -> Document:
    doc = load_document(path, path.name, **kw)  # type: ignore[arg-type]
    assert isinstance(doc, Document), doc
    return doc


# -- formats -----------------------------------------------------------------------------------
def test_txt_loader_keeps_the_file_text_so_offsets_are_file_offsets(tmp_path: Path) -> None:
    raw = "Nearshore outsourcing\r\nWork goes to a neighbouring country.\r\n"
    (tmp_path / "near.txt").write_bytes(raw.encode("utf-8"))
    doc = _load(tmp_path / "near.txt")
    assert doc.text == raw.replace("\r\n", "\n")
    assert doc.title == "Nearshore outsourcing"
    assert doc.meta["format"] == "txt"
    assert len(doc.sha) == 32 and doc.source == str((tmp_path / "near.txt").resolve())


def test_md_loader_takes_the_title_from_the_first_heading(tmp_path: Path) -> None:
    raw = "# Alpha guide\n\nAlpha outsourcing means handing payroll to a provider.\n"
    (tmp_path / "alpha.md").write_text(raw, encoding="utf-8")
    doc = _load(tmp_path / "alpha.md")
    assert doc.text == raw
    assert doc.title == "Alpha guide"
    assert doc.meta["format"] == "md"


def test_utf8_bom_is_not_part_of_the_text(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffBOM guide\nText.\n".encode())
    assert _load(tmp_path / "bom.txt").text == "BOM guide\nText.\n"


HTML = """<!doctype html>
<html><head><title>Offshore pricing | Example</title>
<style>body { color: red; } .secret { display: none }</style>
<script>var tracking = "should never be indexed";</script></head>
<body><!-- editor note: never index this -->
<nav><ul><li>Home</li></ul></nav>
<h1>Offshore pricing</h1>
<p>Offshore support costs <b>less</b> than onshore support.</p>
<h2>Rates</h2>
<table>
  <tr><th>Country</th><th>Rate</th></tr>
  <tr><td>Philippines</td><td>$8 per hour</td></tr>
  <tr><td>Mexico</td><td>$14 per hour</td></tr>
</table>
<ul><li>Night shifts cost extra</li><li>Set-up fees apply</li></ul>
<script>console.log("also not text")</script>
</body></html>
"""


def test_html_loader_drops_scripts_styles_and_comments(tmp_path: Path) -> None:
    (tmp_path / "pricing.html").write_text(HTML, encoding="utf-8")
    doc = _load(tmp_path / "pricing.html")
    for junk in ("tracking", "console.log", "color: red", "display: none", "editor note",
                 "doctype"):
        assert junk not in doc.text
    assert doc.meta["format"] == "html"


def test_html_loader_takes_the_title_from_the_title_tag(tmp_path: Path) -> None:
    (tmp_path / "pricing.html").write_text(HTML, encoding="utf-8")
    assert _load(tmp_path / "pricing.html").title == "Offshore pricing | Example"


def test_html_loader_writes_tables_as_pipe_rows_and_headings_as_lines(tmp_path: Path) -> None:
    (tmp_path / "pricing.html").write_text(HTML, encoding="utf-8")
    doc = _load(tmp_path / "pricing.html")
    lines = doc.text.splitlines()
    assert "Offshore pricing" in lines and "Rates" in lines
    assert "| Country | Rate |" in lines
    assert "| Philippines | $8 per hour |" in lines
    assert "| Mexico | $14 per hour |" in lines
    assert "- Night shifts cost extra" in lines
    assert "Offshore support costs less than onshore support." in lines
    # and the chunker sees the structure: a table chunk under the "Rates" heading
    table = [c for c in chunk_document(doc) if "Philippines" in c.text]
    assert len(table) == 1 and table[0].text.startswith("| Country | Rate |")


def test_pdf_loader_reads_the_text_layer_and_the_title(tmp_path: Path) -> None:
    pdf = make_pdf(["Offshore delivery centres", "Offshore support costs $8 per hour.",
                    "Nearshore support costs $14 per hour."], title="Rates handbook")
    (tmp_path / "rates.pdf").write_bytes(pdf)
    doc = _load(tmp_path / "rates.pdf")
    assert "Offshore support costs $8 per hour." in doc.text
    assert "Nearshore support costs $14 per hour." in doc.text
    assert doc.title == "Rates handbook"
    assert doc.meta["format"] == "pdf"


def test_pdf_without_a_title_is_named_by_its_first_line(tmp_path: Path) -> None:
    (tmp_path / "notitle.pdf").write_bytes(make_pdf(["Offshore delivery centres", "Body."]))
    assert _load(tmp_path / "notitle.pdf").title == "Offshore delivery centres"


def test_manifest_title_and_fields_are_used_when_present(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("First line title\nBody text.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Own title\nBody text.\n", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "a.txt", "title": "Manifest title", "publisher": "Acme", "date": "2026"}]}))
    manifest = read_manifest(tmp_path)
    a = _load(tmp_path / "a.txt", manifest=manifest)
    b = _load(tmp_path / "b.txt", manifest=manifest)
    assert a.title == "Manifest title"
    assert a.meta == {"publisher": "Acme", "date": "2026", "format": "txt"}
    assert b.title == "Own title"
    assert list(discover([tmp_path])) == [tmp_path / "a.txt", tmp_path / "b.txt"]


# -- files that are skipped, with the reason ---------------------------------------------------
@pytest.mark.parametrize(("name", "data", "reason"), [
    ("nul.txt", b"Looks like text\x00\x01\x02 but is not", "binary file (NUL byte at offset 15)"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n\t \n", "empty file"),
    ("latin1.txt", "Caf\u00e9 pricing guide\n".encode("latin-1"),
     "not valid UTF-8 (byte 0xe9 at offset 3)"),
    ("slides.pptx", b"PK\x03\x04", "unsupported file type '.pptx'"),
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "unreadable PDF"),
    ("image.pdf", None, "PDF has no text layer"),
])
def test_unusable_file_is_skipped_with_a_named_reason(
        tmp_path: Path, name: str, data: bytes | None, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data if data is not None else make_pdf([]))
    got = load_document(path, name)
    assert isinstance(got, Skipped)
    assert got.path == str(path)
    assert reason in got.reason
