"""bot: a question (+ history) -> hybrid retrieval -> refusal decision -> cited answer.

Reads the index that `ingest` owns; imports `ingest`, never a UI or CLI library.
"""

from bpo_kb import (
    BpoKbError,
    ConfigError,
    GenerationError,
    IndexCorrupt,
    IndexMissing,
    IngestError,
    IngestLocked,
    QuestionError,
    Settings,
)

from .answer import Answer, Citation
from .chatbot import Bot, Generator, clean_question, parse_history
from .query import Turn, expand_query, standalone_query
from .retrieval import Hit, HybridRetriever

__all__ = [
    "Answer",
    "Bot",
    "BpoKbError",
    "Citation",
    "ConfigError",
    "GenerationError",
    "Generator",
    "Hit",
    "HybridRetriever",
    "IndexCorrupt",
    "IndexMissing",
    "IngestError",
    "IngestLocked",
    "QuestionError",
    "Settings",
    "Turn",
    "clean_question",
    "expand_query",
    "parse_history",
    "standalone_query",
]
