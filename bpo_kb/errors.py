"""The errors bpo-kb raises, one tree under one base.

    BpoKbError
    ├── ConfigError        a setting or backend string is wrong, or an optional package is missing
    ├── IngestError        a document or the corpus could not be ingested
    │   └── IngestLocked   another ingest holds the index lock
    ├── IndexMissing       there is no index yet (entry points build one instead of showing this)
    ├── IndexCorrupt       the index on disk is unreadable; re-ingest with --rebuild
    ├── StoreUnavailable   the Chroma server (BPO_KB_CHROMA_URL) can't be reached
    ├── QuestionError      the question itself is unusable (empty, too long)
    └── GenerationError    an LLM backend failed (server down, timeout, malformed output)

Every message says what failed, the offending value, and the fix.
"""

from __future__ import annotations

__all__ = [
    "BpoKbError",
    "ConfigError",
    "GenerationError",
    "IndexCorrupt",
    "IndexMissing",
    "IngestError",
    "IngestLocked",
    "QuestionError",
    "StoreUnavailable",
]


class BpoKbError(Exception):
    """Base of every error bpo-kb raises on purpose."""


class ConfigError(BpoKbError):
    """A setting, a backend string or an optional dependency is wrong or missing."""


class IngestError(BpoKbError):
    """A document or the corpus could not be ingested."""


class IngestLocked(IngestError):
    """Another ingest is running on the same data directory."""


class IndexMissing(BpoKbError):
    """No index has been built in the data directory yet."""


class IndexCorrupt(BpoKbError):
    """The index on disk cannot be read."""


class StoreUnavailable(BpoKbError):
    """The Chroma server holding the vectors can't be reached (down, wrong URL, network).

    Not an `IndexCorrupt`: rebuilding would not help, so entry points report it instead."""


class QuestionError(BpoKbError):
    """The question cannot be answered as given (empty, too long...)."""


class GenerationError(BpoKbError):
    """An LLM backend failed: unreachable, timed out, or returned something unusable."""
