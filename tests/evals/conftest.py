"""Fixtures of the eval tests: one run of the dev set by the session's bot, shared."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "evals" / "datasets"
DEV = DATASETS / "dev.jsonl"


@pytest.fixture(scope="session")
def dev_run(bot):  # type: ignore[no-untyped-def]
    """The whole dev set answered once by the session bot (the regression gate's run)."""
    from evals import load_dataset, run

    return run(bot, load_dataset(DEV), dataset=DEV.name)
