"""bpo_kb: what every layer shares - the typed `Settings` and the error tree.

The root of the import graph: entry points (cli.py, ui.py, evals) -> app/generate -> bot ->
ingest -> bpo_kb. It imports nothing of the project itself.
"""

from .errors import (
    BpoKbError,
    ConfigError,
    GenerationError,
    IndexCorrupt,
    IndexMissing,
    IngestError,
    IngestLocked,
    QuestionError,
    StoreUnavailable,
)
from .settings import PROJECT_ROOT, Settings

__all__ = [
    "PROJECT_ROOT",
    "BpoKbError",
    "ConfigError",
    "GenerationError",
    "IndexCorrupt",
    "IndexMissing",
    "IngestError",
    "IngestLocked",
    "QuestionError",
    "Settings",
    "StoreUnavailable",
]
