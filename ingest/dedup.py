"""Near-duplicate chunks: the guides (one in particular) repeat sections in near-identical words.

A chunk is a near duplicate of an earlier one when their word-trigram sets overlap with
Jaccard >= 0.6, or when 85% of its trigrams appear in the earlier one. The later chunk is
collapsed into the earlier (it is not indexed, so it is never cited twice); the kept chunk
records the ids it absorbed in `also_in`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from .chunking import Chunk
from .text import stems

__all__ = ["collapse_near_duplicates"]

JACCARD = 0.6
CONTAINMENT = 0.85
_MAX_POSTINGS = 200  # shingles shared by more chunks than this are boilerplate, not evidence


def _shingles(text: str) -> set[tuple[str, ...]]:
    toks = stems(text, drop_stopwords=False)
    if len(toks) < 3:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i:i + 3]) for i in range(len(toks) - 2)}


def collapse_near_duplicates(chunks: Sequence[Chunk]) -> tuple[list[Chunk], dict[str, str]]:
    """Return (kept chunks with `also_in` filled, {dropped id: kept id})."""
    postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
    sets: list[set[tuple[str, ...]]] = []
    kept_idx: list[int] = []
    dropped: dict[str, str] = {}
    absorbed: dict[int, list[str]] = defaultdict(list)
    for i, chunk in enumerate(chunks):
        sh = _shingles(chunk.text[chunk.prefix:])
        sets.append(sh)
        overlap: dict[int, int] = defaultdict(int)
        for s in sh:
            plist = postings.get(s)
            if plist and len(plist) <= _MAX_POSTINGS:
                for j in plist:
                    overlap[j] += 1
        best = None
        for j, shared in overlap.items():
            union = len(sh) + len(sets[j]) - shared
            jac = shared / union if union else 0.0
            contained = shared / len(sh) if sh else 0.0
            if (jac >= JACCARD or contained >= CONTAINMENT) and len(sh) >= 8:
                best = j
                break
        if best is not None:
            dropped[chunk.chunk_id] = chunks[best].chunk_id
            absorbed[best].append(chunk.chunk_id)
            continue
        kept_idx.append(i)
        for s in sh:
            postings[s].append(i)
    kept = [replace(chunks[i], also_in=tuple(absorbed[i])) if absorbed.get(i) else chunks[i]
            for i in kept_idx]
    return kept, dropped
