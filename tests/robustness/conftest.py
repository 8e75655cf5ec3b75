"""Fixtures for the robustness tests: a private copy of the session's corpus index (so tests
may break it) and a real `chroma run` server on a free loopback port (stopped by PID)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from robustness_support import CORPUS, copy_index

from evals.loopback import ChromaServer


@pytest.fixture
def index_copy(corpus_settings: Any, tmp_path: Path) -> Any:
    """Settings over a private copy of the session's corpus index."""
    from bpo_kb import Settings

    data = tmp_path / "data"
    copy_index(corpus_settings.data_dir, data)
    return Settings(data_dir=data, corpus_dir=CORPUS, _env_file=None)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    server.start()
    yield server
    server.stop()
