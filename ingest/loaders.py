"""Loaders: a file on disk -> `Document`, or a `Skipped` with the reason.

Supported: .txt, .md (text as is), .html/.htm (visible text, block structure kept as lines,
tables as `| a | b |` rows), .pdf (the text layer, via pypdf).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from bpo_kb.errors import IngestError

from .documents import Document, Skipped, content_hash

__all__ = ["SUPPORTED_SUFFIXES", "discover", "load_document", "read_manifest", "resolved"]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MANIFEST_NAME = "manifest.json"
VOCAB_NAME = "vocab.toml"
"""The corpus's vocabulary (read by the bot, `bot.vocab`), not a document."""
_MB = 1024 * 1024


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
    """Files to ingest under `paths` (files as given; directories walked, sorted, hidden skipped).

    Everything under a folder that is not itself a folder is yielded, including broken
    symlinks, symlink loops, pipes and sockets, so `load_document` reports each one with its
    reason instead of it vanishing silently. Symlinked folders are not followed (no loops).
    """
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if any(part.startswith(".") for part in rel.parts) or f.name == MANIFEST_NAME \
                        or f.suffix.lower() == ".json" or f.name == VOCAB_NAME:
                    continue
                if f.is_dir():  # follows symlinks: a linked folder is neither walked nor a file
                    continue
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
    read = _read_bounded(path, max_bytes)
    if isinstance(read, str):
        return Skipped(str(path), read)
    data = read
    if not data.strip():
        return Skipped(str(path), "empty file")
    meta = dict((manifest or {}).get(doc_id, {}))
    try:
        if suffix == ".pdf":
            text, found_title = _pdf_text(data)
        else:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM (Windows "Unicode")
                try:
                    data_text = data.decode("utf-16")
                except UnicodeDecodeError as e:
                    return Skipped(str(path), f"not valid UTF-16 despite its byte-order mark ({e})")
                data = data_text.encode("utf-8")
            nul = data.find(b"\x00", 0, 65536)
            if nul != -1:
                return Skipped(str(path), f"binary file (NUL byte at offset {nul}), not {suffix} text")
            try:
                raw = data.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                return Skipped(str(path), f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset "
                                          f"{e.start}); re-save the file as UTF-8")
            if suffix in (".html", ".htm"):
                try:
                    text, found_title = _html_text(raw)
                except RecursionError:
                    return Skipped(str(path), "HTML nested too deeply to read (thousands of "
                                              "levels of tags); save it as plain text")
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
                    source=str(resolved(path)), meta=meta)


def resolved(path: Path) -> Path:
    """`path.resolve()`, or the absolute path when it can't be resolved (a symlink loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


class _Unreadable(Exception):
    pass


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _read_bounded(path: Path, max_bytes: int) -> bytes | str:
    """The file's bytes, or the reason it can't be used (never blocks, never reads > limit).

    Opened non-blocking and checked with fstat on the open descriptor, so a named pipe with a
    document's name can't hang ingest and a file replaced between the check and the read is
    judged by what was actually opened; at most `max_bytes + 1` bytes are ever read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        if path.is_symlink():
            return f"broken symlink (points to {os.readlink(path)!r}, which does not exist)"
        return "file disappeared before it could be read"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop (the link points back to itself); remove or fix the link"
        return f"cannot open file: {e.strerror or e}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
            return f"not a regular file ({kind}), though its name ends in {path.suffix!r}"
        if st.st_size > max_bytes:
            return (f"file too large ({st.st_size / _MB:.1f} MB > limit {max_bytes / _MB:.1f} MB); "
                    "split it, or raise BPO_KB_MAX_FILE_MB")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as e:
        return f"cannot read file: {e.strerror or e}"
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew after the size check
        return (f"file too large (over the {max_bytes / _MB:.1f} MB limit while being read); "
                "split it, or raise BPO_KB_MAX_FILE_MB")
    return data


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

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # PDFs "encrypted" with an empty password open
            except Exception as e:  # pypdf raises several types here (e.g. AES without cryptography)
                raise _Unreadable("encrypted PDF (needs a password, or a cipher pypdf can't "
                                  "read); save an unencrypted copy") from e
            if not opened:
                raise _Unreadable("encrypted PDF (needs a password); save an unencrypted copy")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title)
    except _Unreadable:
        raise
    except Exception as e:  # an untrusted file in a third-party parser: any error means "skip it"
        raise _Unreadable(f"unreadable PDF ({type(e).__name__}: {e})") from e
    text = "\n\n".join(p for p in pages if p)
    return text, title or _first_line_title(text)


_BLOCK_TAGS = {"p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote",
               "pre", "br", "hr", "dt", "dd", "figcaption", "caption", "address"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _html_text(raw: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup
    from bs4.element import (
        Comment,
        Declaration,
        Doctype,
        NavigableString,
        ProcessingInstruction,
        Tag,
    )

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
            if isinstance(child, Comment | Declaration | Doctype | ProcessingInstruction):
                continue  # <!-- comments --> and <!doctype>: not visible text
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
