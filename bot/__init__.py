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
from .followup import Turn
from .question import Question, Reader
from .retrieval import Hit, HybridRetriever
from .vocab import Vocabulary

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
    "Question",
    "QuestionError",
    "Reader",
    "Settings",
    "Turn",
    "Vocabulary",
    "clean_question",
    "parse_history",
]
