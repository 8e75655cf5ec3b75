"""The documents gold labels refer to: their text, to check quotes and to place imported contexts.

A `Corpus` holds the text of every document of the corpus folder and of the live index (a
document ingested from elsewhere, `bpo-kb ingest extra/`, counts too), read with ingest's own
loaders so a quote is checked against exactly the text the bot answers from. Matching is on
`metrics.normalize`d, lower-cased text: curly quotes, dashes and line breaks never make a quote
"not in the corpus".

    corpus = Corpus.load(settings)
    corpus.docs_with("Offshore costs $8-25.")      # -> ["a.txt"]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .metrics import normalize

__all__ = ["Corpus"]

log = logging.getLogger(__name__)


def _key(text: str) -> str:
    return normalize(text).lower()


@dataclass
class Corpus:
    """Document id (file name relative to the corpus folder) -> text."""

    texts: Mapping[str, str]
    """The documents' text as the loaders read it."""
    origin: str = ""
    """Where the documents came from, for messages ("corpus/ and index g-...")."""
    _keys: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._keys = {d: _key(t) for d, t in self.texts.items()}

    @classmethod
    def load(cls, settings: Any) -> Corpus:
        """The corpus folder's documents plus any other document of the live index."""
        from ingest import Document
        from ingest.loaders import SUPPORTED_SUFFIXES, discover, load_document

        texts: dict[str, str] = {}
        corpus_dir = Path(settings.corpus_dir)
        if corpus_dir.is_dir():
            for path in discover([corpus_dir]):
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                doc = load_document(path, path.relative_to(corpus_dir).as_posix(),
                                    max_bytes=int(settings.max_file_mb * 1024 * 1024))
                if isinstance(doc, Document):
                    texts[doc.doc_id] = doc.text
        origin = str(corpus_dir)
        for doc_id, source in _indexed_sources(Path(settings.index_dir)).items():
            if doc_id in texts or not Path(source).is_file():
                continue
            doc = load_document(Path(source), doc_id)
            if isinstance(doc, Document):
                texts[doc_id] = doc.text
                origin = f"{corpus_dir} and the index"
        return cls(texts, origin=origin)

    @classmethod
    def from_texts(cls, texts: Mapping[str, str], origin: str = "") -> Corpus:
        return cls(dict(texts), origin=origin)

    @property
    def docs(self) -> list[str]:
        return sorted(self.texts)

    def has_doc(self, doc: str) -> bool:
        return doc in self.texts

    def contains(self, doc: str, text: str) -> bool:
        """True when `text` (normalised, any case) is in document `doc`."""
        return doc in self._keys and _key(text) in self._keys[doc]

    def docs_with(self, text: str) -> list[str]:
        """Documents that contain `text` (normalised, any case)."""
        k = _key(text)
        return [d for d, t in self._keys.items() if k and k in t]

    def anywhere(self, text: str) -> bool:
        k = _key(text)
        return bool(k) and any(k in t for t in self._keys.values())

    def similar_docs(self, doc: str, n: int = 3) -> list[str]:
        """Document names that look like `doc` (for "did you mean ...")."""
        import difflib

        return difflib.get_close_matches(doc, self.docs, n=n, cutoff=0.5)


def _indexed_sources(index_dir: Path) -> dict[str, str]:
    """doc id -> source path of the documents of the live index generation ({} without one)."""
    from bpo_kb import BpoKbError
    from ingest import current_generation
    from ingest.index import IndexFiles

    try:
        name = current_generation(index_dir)
        if name is None:
            return {}
        manifest = json.loads(IndexFiles(index_dir / name).manifest.read_text(encoding="utf-8"))
    except (BpoKbError, OSError, ValueError) as e:
        log.info("no index documents to check labels against: %s", e)
        return {}
    docs = manifest.get("documents") if isinstance(manifest, dict) else None
    if not isinstance(docs, dict):
        return {}
    return {d: str(m.get("source")) for d, m in docs.items()
            if isinstance(m, dict) and m.get("source")}
