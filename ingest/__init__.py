"""ingest: documents -> chunks -> vectors (Chroma) + a lexical index (BM25). Owns the index on disk.

The lowest layer: it imports neither `bot` nor any UI or CLI library.
"""

from .chunking import Chunk, chunk_document
from .documents import Document, Skipped
from .embedding import Embedder, make_embedder
from .errors import (
    BpoKbError,
    ConfigError,
    GenerationError,
    IndexCorrupt,
    IndexMissing,
    IngestError,
    IngestLocked,
    QuestionError,
    StoreUnavailable,
)
from .index import Generation, current_generation, pointer_stamp
from .ingestion import IngestReport, embed_text, index_is_usable, ingest, lexical_text
from .lexical import LexicalIndex
from .loaders import SUPPORTED_SUFFIXES, load_document
from .settings import PROJECT_ROOT, Settings
from .store import VectorStore

__all__ = [
    "PROJECT_ROOT",
    "SUPPORTED_SUFFIXES",
    "BpoKbError",
    "Chunk",
    "ConfigError",
    "Document",
    "Embedder",
    "Generation",
    "GenerationError",
    "IndexCorrupt",
    "IndexMissing",
    "IngestError",
    "IngestLocked",
    "IngestReport",
    "LexicalIndex",
    "QuestionError",
    "Settings",
    "Skipped",
    "StoreUnavailable",
    "VectorStore",
    "chunk_document",
    "current_generation",
    "pointer_stamp",
    "embed_text",
    "index_is_usable",
    "ingest",
    "lexical_text",
    "load_document",
    "make_embedder",
]
