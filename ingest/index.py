"""The index on disk: immutable generations and the CURRENT pointer.

    <data_dir>/index/
        CURRENT                 name of the live generation (replaced atomically)
        g-<time>-<rand>/        one complete generation
            manifest.json       documents (hash, title, chunk count, time), embedder, store
            chunks.jsonl        every indexed chunk, text and metadata
            vectors.npy         the chunks' vectors (float32, same order) - the embedding cache
            lexical/            BM25 index (bm25s)
            chroma/             embedded Chroma (absent when a Chroma server is used)

An ingest writes a new generation beside the live one and only then switches CURRENT, so
a crash mid-ingest leaves the previous index answering. Readers open whatever CURRENT names.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import Chunk
from .errors import IndexCorrupt, IndexMissing
from .lexical import LexicalIndex
from .store import VectorStore

__all__ = ["Generation", "IndexFiles", "current_generation", "new_generation_name"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


def new_generation_name() -> str:
    return time.strftime("g-%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def current_generation(index_dir: Path) -> str | None:
    """Name of the live generation, or None when no index was ever completed."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IndexCorrupt(f"Cannot read {pointer} ({e}); run `bpo-kb ingest --rebuild`") from e
    return name or None


@dataclass
class IndexFiles:
    """Paths of one generation."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def chunks(self) -> Path:
        return self.root / "chunks.jsonl"

    @property
    def vectors(self) -> Path:
        return self.root / "vectors.npy"

    @property
    def lexical(self) -> Path:
        return self.root / "lexical"


def chunk_to_json(chunk: Chunk) -> str:
    d = asdict(chunk)
    d["also_in"] = list(chunk.also_in)
    return json.dumps(d, ensure_ascii=False)


def chunk_from_json(line: str) -> Chunk:
    d = json.loads(line)
    d["also_in"] = tuple(d.get("also_in") or ())
    return Chunk(**d)


class Generation:
    """A complete, readable index generation: chunks, vectors, BM25 and the vector store."""

    def __init__(self, index_dir: Path, name: str, manifest: dict[str, Any],
                 chunks: list[Chunk], vectors: np.ndarray, lexical: LexicalIndex,
                 store: VectorStore) -> None:
        self.index_dir = index_dir
        self.name = name
        self.manifest = manifest
        self.chunks = chunks
        self.vectors = vectors
        self.lexical = lexical
        self.store = store
        self.by_id = {c.chunk_id: i for i, c in enumerate(chunks)}

    @classmethod
    def open_current(cls, index_dir: Path, *, embedder_spec: str | None = None) -> Generation:
        name = current_generation(index_dir)
        if name is None:
            raise IndexMissing(f"No index in {index_dir}; build it with `bpo-kb ingest`")
        return cls.open(index_dir, name, embedder_spec=embedder_spec)

    @classmethod
    def open(cls, index_dir: Path, name: str, *, embedder_spec: str | None = None) -> Generation:
        files = IndexFiles(index_dir / name)
        try:
            manifest = json.loads(files.manifest.read_text(encoding="utf-8"))
            with files.chunks.open(encoding="utf-8") as fh:
                chunks = [chunk_from_json(line) for line in fh if line.strip()]
            vectors = np.load(files.vectors) if files.vectors.exists() else np.zeros((0, 0))
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise IndexCorrupt(f"Index generation {files.root} is unreadable "
                               f"({type(e).__name__}: {e}); run `bpo-kb ingest --rebuild`") from e
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(f"Index in {files.root} has format {manifest.get('format')!r}, "
                               f"this bpo-kb reads {FORMAT_VERSION}; run `bpo-kb ingest --rebuild`")
        if len(vectors) != len(chunks):
            raise IndexCorrupt(f"Index in {files.root} has {len(chunks)} chunks but "
                               f"{len(vectors)} vectors; run `bpo-kb ingest --rebuild`")
        lexical = LexicalIndex.load(files.lexical)
        if lexical.n_docs != len(chunks):
            raise IndexCorrupt(f"Lexical index in {files.root} covers {lexical.n_docs} chunks, "
                               f"not {len(chunks)}; run `bpo-kb ingest --rebuild`")
        store = VectorStore.open(manifest["store"], embedder_spec or manifest["embedder"])
        return cls(index_dir, name, manifest, chunks, vectors, lexical, store)

    @staticmethod
    def write(root: Path, manifest: dict[str, Any], chunks: list[Chunk], vectors: np.ndarray,
              lexical: LexicalIndex) -> None:
        """Write a generation's files (the store was filled by the caller)."""
        files = IndexFiles(root)
        root.mkdir(parents=True, exist_ok=True)
        tmp = files.chunks.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for c in chunks:
                fh.write(chunk_to_json(c) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, files.chunks)
        with files.vectors.open("wb") as fh:
            np.save(fh, vectors.astype(np.float32))
            fh.flush()
            os.fsync(fh.fileno())
        lexical.save(files.lexical)
        manifest = {**manifest, "format": FORMAT_VERSION}
        _atomic_write(files.manifest, json.dumps(manifest, indent=1, ensure_ascii=False))

    @staticmethod
    def publish(index_dir: Path, name: str) -> None:
        """Make `name` the live generation (atomic rename of the pointer file)."""
        _atomic_write(index_dir / "CURRENT", name + "\n")

    @staticmethod
    def collect_garbage(index_dir: Path, keep: int = 2) -> None:
        """Delete old and abandoned generations, keeping the live one and `keep - 1` before it."""
        live = current_generation(index_dir)
        gens = sorted(p for p in index_dir.glob("g-*") if p.is_dir())
        if live is None:
            return
        live_path = index_dir / live
        older = [p for p in gens if p.name < live and p != live_path]
        newer = [p for p in gens if p.name > live]  # abandoned by a crashed ingest
        for p in older[:-(keep - 1)] if keep > 1 else older:
            _remove_generation(p)
        for p in newer:
            _remove_generation(p)


def _remove_generation(path: Path) -> None:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        loc = manifest.get("store", {})
        if loc.get("mode") == "server":
            try:
                VectorStore.open(loc, manifest["embedder"]).drop()
            except Exception as e:  # server gone: the folder still goes
                log.warning("could not drop collection of %s: %s", path.name, e)
    except (OSError, ValueError):
        pass
    shutil.rmtree(path, ignore_errors=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
