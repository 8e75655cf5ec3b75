"""The index on disk: immutable generations and the CURRENT pointer.

    <data_dir>/index/
        CURRENT                 name of the live generation (replaced atomically)
        g-<time>-<rand>/        one complete generation
            manifest.json       documents (hash, title, chunk count, time), embedder, store
            chunks.jsonl        every indexed chunk, text and metadata
            vectors.npy         the chunks' vectors (float32, same order) - the embedding cache
            unit_vectors.npy    vectors of every chunk's answer units (sentences, items, rows)
            unit_offsets.npy    chunk i's units are rows offsets[i]:offsets[i+1] of unit_vectors
            tokens.npy, token_ids.npy, token_offsets.npy, token_df.npy
                                word-piece vectors of every unit and chunk heading (tokens.py)
            terms.json          the documents' words and self-defined acronyms (terms.py)
            lexical/            BM25 index (bm25s)
            chroma/             embedded Chroma (absent when a Chroma server is used)

An ingest writes a new generation beside the live one and only then switches CURRENT, so
a crash mid-ingest leaves the previous index answering. Readers open whatever CURRENT names.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bpo_kb.errors import IndexCorrupt, IndexMissing

from .chunking import Chunk
from .lexical import LexicalIndex
from .store import VectorStore
from .terms import Terms
from .tokens import Projection, TokenArrays, TokenVectors

__all__ = ["Generation", "IndexFiles", "current_generation", "new_generation_name"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
STORE_LOCATION = "store.json"
"""Written first into a new generation: where its vectors go (cleanup after a crash)."""


_GENERATION_NAME = re.compile(r"^g-[0-9A-Za-z-]{1,80}$")


def new_generation_name() -> str:
    """`g-<UTC time to the microsecond>-<random>`: names sort in creation order, which
    `collect_garbage` relies on (two ingests within one second must not swap places)."""
    now = time.time()
    return (time.strftime("g-%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}"
            + "-" + uuid.uuid4().hex[:6])


def pointer_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Identity of the CURRENT pointer file (inode, mtime, size), None when there is none: a
    publish replaces the file, so a reader can tell a new generation without reading it."""
    try:
        st = (index_dir / "CURRENT").stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def current_generation(index_dir: Path) -> str | None:
    """Name of the live generation, or None when no index was ever completed."""
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise IndexCorrupt(f"Cannot read {pointer} ({e}); run `bpo-kb ingest --rebuild`") from e
    if name and not _GENERATION_NAME.match(name):  # never follow it outside the index folder
        raise IndexCorrupt(f"{pointer} names {name[:80]!r}, which is not an index generation; "
                           "run `bpo-kb ingest --rebuild`")
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
    def unit_vectors(self) -> Path:
        return self.root / "unit_vectors.npy"

    @property
    def unit_offsets(self) -> Path:
        return self.root / "unit_offsets.npy"

    @property
    def lexical(self) -> Path:
        return self.root / "lexical"

    @property
    def terms(self) -> Path:
        return self.root / "terms.json"

    def token_file(self, part: str) -> Path:
        """`tokens.npy`, `token_ids.npy`, `token_offsets.npy` or `token_df.npy` (part = "",
        "ids", "offsets", "df")."""
        return self.root / (f"token_{part}.npy" if part else "tokens.npy")



def chunk_to_json(chunk: Chunk) -> str:
    d = asdict(chunk)
    d["also_in"] = list(chunk.also_in)
    return json.dumps(d, ensure_ascii=False)


def chunk_from_json(line: str) -> Chunk:
    d = json.loads(line)
    d["also_in"] = tuple(d.get("also_in") or ())
    d["furniture"] = tuple(tuple(sp) for sp in d.get("furniture") or ())
    return Chunk(**d)


class Generation:
    """A complete, readable index generation: chunks, vectors, BM25 and the vector store."""

    def __init__(self, index_dir: Path, name: str, manifest: dict[str, Any],
                 chunks: list[Chunk], vectors: np.ndarray, lexical: LexicalIndex,
                 store: VectorStore, unit_vectors: np.ndarray, unit_offsets: np.ndarray,
                 tokens: TokenVectors, terms: Terms | None = None) -> None:
        self.index_dir = index_dir
        self.name = name
        self.manifest = manifest
        self.chunks = chunks
        self.vectors = vectors
        self.lexical = lexical
        self.store = store
        self.by_id = {c.chunk_id: i for i, c in enumerate(chunks)}
        self._by_place = {(c.doc_id, c.ordinal): c for c in chunks}
        self.unit_vectors = unit_vectors
        """Vectors of the answer units of every chunk (memory-mapped)."""
        self.unit_offsets = unit_offsets
        self.tokens = tokens
        """Word-piece vectors of every unit and chunk heading (memory-mapped)."""
        self.terms = terms or Terms()
        """The documents' words (for spelling) and the acronyms they spell out."""

    def chunk_at(self, doc_id: str, ordinal: int) -> Chunk | None:
        """The chunk of a document at a position (a neighbour: ordinal +/- 1), if indexed."""
        return self._by_place.get((doc_id, ordinal))

    def unit_vectors_of(self, index: int) -> np.ndarray:
        """The unit vectors of chunk number `index` (rows in `units_of(chunk)` order)."""
        return self.unit_vectors[int(self.unit_offsets[index]):int(self.unit_offsets[index + 1])]

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
            vectors = np.load(files.vectors, mmap_mode="r")  # read-only; paged in on use
            unit_vectors = np.load(files.unit_vectors, mmap_mode="r")
            unit_offsets = np.load(files.unit_offsets)
            if manifest.get("format") == FORMAT_VERSION:
                token_vecs = np.load(files.token_file(""), mmap_mode="r")
                token_ids = np.load(files.token_file("ids"), mmap_mode="r")
                token_offsets = np.load(files.token_file("offsets"))
                token_df = np.load(files.token_file("df"))
                terms = Terms.from_json(json.loads(files.terms.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise IndexCorrupt(f"Index generation {files.root} is unreadable "
                               f"({type(e).__name__}: {e}); run `bpo-kb ingest --rebuild`") from e
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorrupt(f"Index in {files.root} has format {manifest.get('format')!r}, "
                               f"this bpo-kb reads {FORMAT_VERSION}; run `bpo-kb ingest --rebuild`")
        if len(vectors) != len(chunks):
            raise IndexCorrupt(f"Index in {files.root} has {len(chunks)} chunks but "
                               f"{len(vectors)} vectors; run `bpo-kb ingest --rebuild`")
        if len(unit_offsets) != len(chunks) + 1 or int(unit_offsets[-1]) != len(unit_vectors):
            raise IndexCorrupt(f"Unit vectors in {files.root} do not match its chunks; "
                               "run `bpo-kb ingest --rebuild`")
        if len(token_offsets) != len(unit_vectors) + len(chunks) + 1 or \
                int(token_offsets[-1]) != len(token_vecs) or len(token_ids) != len(token_vecs):
            raise IndexCorrupt(f"Token vectors in {files.root} do not match its units; "
                               "run `bpo-kb ingest --rebuild`")
        projection = Projection.for_model(manifest["embedder"], int(manifest.get("dim", 0)))
        if (projection.components.shape[1] if projection else manifest.get("dim")) != \
                (token_vecs.shape[1] if len(token_vecs.shape) == 2 else None):
            raise IndexCorrupt(f"Token vectors in {files.root} have {token_vecs.shape[1:]} dims, "
                               "not what this bpo-kb projects to; run `bpo-kb ingest --rebuild`")
        tokens = TokenVectors(token_vecs, token_offsets, token_df, len(unit_vectors), projection,
                              token_ids)
        lexical = LexicalIndex.load(files.lexical)
        if lexical.n_docs != len(chunks):
            raise IndexCorrupt(f"Lexical index in {files.root} covers {lexical.n_docs} chunks, "
                               f"not {len(chunks)}; run `bpo-kb ingest --rebuild`")
        location = dict(manifest["store"])
        if location.get("mode") == "embedded":  # the data dir may have been moved or copied
            location["path"] = str(files.root / "chroma")
        store = VectorStore.open(location, embedder_spec or manifest["embedder"])
        return cls(index_dir, name, manifest, chunks, vectors, lexical, store, unit_vectors,
                   unit_offsets, tokens, terms)

    @staticmethod
    def write(root: Path, manifest: dict[str, Any], chunks: list[Chunk], vectors: np.ndarray,
              lexical: LexicalIndex, unit_vectors: np.ndarray, unit_offsets: np.ndarray,
              tokens: TokenArrays, terms: Terms) -> None:
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
        for path, arr in ((files.vectors, vectors.astype(np.float32)),
                          (files.unit_vectors, unit_vectors.astype(np.float32)),
                          (files.unit_offsets, unit_offsets.astype(np.int64)),
                          (files.token_file(""), tokens.vectors.astype(np.int8)),
                          (files.token_file("ids"), tokens.ids.astype(np.int32)),
                          (files.token_file("offsets"), tokens.offsets.astype(np.int64)),
                          (files.token_file("df"), tokens.df.astype(np.int32))):
            with path.open("wb") as fh:
                np.save(fh, arr)
                fh.flush()
                os.fsync(fh.fileno())
        lexical.save(files.lexical)
        _atomic_write(files.terms, json.dumps(terms.to_json(), ensure_ascii=False))
        manifest = {**manifest, "format": FORMAT_VERSION}
        _atomic_write(files.manifest, json.dumps(manifest, indent=1, ensure_ascii=False))

    @staticmethod
    def publish(index_dir: Path, name: str) -> None:
        """Make `name` the live generation (atomic rename of the pointer file)."""
        _atomic_write(index_dir / "CURRENT", name + "\n")

    @staticmethod
    def write_store_location(root: Path, location: dict[str, str]) -> None:
        """Record where a generation's vectors go before any are written, so the collection
        of a generation whose ingest crashed (no manifest yet) can still be dropped."""
        root.mkdir(parents=True, exist_ok=True)
        _atomic_write(root / STORE_LOCATION, json.dumps(location))

    @staticmethod
    def discard(root: Path) -> None:
        """Remove a generation that was never published (an ingest that failed midway)."""
        _remove_generation(root)

    @staticmethod
    def collect_garbage(index_dir: Path, keep: int = 2) -> None:
        """Delete old and abandoned generations, keeping the live one and `keep - 1` before it.

        Only call it while holding the ingest lock: a generation being written by another
        ingest looks abandoned. With no live generation at all, every generation is debris.
        """
        try:
            live = current_generation(index_dir)
        except IndexCorrupt as e:  # keep everything: a human may want to look at it
            log.warning("not collecting old generations: %s", e)
            return
        gens = sorted(p for p in index_dir.glob("g-*") if p.is_dir())
        if live is None:
            for p in gens:
                _remove_generation(p)
            return
        live_path = index_dir / live
        older = [p for p in gens if p.name < live and p != live_path]
        newer = [p for p in gens if p.name > live]  # abandoned by a crashed ingest
        for p in older[:-(keep - 1)] if keep > 1 else older:
            _remove_generation(p)
        for p in newer:
            _remove_generation(p)


def _remove_generation(path: Path) -> None:
    log.info("removing index generation %s", path.name)
    loc: dict[str, Any] = {}
    for name in ("manifest.json", STORE_LOCATION):  # a crashed ingest left no manifest
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        loc = data.get("store", data) if isinstance(data, dict) else {}
        break
    if loc.get("mode") == "server":
        try:
            VectorStore.drop_collection(loc)
        except Exception as e:  # server gone: the folder still goes
            log.warning("could not drop collection of %s: %s", path.name, e)
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
