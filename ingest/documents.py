"""The `Document`: one source file turned into text, with its identity and hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = ["Document", "Skipped", "content_hash"]


def content_hash(data: bytes) -> str:
    """Stable hash of a document's bytes (what incremental ingest compares)."""
    return hashlib.sha256(data).hexdigest()[:32]


@dataclass(frozen=True)
class Document:
    """A loaded document. Chunk offsets refer to `text`."""

    doc_id: str
    """Path relative to the corpus directory (or the file name), e.g. `flowz-bpo-guide.txt`."""
    title: str
    """Human title: from the corpus manifest, else from the document itself."""
    text: str
    """Plain text. For .txt and .md it is the file's own text, so offsets are file offsets."""
    sha: str
    """Content hash of the file's bytes."""
    source: str
    """Absolute path the document was read from."""
    meta: dict[str, str] = field(default_factory=dict)
    """Flat extra metadata (publisher, date, format...)."""


@dataclass(frozen=True)
class Skipped:
    """A file ingest did not take, and why."""

    path: str
    """The file as given."""
    reason: str
    """What was wrong, e.g. `binary file (NUL bytes at offset 12)`."""
