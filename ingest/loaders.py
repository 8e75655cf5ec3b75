"""Loaders: a file on disk -> `Document`, or a `Skipped` with the reason.

Supported: .txt, .md (text as is), .html/.htm (visible text, block structure kept as lines,
tables as `| a | b |` rows), .pdf (the text layer, via pypdf).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .documents import Document, Skipped, content_hash
from .errors import IngestError

__all__ = ["SUPPORTED_SUFFIXES", "discover", "load_document", "read_manifest"]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MANIFEST_NAME = "manifest.json"


def read_manifest(corpus_dir: Path) -> dict[str, dict[str, str]]:
    """Per-file metadata from `corpus/manifest.json` (title, publisher, date...), keyed by file."""
    path = corpus_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {d["file"]: {k: str(v) for k, v in d.items()} for d in data.get("documents", [])}
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise IngestError(
            f"Corpus manifest {path} is not valid: {e}; expected "
            '{"documents": [{"file": ..., "title": ...}]}. Fix or delete it.'
        ) from e


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Files to ingest under `paths` (files as given; directories walked, sorted, hidden skipped)."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if f.is_file() and not any(part.startswith(".") for part in rel.parts) \
                        and f.name != MANIFEST_NAME and f.suffix.lower() != ".json":
                    yield f
        else:
            yield p


def load_document(
    path: Path, doc_id: str, *, manifest: dict[str, dict[str, str]] | None = None,
    max_bytes: int = 20 * 1024 * 1024,
) -> Document | Skipped:
    """Load one file. Never raises for a bad file: returns `Skipped` with a specific reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return Skipped(str(path), f"unsupported file type {suffix or '(none)'!r}; "
                                  f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return Skipped(str(path), f"file too large ({size / 1e6:.1f} MB > limit "
                                      f"{max_bytes / 1e6:.1f} MB; raise BPO_KB_MAX_FILE_MB)")
        data = path.read_bytes()
    except FileNotFoundError:
        return Skipped(str(path), "file disappeared before it could be read")
    except OSError as e:
        return Skipped(str(path), f"cannot read file: {e.strerror or e}")
    if not data.strip():
        return Skipped(str(path), "empty file")
    meta = dict((manifest or {}).get(doc_id, {}))
    try:
        if suffix == ".pdf":
            text, found_title = _pdf_text(data)
        else:
            nul = data.find(b"\x00", 0, 65536)
            if nul != -1:
                return Skipped(str(path), f"binary file (NUL byte at offset {nul}), not {suffix} text")
            try:
                raw = data.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                return Skipped(str(path), f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset "
                                          f"{e.start}); re-save the file as UTF-8")
            if suffix in (".html", ".htm"):
                text, found_title = _html_text(raw)
            else:
                text = raw.replace("\r\n", "\n").replace("\r", "\n")
                found_title = _first_line_title(text)
    except _Unreadable as e:
        return Skipped(str(path), str(e))
    if not text.strip():
        return Skipped(str(path), "no text in document" if suffix != ".pdf"
                       else "PDF has no text layer (scanned image?); OCR it to a text PDF first")
    if _looks_binary(text):
        return Skipped(str(path), "binary content (mostly control characters), not text")
    title = meta.pop("title", "") or found_title or path.stem.replace("-", " ").replace("_", " ")
    meta.pop("file", None)
    meta["format"] = suffix.lstrip(".")
    return Document(doc_id=doc_id, title=title, text=text, sha=content_hash(data),
                    source=str(path.resolve()), meta=meta)


class _Unreadable(Exception):
    pass


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\t\f\r")
    return bad > max(8, len(sample) // 50)


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""


def _pdf_text(data: bytes) -> tuple[str, str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as e:  # pypdf raises several types here
                raise _Unreadable("encrypted PDF; save an unencrypted copy") from e
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title)
    except _Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise _Unreadable(f"unreadable PDF ({type(e).__name__}: {e})") from e
    text = "\n\n".join(p for p in pages if p)
    return text, title or _first_line_title(text)


_BLOCK_TAGS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote",
               "pre", "br", "hr", "dt", "dd", "figcaption", "caption", "address"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _html_text(raw: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString, Tag

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg", "head"]):
        if tag.name == "head":
            continue
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.head:
        soup.head.decompose()
    lines: list[str] = []

    def inline(node: Tag) -> str:
        return re.sub(r"\s+", " ", node.get_text(" ", strip=True)).strip()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                s = re.sub(r"\s+", " ", str(child)).strip()
                if s:
                    if lines and lines[-1] and not lines[-1].startswith(("|", "- ")):
                        lines[-1] += " " + s
                    else:
                        lines.append(s)
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                lines.extend(["", inline(child), ""])
            elif name == "li":
                lines.append("- " + inline(child))
            elif name == "table":
                lines.append("")
                for i, tr in enumerate(child.find_all("tr")):
                    cells = [inline(c).replace("|", "/") for c in tr.find_all(["th", "td"])]
                    lines.append("| " + " | ".join(cells) + " |")
                    if i == 0:
                        lines.append("|" + "---|" * len(cells))
                lines.append("")
            elif name in ("ul", "ol", "dl"):
                lines.append("")
                walk(child)
                lines.append("")
            elif name in _BLOCK_TAGS:
                lines.append("")
                walk(child)
                lines.append("")
            else:
                walk(child)

    walk(soup.body or soup)
    text = "\n".join(line.strip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return text, title or (_first_line_title(text))
