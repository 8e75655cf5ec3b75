"""ingest: documents -> chunks -> vectors (Chroma) + a lexical index (BM25). Owns the index on disk.

It imports only `bpo_kb` (settings, errors) of the project: never `bot`, `generate`, `app`
or any UI or CLI library.
"""

from .chunking import Chunk, chunk_document
from .documents import Document, Skipped
from .embedding import Embedder, make_embedder
from .index import Generation, current_generation, pointer_stamp
from .ingestion import IngestReport, embed_text, index_is_usable, ingest, lexical_text
from .lexical import LexicalIndex
from .loaders import SUPPORTED_SUFFIXES, load_document
from .store import VectorStore

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "Document",
    "Embedder",
    "Generation",
    "IngestReport",
    "LexicalIndex",
    "Skipped",
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
