"""Ingest: documents on disk -> a new index generation, incrementally and crash-safely.

The stages of `_ingest_locked`, one function each:

1. `ingest` takes the lock (one ingest at a time per data directory);
   `_live_generation` opens the live generation to update and to reuse vectors from.
2. `_load_documents` reads every document under the roots; `_diff` compares content
   hashes with the live generation. Nothing added, changed or removed: stop ("up to date,
   embedded 0 chunks").
3. `_chunk` re-chunks changed and added documents, keeps the stored chunks of the others,
   collapses near-duplicates.
4. `embed_cached` - the one "reuse cached vectors, embed the rest" helper - for chunks and
   answer units; `_token_arrays` the same for word-pieces.
5. `_write_generation` copies the live vector store into the new generation, deletes
   removed chunks, adds new ones, writes chunks, vectors, BM25 and the corpus's words
   (`ingest.terms`), then switches CURRENT (atomic); old generations are dropped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from bpo_kb.errors import BpoKbError, IndexCorrupt, IngestError, IngestLocked, StoreUnavailable
from bpo_kb.settings import Settings

from .chunking import Chunk, chunk_document
from .dedup import collapse_near_duplicates
from .documents import Document, Skipped
from .embedding import make_embedder
from .index import FORMAT_VERSION, Generation, IndexFiles, current_generation, new_generation_name
from .lexical import LexicalIndex
from .loaders import discover, load_document, read_manifest, resolved
from .store import VectorStore
from .terms import corpus_terms
from .tokens import Projection, TokenArrays, group_texts
from .tokens import encode as encode_tokens
from .units import unit_embed_text, units_of

__all__ = ["CHUNKER_VERSION", "IngestReport", "Progress", "embed_cached", "index_is_usable",
           "ingest", "text_key"]

log = logging.getLogger(__name__)

CHUNKER_VERSION = 11
"""Bumped when chunking, unit splitting or the index's word counts (`ingest.terms`) change:
the next ingest (which `ask`/`serve` run when the index is older) re-chunks everything and
embeds what changed."""

NO_PASSAGES = ("no passages found: every line looks like a heading (short, no closing period); "
               "write full sentences, or end the lines with a period")
"""Skip reason of a readable document in which the chunker found nothing to index."""

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called during long work (the CLI draws a bar)."""


@dataclass
class IngestReport:
    """What an ingest did."""

    documents: int = 0
    """Documents in the index afterwards."""
    chunks: int = 0
    """Chunks in the index afterwards (after near-duplicate collapse)."""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0
    """Chunks whose vectors were computed by this run (0 when nothing changed)."""
    embedded_units: int = 0
    """Answer units (sentences, items, rows) whose vectors were computed by this run."""
    embedded_word_pieces: int = 0
    """Texts (units, headings) whose word-piece vectors were computed by this run."""
    duplicates: int = 0
    """Chunks collapsed into an earlier near-identical chunk."""
    skipped: list[dict[str, str]] = field(default_factory=list)
    """Files not ingested, each with `path` and `reason`."""
    generation: str = ""
    seconds: float = 0.0
    up_to_date: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def index_is_usable(settings: Settings) -> bool:
    """True when a live generation exists and was built with the configured embedder and store."""
    try:
        name = current_generation(settings.index_dir)
    except IndexCorrupt:
        return False
    if name is None:
        return False
    try:
        import json

        manifest = json.loads(IndexFiles(settings.index_dir / name).manifest.read_text())
    except (OSError, ValueError):
        return False
    store = manifest.get("store", {})
    wants_server = bool(settings.chroma_url)
    if (store.get("mode") == "server") != wants_server:
        return False
    if wants_server and store.get("url") != (settings.chroma_url or "").rstrip("/"):
        return False
    return bool(manifest.get("embedder") == settings.embedder
                and manifest.get("chunker") == CHUNKER_VERSION
                and manifest.get("format") == FORMAT_VERSION)


def _doc_id(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return resolved(path).relative_to(resolved(root)).as_posix()
        except ValueError:
            pass
    return path.name


def embed_text(chunk: Chunk) -> str:
    """What the embedder sees for a chunk: its heading context (unless that is only the
    document title, which would make every short chunk look alike), then its text."""
    ctx = chunk.context if chunk.context and chunk.context != chunk.title else ""
    return f"{ctx}\n{chunk.text}" if ctx else chunk.text


def lexical_text(chunk: Chunk) -> str:
    """What BM25 indexes for a chunk: heading context and text (not the document title, which
    is about the same subject in every guide and would only add noise)."""
    return f"{chunk.context}\n{chunk.text}"


def ingest(settings: Settings, paths: Iterable[Path] | None = None, *, rebuild: bool = False,
           progress: Progress | None = None, lock_timeout: float = 0.0) -> IngestReport:
    """Bring the index up to date with the documents under `paths` (default: the corpus)."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "ingest.lock"))
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout as e:
        raise IngestLocked(
            f"Another ingest is running on {settings.data_dir} (lock file "
            f"{settings.data_dir / 'ingest.lock'}); wait for it to finish, or pass --wait SECONDS"
        ) from e
    try:
        return _ingest_locked(settings, paths, rebuild=rebuild, progress=progress)
    finally:
        lock.release()


def _ingest_locked(settings: Settings, paths: Iterable[Path] | None, *, rebuild: bool,
                   progress: Progress | None) -> IngestReport:
    """The stages of an ingest, in order; each is a function below."""
    t0 = time.perf_counter()
    report = IngestReport()
    roots = _roots(settings, paths)
    VectorStore.check_config(settings.chroma_url, settings.collection)
    # under the lock no other ingest is writing: any generation that never went live is
    # debris of a crashed run (killed, power loss) - remove it, with its server collection
    Generation.collect_garbage(settings.index_dir)
    previous, cached = _live_generation(settings, rebuild)
    docs, n_files = _load_documents(settings, roots, report, progress)
    kept_prev = _diff(report, previous, docs, roots)
    if previous is not None and not (report.added or report.changed or report.removed):
        report.up_to_date = True
        report.generation = previous.name
        report.documents = sum(1 for m in previous.manifest["documents"].values()
                               if m.get("n_chunks", 1))
        report.chunks = len(previous.chunks)
        report.duplicates = int(previous.manifest.get("duplicates", 0))
        report.seconds = round(time.perf_counter() - t0, 3)
        return report
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    kept, dropped, doc_meta = _chunk(report, docs, kept_prev, previous, now)
    if not kept:
        reasons = "; ".join(f"{s['path']}: {s['reason']}" for s in report.skipped[:5])
        raise IngestError(
            f"No text to index under {', '.join(str(r) for r in roots)}: "
            f"{n_files} files found, {len(report.skipped)} skipped"
            + (f" ({reasons})" if reasons else "")
            + "; add .txt, .md, .html or .pdf documents with text. The live index is unchanged.")
    embedder = make_embedder(settings.embedder)
    vectors, report.embedded = embed_cached(
        embedder, [embed_text(c) for c in kept], _chunk_vector_cache(cached), progress, "embed")
    unit_texts, offsets = _unit_texts(kept)
    unit_vectors, report.embedded_units = embed_cached(
        embedder, unit_texts, _unit_vector_cache(cached), progress, "embed units")
    token_arrays, report.embedded_word_pieces = _token_arrays(embedder, settings.embedder,
                                                              kept, cached, progress)
    report.generation = _write_generation(
        settings, previous, kept, vectors, unit_vectors, offsets, token_arrays,
        {"created": now, "dim": embedder.dim, "documents": doc_meta, "units": len(unit_texts),
         "duplicates": len(dropped), "skipped": report.skipped}, progress)
    Generation.collect_garbage(settings.index_dir)
    report.documents = sum(1 for m in doc_meta.values() if m.get("n_chunks", 1))
    report.chunks = len(kept)
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def _roots(settings: Settings, paths: Iterable[Path] | None) -> list[Path]:
    roots = [Path(p) for p in paths] if paths else [settings.corpus_dir]
    for r in roots:
        if not r.exists():
            raise IngestError(f"No such file or directory: {str(r)!r}; give a document or a "
                              "folder of documents (.txt, .md, .html, .pdf)")
    return roots


def _live_generation(settings: Settings, rebuild: bool
                     ) -> tuple[Generation | None, Generation | None]:
    """The live generation to update (None: start from scratch) and the one whose vectors
    may be reused (the same, or the live one when only the vector store changed)."""
    previous: Generation | None = None
    if not rebuild:
        try:
            if current_generation(settings.index_dir) is not None:
                previous = Generation.open_current(settings.index_dir,
                                                   embedder_spec=settings.embedder)
        except IndexCorrupt as e:
            log.warning("live index unreadable, rebuilding from scratch: %s", e)
        except StoreUnavailable as e:
            if settings.chroma_url:
                raise  # the configured server is down: nothing to do until it is back
            log.warning("live index's Chroma server is unreachable; building an embedded "
                        "index from scratch: %s", e)
        if previous is not None and previous.manifest.get("embedder") != settings.embedder:
            previous = None  # a different model: nothing can be reused
    # vectors (chunks and units) are reused from `cached` even when the store changes
    # (embedded <-> server): only the store is filled from scratch then
    cached = previous
    if previous is not None and not _same_store(previous, settings):
        log.info("vector store changed to %s: refilling it from the cached vectors",
                 settings.chroma_url or "embedded")
        previous = None
    return previous, cached


def _load_documents(settings: Settings, roots: list[Path], report: IngestReport,
                    progress: Progress | None) -> tuple[dict[str, Document], int]:
    """Every readable document under the roots by id (unreadable ones go to
    `report.skipped` with the reason), and how many files were found."""
    docs: dict[str, Document] = {}
    files = []
    for root in roots:
        corpus_manifest = read_manifest(root) if root.is_dir() else read_manifest(root.parent)
        base = root if root.is_dir() else None
        if base is None and root.resolve().parent == settings.corpus_dir.resolve():
            base = settings.corpus_dir
        for f in discover([root]):
            files.append((f, base, corpus_manifest))
    for i, (f, base, corpus_manifest) in enumerate(files):
        if progress:
            progress("read", i, len(files))
        doc_id = _doc_id(f, base)
        loaded = load_document(f, doc_id, manifest=corpus_manifest,
                               max_bytes=int(settings.max_file_mb * 1024 * 1024))
        if isinstance(loaded, Skipped):
            report.skipped.append({"path": loaded.path, "reason": loaded.reason})
            continue
        if doc_id in docs:
            report.skipped.append({"path": str(f), "reason": f"duplicate document id {doc_id!r} "
                                   f"(also {docs[doc_id].source})"})
            continue
        docs[doc_id] = loaded
    if progress:
        progress("read", len(files), len(files))
    return docs, len(files)


def _diff(report: IngestReport, previous: Generation | None, docs: dict[str, Document],
          roots: list[Path]) -> dict[str, dict[str, Any]]:
    """Fill the report's added / changed / removed / unchanged against the live generation;
    return the live documents that were ingested from elsewhere (kept as they are)."""
    prev_docs: dict[str, dict[str, Any]] = dict(previous.manifest["documents"]) if previous else {}
    chunker_changed = bool(previous and previous.manifest.get("chunker") != CHUNKER_VERSION)
    root_paths = [str(r.resolve()) for r in roots]
    kept_prev: dict[str, dict[str, Any]] = {}
    for doc_id, info in prev_docs.items():
        src = info.get("source", "")
        under_roots = any(src == rp or src.startswith(rp.rstrip("/") + "/") for rp in root_paths)
        if doc_id in docs:
            continue
        if under_roots:  # deleted, or now unreadable (then it is in `skipped` too)
            report.removed.append(doc_id)
        else:
            kept_prev[doc_id] = info  # ingested from elsewhere earlier; not ours to judge
    for doc_id, doc in docs.items():
        prev = prev_docs.get(doc_id)
        if prev is None:
            report.added.append(doc_id)
        elif (prev.get("sha") != doc.sha or chunker_changed or prev.get("title") != doc.title
              or prev.get("meta", doc.meta) != doc.meta):  # manifest edits count as changes
            report.changed.append(doc_id)
        else:
            report.unchanged += 1
    return kept_prev


def _chunk(report: IngestReport, docs: dict[str, Document], kept_prev: dict[str, dict[str, Any]],
           previous: Generation | None, now: str
           ) -> tuple[list[Chunk], dict[str, str], dict[str, dict[str, Any]]]:
    """Documents under the roots are (re-)chunked - cheap and deterministic; their vectors
    are reused later when the text is unchanged. Documents ingested earlier from elsewhere
    keep their stored chunks. Near-duplicates are collapsed. Returns the kept chunks, the
    collapsed ones ({dropped id: kept id}) and each document's manifest entry."""
    touched = set(report.added) | set(report.changed)
    prev_docs: dict[str, dict[str, Any]] = dict(previous.manifest["documents"]) if previous else {}
    prev_chunks_by_doc: dict[str, list[Chunk]] = {}
    if previous is not None:
        for c in previous.chunks:
            prev_chunks_by_doc.setdefault(c.doc_id, []).append(replace(c, also_in=()))
    all_chunks: list[Chunk] = []
    doc_meta: dict[str, dict[str, Any]] = {}
    for doc_id in sorted(set(docs) | set(kept_prev)):
        if doc_id in docs:
            d = docs[doc_id]
            chunks = chunk_document(d)
            if not chunks:  # kept in the manifest (so the next run is up to date), but said
                report.skipped.append({"path": d.source, "reason": NO_PASSAGES})
                for listed in (report.added, report.changed):
                    if doc_id in listed:
                        listed.remove(doc_id)
            all_chunks.extend(chunks)
            prev_info = prev_docs.get(doc_id, {})
            doc_meta[doc_id] = {
                "sha": d.sha, "title": d.title, "source": d.source, "meta": d.meta,
                "ingested_at": now if doc_id in touched else prev_info.get("ingested_at", now),
            }
        else:
            all_chunks.extend(prev_chunks_by_doc.get(doc_id, []))
            doc_meta[doc_id] = kept_prev[doc_id]
    kept, dropped = collapse_near_duplicates(all_chunks)
    report.duplicates = len(dropped)
    for doc_id, info in doc_meta.items():
        info["n_chunks"] = sum(1 for c in kept if c.doc_id == doc_id)
    return kept, dropped, doc_meta


def embed_cached(embedder: Any, texts: list[str], cache: dict[str, np.ndarray],
                 progress: Progress | None = None, stage: str = "embed"
                 ) -> tuple[np.ndarray, int]:
    """The vectors of `texts`, in order: reuse the cached ones (keyed by `text_key`), embed
    the rest (each distinct text once). Returns the matrix and how many texts were embedded.
    Every embedding pass of an ingest goes through here (and the scale benchmark too)."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    keys = [text_key(t) for t in texts]
    missing = list(dict.fromkeys(k for k in keys if k not in cache))
    if missing:
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k in set(missing)}
        log.info("embedding %d of %d texts for %r (the rest are cached)", len(missing),
                 len(texts), stage)
        if progress:
            progress(stage, 0, len(missing))
        fresh = embedder.embed_documents([todo[k] for k in missing],
                                         progress=_ticker(progress, stage, len(missing)))
        cache = {**cache, **dict(zip(missing, np.asarray(fresh), strict=True))}
    for i, k in enumerate(keys):
        vectors[i] = cache[k]
    return vectors, len(missing)


def text_key(text: str) -> str:
    """The embedding cache key of a text."""
    return hashlib.sha1(text.encode()).hexdigest()


def _chunk_vector_cache(cached: Generation | None) -> dict[str, np.ndarray]:
    if cached is None:
        return {}
    return {text_key(embed_text(c)): np.asarray(v)
            for c, v in zip(cached.chunks, cached.vectors, strict=True)}


def _unit_vector_cache(cached: Generation | None) -> dict[str, np.ndarray]:
    """Unit vectors of the previous generation by text. Units are re-split by this code:
    pairing them with vectors of an older split could give a unit another sentence's
    vector, so a new chunker version re-embeds them all."""
    if cached is None or cached.manifest.get("chunker") != CHUNKER_VERSION:
        return {}
    out: dict[str, np.ndarray] = {}
    for i, c in enumerate(cached.chunks):
        uv = cached.unit_vectors_of(i)
        us = units_of(c)
        if len(us) == len(uv):
            for u, v in zip(us, uv, strict=True):
                out[text_key(unit_embed_text(u))] = np.asarray(v)
    return out


def _unit_texts(chunks: list[Chunk]) -> tuple[list[str], np.ndarray]:
    """What the embedder sees for every unit of every chunk, and chunk i's rows
    offsets[i]:offsets[i + 1]."""
    texts: list[str] = []
    offsets = [0]
    for c in chunks:
        texts.extend(unit_embed_text(u) for u in units_of(c))
        offsets.append(len(texts))
    return texts, np.asarray(offsets, dtype=np.int64)


def _write_generation(settings: Settings, previous: Generation | None, kept: list[Chunk],
                      vectors: np.ndarray, unit_vectors: np.ndarray, offsets: np.ndarray,
                      token_arrays: TokenArrays, manifest_extra: dict[str, Any],
                      progress: Progress | None) -> str:
    """Write the new generation beside the live one (the vector store updated from a copy
    of the live one), publish it and return its name. Any failure leaves the live index
    as it was."""
    name = new_generation_name()
    root = settings.index_dir / name
    embedder_spec = settings.embedder
    try:
        root.mkdir(parents=True)
        location = VectorStore.location_for(root, name, settings.chroma_url, settings.collection)
        Generation.write_store_location(root, location)  # lets a later run clean up after a crash
        log.info("writing generation %s (%d chunks, store %s)", name, len(kept), location["mode"])
        new_ids = {c.chunk_id for c in kept}
        if previous is not None:
            store = previous.store.clone_to(location, embedder_spec)
            old = {c.chunk_id: c for c in previous.chunks}
            # same id (text) but a new heading context or metadata: its stored vector is stale
            to_add = [i for i, c in enumerate(kept) if c.chunk_id not in old
                      or embed_text(old[c.chunk_id]) != embed_text(c)
                      or old[c.chunk_id].metadata() != c.metadata()]
            store.delete((set(old) - new_ids) | ({kept[i].chunk_id for i in to_add} & set(old)))
        else:
            store = VectorStore.open(location, embedder_spec, create=True)
            to_add = list(range(len(kept)))
        if progress:
            progress("store", 0, len(to_add))
        store.add([kept[i].chunk_id for i in to_add], vectors[to_add],
                  [kept[i].text for i in to_add], [kept[i].metadata() for i in to_add])
        if progress:
            progress("store", len(to_add), len(to_add))
        if store.count() != len(kept):
            raise IngestError(f"Vector store holds {store.count()} vectors for {len(kept)} chunks "
                              "after the update; run `bpo-kb ingest --rebuild`")
        lexical = LexicalIndex.build([lexical_text(c) for c in kept])
        manifest: dict[str, Any] = {
            "generation": name, "embedder": embedder_spec, "chunker": CHUNKER_VERSION,
            "store": location, "chunks": len(kept), **manifest_extra,
        }
        Generation.write(root, manifest, kept, vectors, lexical, unit_vectors, offsets,
                         token_arrays, corpus_terms(kept))
    except BaseException as e:  # disk full, store error, Ctrl-C: the live index stays as is
        Generation.discard(root)
        if isinstance(e, BpoKbError) or not isinstance(e, Exception):
            raise
        detail = e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {e}"
        raise IngestError(
            f"Could not write the new index generation in {settings.index_dir} ({detail}); "
            "the live index is unchanged. Free some disk space (or fix the permissions) and run "
            "`bpo-kb ingest` again") from e
    Generation.publish(settings.index_dir, name)
    log.info("generation %s is live", name)
    return name


def _token_arrays(embedder: Any, embedder_spec: str, kept: list[Chunk],
                  cached: Generation | None, progress: Progress | None
                  ) -> tuple[TokenArrays, int]:
    """Word-pieces of every unit (in index order), then of every chunk's heading, projected
    and quantised (`ingest.tokens`); texts the previous generation already holds are reused.
    Also returns how many texts were embedded."""
    projection = Projection.for_model(embedder_spec, embedder.dim)
    dims = projection.components.shape[1] if projection else embedder.dim
    texts, n_units = group_texts(kept)
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if cached is not None and cached.tokens.vectors.shape[1] == dims:
        old, (old_texts, _) = cached.tokens, group_texts(cached.chunks)
        if len(old_texts) + 1 == len(old.offsets):
            for g, t in enumerate(old_texts):
                a, b = int(old.offsets[g]), int(old.offsets[g + 1])
                cache[text_key(t)] = (np.asarray(old.ids[a:b]), np.asarray(old.vectors[a:b]))
    missing = list(dict.fromkeys(t for t in texts if text_key(t) not in cache))
    if missing:
        groups = encode_tokens(embedder, missing, projection,
                               _ticker(progress, "embed word-pieces", len(missing)))
        for t, group in zip(missing, groups, strict=True):
            cache[text_key(t)] = group
    return (TokenArrays.from_groups([cache[text_key(t)] for t in texts], n_units, dims),
            len(missing))


def _ticker(progress: Progress | None, stage: str, total: int) -> Callable[[int], None]:
    """A callback that adds up work done in batches and reports it as `stage` of `total`."""
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(stage, done, total)

    return tick


def _same_store(previous: Generation, settings: Settings) -> bool:
    loc = previous.manifest.get("store", {})
    if settings.chroma_url:
        return bool(loc.get("mode") == "server" and loc.get("url") == settings.chroma_url.rstrip("/"))
    return bool(loc.get("mode") == "embedded")
