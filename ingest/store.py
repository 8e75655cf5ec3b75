"""The vector store: Chroma, embedded (PersistentClient in the index generation) or a server.

Vectors are always computed by our own `Embedder` and passed in precomputed; the collection
still gets an explicit embedding function so Chroma never falls back to downloading its own.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from bpo_kb.errors import ConfigError, IndexCorrupt, StoreUnavailable

__all__ = ["VectorStore", "chroma_settings"]

log = logging.getLogger(__name__)

_BATCH = 1000
_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9._-]{1,490}[a-zA-Z0-9])?$")
"""Chroma's collection-name rule (3-512 characters), with room for the generation suffix."""


def chroma_settings() -> Any:
    """Chroma client settings: telemetry off, no reset."""
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _embedding_function(spec: str) -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    from .embedding import make_embedder

    @register_embedding_function
    class BpoKbEmbeddingFunction(EmbeddingFunction[Documents]):
        """Chroma adapter over our `Embedder` (same model for ingest and queries)."""

        def __init__(self, spec: str) -> None:
            self.spec = spec

        def __call__(self, input: Documents) -> Embeddings:
            return list(make_embedder(self.spec).embed_documents(list(input)))

        @staticmethod
        def name() -> str:
            return "bpo-kb"

        def get_config(self) -> dict[str, Any]:
            return {"spec": self.spec}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> BpoKbEmbeddingFunction:
            return BpoKbEmbeddingFunction(config["spec"])

        def default_space(self) -> Any:
            return "cosine"

    return BpoKbEmbeddingFunction(spec)


_EF_CACHE: dict[str, Any] = {}


def _ef(spec: str) -> Any:
    if spec not in _EF_CACHE:
        _EF_CACHE[spec] = _embedding_function(spec)
    return _EF_CACHE[spec]


class VectorStore:
    """One Chroma collection holding one index generation's chunk vectors."""

    def __init__(self, client: Any, collection: Any, *, location: dict[str, str]) -> None:
        self._client = client
        self._col = collection
        self._count: int | None = None
        self.location = location
        """Where it lives: {"mode": "embedded", "path": ...} or {"mode": "server", "url", "collection"}."""

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, location: dict[str, str], embedder_spec: str, *, create: bool = False
             ) -> VectorStore:
        """Open (or create) the collection described by `location`."""
        client = cls._client_for(location)
        name = location["collection"]
        try:
            if create:
                col = client.get_or_create_collection(
                    name, embedding_function=_ef(embedder_spec),
                    configuration={"hnsw": {"space": "cosine"}})
            else:
                col = client.get_collection(name, embedding_function=_ef(embedder_spec))
        except Exception as e:  # chromadb raises NotFoundError, ValueError, connection errors
            if location["mode"] == "server" and _is_connection_error(e):
                raise _unreachable(location["url"], e) from e
            if location["mode"] == "server":
                raise IndexCorrupt(
                    f"Chroma collection {name!r} on {location['url']} is not available "
                    f"({type(e).__name__}: {e}); start the server or re-run `bpo-kb ingest`") from e
            raise IndexCorrupt(
                f"Chroma collection {name!r} in {location['path']} cannot be opened "
                f"({type(e).__name__}: {e}); run `bpo-kb ingest --rebuild`") from e
        return cls(client, col, location=location)

    @staticmethod
    def _client_for(location: dict[str, str]) -> Any:
        import chromadb

        if location["mode"] == "server":
            url = _server_url(location["url"])
            try:
                return chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                           ssl=url.scheme == "https", settings=chroma_settings())
            except Exception as e:  # ValueError("Could not connect..."), httpx errors
                raise _unreachable(location["url"], e) from e
        return chromadb.PersistentClient(path=location["path"], settings=chroma_settings())

    @staticmethod
    def check_config(chroma_url: str | None, prefix: str) -> None:
        """Fail fast, before any embedding, on a bad server URL or collection prefix."""
        if chroma_url:
            _server_url(chroma_url)
        VectorStore.location_for(Path("."), "g-check", chroma_url, prefix)

    @staticmethod
    def location_for(generation_dir: Path, generation: str, chroma_url: str | None,
                     prefix: str) -> dict[str, str]:
        """Where a generation's vectors go: a folder in it, or a collection on the server."""
        if not _NAME.match(prefix if len(prefix) >= 3 else f"{prefix}_kb"):
            raise ConfigError(
                f"BPO_KB_COLLECTION={prefix!r} is not a valid Chroma collection name prefix; "
                "use letters, digits, '.', '_' or '-', starting and ending with a letter or "
                "digit, at most 490 characters (e.g. bpo_kb or sales-team.kb)")
        if chroma_url:
            return {"mode": "server", "url": chroma_url.rstrip("/"),
                    "collection": f"{prefix}-{generation}"}
        return {"mode": "embedded", "path": str(generation_dir / "chroma"),
                "collection": prefix if len(prefix) >= 3 else f"{prefix}_kb"}

    # -- copying a generation ----------------------------------------------------------------
    def clone_to(self, location: dict[str, str], embedder_spec: str) -> VectorStore:
        """A copy of this collection at `location` (the next generation starts from it)."""
        if self.location["mode"] == "embedded" and location["mode"] == "embedded":
            shutil.copytree(self.location["path"], location["path"])
            return VectorStore.open(location, embedder_spec)
        new = VectorStore.open(location, embedder_spec, create=True)
        offset = 0
        while True:
            got = self._col.get(include=["embeddings", "documents", "metadatas"],
                                limit=_BATCH, offset=offset)
            if not got["ids"]:
                break
            new._col.add(ids=got["ids"], embeddings=got["embeddings"],
                         documents=got["documents"], metadatas=got["metadatas"])
            offset += len(got["ids"])
        return new

    # -- writing -----------------------------------------------------------------------------
    def add(self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str],
            metadatas: Sequence[dict[str, Any]]) -> None:
        self._count = None
        limit = min(_BATCH, self._max_batch())
        for i in range(0, len(ids), limit):
            self._col.add(ids=list(ids[i:i + limit]), embeddings=vectors[i:i + limit],
                          documents=list(documents[i:i + limit]),
                          metadatas=list(metadatas[i:i + limit]))

    def delete(self, ids: Iterable[str]) -> None:
        self._count = None
        ids = list(ids)
        for i in range(0, len(ids), _BATCH):
            self._col.delete(ids=ids[i:i + _BATCH])

    @classmethod
    def drop_collection(cls, location: dict[str, str]) -> None:
        """Delete a server collection by its location (no embedder needed); absent is fine."""
        if location.get("mode") != "server":
            return
        client = cls._client_for(location)
        try:
            client.delete_collection(location["collection"])
        except Exception as e:  # NotFoundError: a crash before it was created
            log.info("collection %s not dropped: %s", location["collection"], e)

    def drop(self) -> None:
        """Delete the collection (server mode; embedded generations are deleted as folders)."""
        try:
            self._client.delete_collection(self._col.name)
        except Exception as e:  # already gone, server down: nothing more to do
            log.warning("could not delete collection %s: %s", self._col.name, e)

    def _max_batch(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:
            return _BATCH

    # -- reading -----------------------------------------------------------------------------
    def count(self) -> int:
        """Vectors in the collection (cached: a published generation never changes)."""
        if self._count is None:
            self._count = int(self._call("count", self._col.count))
        return self._count

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = self._col.get(include=[], limit=10_000, offset=offset)
            if not got["ids"]:
                return out
            out.update(got["ids"])
            offset += len(got["ids"])

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The `k` nearest chunk ids with cosine similarity, best first."""
        n = min(k, max(1, self.count()))
        res = self._call("query", self._col.query, query_embeddings=[vector], n_results=n,
                         include=["distances"])
        ids = res["ids"][0]
        dists = res["distances"][0] if res.get("distances") else [1.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma call; a lost server becomes `StoreUnavailable`, not a traceback."""
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if self.location["mode"] == "server" and _is_connection_error(e):
                raise _unreachable(self.location["url"], e) from e
            raise


def _server_url(url: str) -> Any:
    parsed = urlparse(url)
    try:
        parsed.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise ConfigError(f"BPO_KB_CHROMA_URL={url!r} has an invalid port ({e}); use e.g. "
                          "http://127.0.0.1:8000") from e
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"BPO_KB_CHROMA_URL={url!r} is not an http(s) URL; "
                          "use e.g. http://127.0.0.1:8000")
    return parsed


def _is_connection_error(e: BaseException) -> bool:
    """Whether a chromadb/httpx error means the server could not be reached."""
    import httpx

    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, httpx.TransportError | ConnectionError | TimeoutError):
            return True
        if "could not connect" in str(seen).lower():  # chromadb's ValueError at client creation
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _unreachable(url: str, e: BaseException) -> StoreUnavailable:
    return StoreUnavailable(
        f"Cannot reach the Chroma server at {url!r} ({type(e).__name__}: {e}); start it "
        "(`chroma run --path DIR --host HOST --port PORT`) or fix/unset BPO_KB_CHROMA_URL")
