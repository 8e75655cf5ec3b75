"""Shared fixtures: settings in tmp dirs, the real bundled embedder (loaded once), a real
embedded Chroma index of the corpus built once per session, and a guard that fails any test
trying to reach a non-loopback address."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


# -- no network --------------------------------------------------------------------------------
class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    elif isinstance(address, str | bytes):
        return True  # unix socket path
    else:
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test (tests run offline)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise NetworkBlocked(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise NetworkBlocked(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's BPO_KB_* variables must not leak into tests."""
    for key in list(os.environ):
        if key.startswith("BPO_KB_") or key == "OPENAI_API_KEY":
            monkeypatch.delenv(key, raising=False)


# -- settings, embedder, index -----------------------------------------------------------------
@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings with a fresh data dir in tmp_path and the repo's corpus."""
    from bpo_kb import Settings

    return Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS, _env_file=None)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    from bpo_kb import Settings
    from ingest import make_embedder

    return make_embedder(Settings(_env_file=None).embedder)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """Settings whose data dir holds an index of the real corpus, built once per session.

    Treat it as read-only: tests that change an index build their own.
    """
    from bpo_kb import Settings
    from ingest import ingest

    s = Settings(data_dir=tmp_path_factory.mktemp("corpus-index") / "data", corpus_dir=CORPUS,
                 _env_file=None)
    ingest(s)
    return s


@pytest.fixture(scope="session")
def bot(corpus_settings):  # type: ignore[no-untyped-def]
    """A Bot over the session's corpus index (shared, read-only)."""
    from bot import Bot

    return Bot.open(corpus_settings)


@pytest.fixture
def small_corpus(tmp_path: Path) -> Iterator[Path]:
    """A folder with two small documents, for tests that change the corpus."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "alpha.md").write_text(
        "# Alpha guide\n\nAlpha outsourcing means handing payroll to a provider. "
        "It costs $10 per hour offshore.\n\n## Risks\n\n- Data leaks: use NDAs.\n"
        "- Hidden costs: agree a fixed scope.\n", encoding="utf-8")
    (d / "beta.txt").write_text(
        "Beta guide\nNearshore outsourcing places work in a neighbouring country, such as "
        "Mexico for a US company. Time zones overlap, which eases collaboration.\n",
        encoding="utf-8")
    yield d
