"""The document library as people see it: what is indexed, where it came from, and adding files.

Reads a `Generation`'s manifest and chunks (no UI library); `save_uploads` copies files into
the corpus folder under safe names, after which the caller runs `ingest`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpo_kb import ConfigError
from ingest import SUPPORTED_SUFFIXES, Generation, IngestReport

__all__ = ["LibraryDocument", "documents", "ingest_summary", "origins", "save_uploads"]


@dataclass(frozen=True)
class LibraryDocument:
    """One indexed document."""

    doc_id: str
    title: str
    origin: str
    """Publisher and date from the corpus manifest ("" when unknown)."""
    passages: int
    """Chunks of it in the index."""
    ingested_at: str
    """When its current text was indexed (UTC, ISO 8601)."""


def _origin(info: dict[str, Any]) -> str:
    meta = info.get("meta") or {}
    return ", ".join(str(meta[k]) for k in ("publisher", "date") if meta.get(k))


def origins(generation: Generation) -> dict[str, str]:
    """doc id -> "publisher, date" of every indexed document."""
    return {d: _origin(info) for d, info in generation.manifest.get("documents", {}).items()}


def documents(generation: Generation) -> list[LibraryDocument]:
    """The indexed documents, by title."""
    counts: dict[str, int] = {}
    for c in generation.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    docs = [LibraryDocument(doc_id=d, title=str(info.get("title") or d), origin=_origin(info),
                            passages=counts.get(d, 0), ingested_at=str(info.get("ingested_at", "")))
            for d, info in generation.manifest.get("documents", {}).items()]
    return sorted(docs, key=lambda d: d.title.lower())


def ingest_summary(report: IngestReport) -> str:
    """One or two sentences on what an ingest did (and which files it skipped, why)."""
    if report.up_to_date:
        msg = f"Already up to date: {report.documents} documents, {report.chunks} passages."
    else:
        msg = (f"Re-ingested: added {len(report.added)}, changed {len(report.changed)}, removed "
               f"{len(report.removed)} documents; {report.chunks} passages ({report.embedded} "
               f"embedded) in {report.seconds:.1f} s.")
    return msg + "".join(f" Skipped {Path(s['path']).name}: {s['reason']}."
                         for s in report.skipped)


def save_uploads(files: Sequence[str | Path], corpus_dir: Path) -> list[str]:
    """Copy uploaded files into `corpus_dir` under safe names; returns the names.

    Every file is checked before any is copied, so a bad one leaves the corpus unchanged.
    """
    planned = []
    for f in files:
        name = re.sub(r"[^\w.\-]+", "-", Path(f).name).strip("-.") or "document"
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise ConfigError(f"Unsupported file type {Path(name).suffix!r} for {Path(f).name}; "
                              f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
        planned.append((Path(f), name))
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for src, name in planned:
        shutil.copyfile(src, corpus_dir / name)
    return [name for _, name in planned]
