"""evals: answer-quality datasets, metrics, runner, reports and the regression gate.

Calls `bot`, never the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["run_cli"]


def run_cli(settings: Any, dataset: Path, *, report_dir: Path | None, baseline: Path | None,
            as_json: bool, write_baseline: bool, fit_abstention: bool, limit: int | None,
            echo: Callable[[str], None]) -> int:
    """Entry point of `bpo-kb eval` (returns the process exit code)."""
    echo("bpo-kb eval: not implemented yet")
    return 2
