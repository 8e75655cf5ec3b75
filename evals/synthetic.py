"""A synthetic corpus for the scale benchmark: the guides' chunks, mixed and perturbed.

Each synthetic chunk mixes about half the sentences (or list items / table rows) of two seed
chunks of the same kind and replaces ~15% of its words (domain synonyms or words from the
guides' vocabulary), so chunks are not near-duplicates by ingest's own rule. 50 chunks per
synthetic document. `noisy` derives a vector near a real one (cosine ~0.92).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

__all__ = ["CHUNKS_PER_DOC", "NOISE", "noisy", "seed_chunks", "synthetic_chunks"]

CHUNKS_PER_DOC = 50
NOISE = 0.43
"""Norm of the Gaussian noise added to a real vector (cosine to it ~ 1/sqrt(1 + NOISE^2))."""
SYNONYMS = {
    "company": "business", "business": "company", "provider": "vendor", "vendor": "provider",
    "cost": "price", "costs": "prices", "price": "cost", "client": "customer",
    "customer": "client", "outsourcing": "contracting", "offshore": "overseas",
    "support": "service", "service": "support", "team": "staff", "staff": "team",
    "process": "workflow", "processes": "workflows", "quality": "standard", "hire": "engage",
    "reduce": "lower", "improve": "raise", "risk": "exposure", "data": "information",
    "work": "tasks", "agents": "representatives", "benefits": "advantages",
}
_TOKEN = re.compile(r"[A-Za-z]+|[^A-Za-z]+")


def seed_chunks(settings: Any) -> list[Any]:
    """The guides' chunks as ingest makes them (loaded, chunked, near-duplicates collapsed)."""
    from ingest import chunk_document, load_document
    from ingest.dedup import collapse_near_duplicates
    from ingest.loaders import discover, read_manifest

    manifest = read_manifest(settings.corpus_dir)
    chunks = []
    for f in discover([settings.corpus_dir]):
        doc = load_document(f, f.name, manifest=manifest)
        if not hasattr(doc, "text"):
            continue
        chunks.extend(chunk_document(doc))
    kept, _ = collapse_near_duplicates(chunks)
    return kept


def _pieces(chunk: Any) -> list[str]:
    """A chunk's text as sentences (paragraphs) or lines (lists, tables, FAQ)."""
    body = chunk.text[chunk.prefix:]
    if chunk.kind == "paragraph":
        return [p for p in re.split(r"(?<=[.!?])\s+", body) if p.strip()]
    return [ln for ln in body.split("\n") if ln.strip()]


def _substitute(text: str, rng: np.random.Generator, vocab: list[str], rate: float) -> str:
    out = []
    for tok in _TOKEN.findall(text):
        if tok[0].isalpha() and len(tok) > 3 and rng.random() < rate:
            low = tok.lower()
            new = SYNONYMS.get(low) or vocab[int(rng.integers(len(vocab)))]
            tok = new.capitalize() if tok[0].isupper() else new
        out.append(tok)
    return "".join(out)


def synthetic_chunks(seeds: list[Any], n: int, seed: int = 7) -> tuple[list[Any], list[int]]:
    """`n` perturbed chunks and, for each, the index of its main seed chunk."""
    from ingest import Chunk

    rng = np.random.default_rng(seed)
    vocab = sorted({w.lower() for c in seeds for w in re.findall(r"[A-Za-z]{4,}", c.text)})
    by_kind: dict[str, list[int]] = {}
    for i, c in enumerate(seeds):
        by_kind.setdefault(c.kind, []).append(i)
    out, origin = [], []
    seen: set[str] = set()
    for j in range(n):
        a = j % len(seeds)
        ca = seeds[a]
        same = by_kind[ca.kind]
        text = ""
        for _ in range(20):  # a text drawn twice is drawn again: every chunk is distinct
            b = same[int(rng.integers(len(same)))]
            pa, pb = _pieces(ca), _pieces(seeds[b])
            take_a = [p for p in pa if rng.random() < 0.6] or pa[:1]
            take_b = [p for p in pb if rng.random() < 0.4]
            if ca.kind == "paragraph":
                mixed = take_a + take_b
                rng.shuffle(mixed)
                body = " ".join(mixed)
            else:
                body = "\n".join(take_a + [p for p in take_b if p not in take_a])
            text = ca.text[:ca.prefix] + _substitute(body, rng, vocab, 0.15)
            if text not in seen:
                break
        seen.add(text)
        doc = j // CHUNKS_PER_DOC
        doc_id = f"synthetic-{doc:05d}.txt"
        out.append(Chunk(chunk_id=f"{doc_id}::{j % CHUNKS_PER_DOC}::{j:08x}", doc_id=doc_id,
                         title=f"Synthetic guide {doc}", section=ca.section, kind=ca.kind,
                         text=text, start=0, end=len(text) - ca.prefix,
                         ordinal=j % CHUNKS_PER_DOC, prefix=ca.prefix, context=ca.context))
        origin.append(a)
    return out, origin


def noisy(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    v = base + rng.standard_normal(base.shape).astype(np.float32) * (NOISE / np.sqrt(base.shape[-1]))
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)
