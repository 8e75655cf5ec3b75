"""Crash-safe ingest: a killed ingest leaves the previous index answering and its debris is
cleaned by the next run; two ingests at once are serialised by the lock (refuse, or wait with
--wait); a corrupted index is rebuilt by `ask`/`serve`, and a running bot keeps answering."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from robustness_support import BPO_KB, CORPUS, cli_env, comparable, run_cli

from bot import Bot
from bpo_kb import IndexCorrupt, IngestLocked, Settings
from cli import main
from ingest import Generation, current_generation, ingest

QUESTION = "What is the difference between BPO and BPM?"
GUIDE = "empireonecx-what-is-bpo-2026.txt"
"""The shortest real guide: a full rebuild of it embeds enough to be killed partway, quickly."""


def _generations(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.glob("g-*") if p.is_dir()}


class _Lines:
    """Collects a subprocess's output lines in a thread (so waiting never blocks on a pipe)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._t.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def seen(self, text: str) -> bool:
        return any(text in line for line in self.lines)


@pytest.fixture(scope="module")
def one_guide_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """An index of one real guide, built once; tests use copies."""
    root = tmp_path_factory.mktemp("one-guide")
    (root / "corpus").mkdir()
    shutil.copy(CORPUS / GUIDE, root / "corpus" / GUIDE)
    ingest(Settings(data_dir=root / "data", corpus_dir=root / "corpus", _env_file=None))
    return root


@pytest.fixture
def one_guide(one_guide_index: Path, tmp_path: Path) -> Settings:
    """A private copy of the one-guide index (the data dir a test may break)."""
    shutil.copytree(one_guide_index, tmp_path / "x")
    return Settings(data_dir=tmp_path / "x" / "data", corpus_dir=tmp_path / "x" / "corpus",
                    _env_file=None)


def test_killed_rebuild_leaves_the_previous_index_answering_and_is_cleaned_up(
        one_guide: Settings) -> None:
    s = one_guide
    live = current_generation(s.index_dir)
    before = Bot.open(s).ask(QUESTION).to_dict()
    assert not before["abstained"]

    env = cli_env(s.data_dir, corpus_dir=str(s.corpus_dir))
    proc = subprocess.Popen([BPO_KB, "ingest", "--rebuild"], env={**env, "BPO_KB_LOG_LEVEL": "INFO"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = _Lines(proc)
    try:
        deadline = time.monotonic() + 300
        while not out.seen("ingest.ingestion: embedding") and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.seen("ingest.ingestion: embedding"), "".join(out.lines)

        # while it embeds, it holds the lock: a second ingest refuses, naming the lock
        with pytest.raises(IngestLocked, match=r"Another ingest is running .*ingest\.lock"):
            ingest(s)
        r = CliRunner().invoke(main, ["ingest"], env={"BPO_KB_DATA_DIR": str(s.data_dir),
                                                      "BPO_KB_CORPUS_DIR": str(s.corpus_dir)})
        assert r.exit_code == 1
        assert "Error: Another ingest is running" in r.output and "--wait SECONDS" in r.output

        # kill it the moment its new generation folder appears (it is writing vectors)
        partial: set[str] = set()
        while not partial and proc.poll() is None and time.monotonic() < deadline:
            partial = _generations(s.index_dir) - {live}
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "".join(out.lines)
    assert partial, f"the ingest finished before it could be killed:\n{''.join(out.lines)}"
    assert current_generation(s.index_dir) == live
    assert (s.index_dir / next(iter(partial))).exists()

    # the CLI still answers from the previous generation, with the same citations
    r2 = run_cli(["ask", "--json", QUESTION], env)
    assert r2.returncode == 0, r2.stderr
    assert comparable(json.loads(r2.stdout)) == comparable(before)

    # the next ingest finishes cleanly: nothing changed, and the debris is gone
    report = ingest(s)
    assert report.up_to_date and report.generation == live
    assert _generations(s.index_dir) == {live}
    assert comparable(Bot.open(s).ask(QUESTION).to_dict()) == comparable(before)


def test_disk_full_during_ingest_leaves_the_live_index_and_says_so(one_guide: Settings) -> None:
    s = one_guide
    live = current_generation(s.index_dir)
    env = cli_env(s.data_dir, corpus_dir=str(s.corpus_dir))

    def small_disk() -> None:  # any write past 100 KB fails with EFBIG, like a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    r = subprocess.run([BPO_KB, "ingest", "--rebuild"], env=env, capture_output=True, text=True,
                       timeout=600, preexec_fn=small_disk)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("Error: Could not write the new index generation in ")
    assert "the live index is unchanged" in r.stderr and "Traceback" not in r.stderr
    assert current_generation(s.index_dir) == live
    assert _generations(s.index_dir) == {live}  # the half-written generation was removed
    assert not Bot.open(s).ask(QUESTION).abstained


def test_second_ingest_refuses_or_waits_with_wait_and_nothing_is_corrupted(
        small_corpus: Path, tmp_path: Path, embedder: Any) -> None:
    s = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus, _env_file=None)
    first = ingest(s).generation
    holding, release = threading.Event(), threading.Event()
    result: dict[str, Any] = {}

    def slow_progress(stage: str, done: int, total: int) -> None:
        if stage == "read" and done == 0:
            holding.set()
            release.wait(60)

    def holder() -> None:
        result["report"] = ingest(s, rebuild=True, progress=slow_progress)

    t = threading.Thread(target=holder, daemon=True)
    t.start()
    assert holding.wait(60)
    with pytest.raises(IngestLocked, match=str(s.data_dir / "ingest.lock")):
        ingest(s)
    threading.Timer(1.5, release.set).start()
    t0 = time.monotonic()
    r = CliRunner().invoke(main, ["ingest", "--wait", "120", "--json"],
                           env={"BPO_KB_DATA_DIR": str(s.data_dir),
                                "BPO_KB_CORPUS_DIR": str(small_corpus)})
    waited = time.monotonic() - t0
    t.join(60)
    assert r.exit_code == 0, r.output
    second = json.loads(r.output)
    rebuilt = result["report"].generation
    assert waited >= 1.0, "the --wait ingest did not wait for the lock"
    assert rebuilt != first
    assert second["up_to_date"] and second["generation"] == rebuilt
    gen = Generation.open_current(s.index_dir, embedder_spec=s.embedder)
    assert gen.name == rebuilt and len(gen.chunks) == gen.store.count() == len(gen.vectors)
    assert _generations(s.index_dir) == {first, rebuilt}


CORRUPTIONS = {
    "chunks-truncated-mid-line": lambda g, i: _truncate(g / "chunks.jsonl", 0.5),
    "chunks-missing-lines": lambda g, i: _drop_last_line(g / "chunks.jsonl"),
    "vectors-truncated": lambda g, i: _truncate(g / "vectors.npy", 0.5),
    "unit-vectors-truncated": lambda g, i: _truncate(g / "unit_vectors.npy", 0.3),
    "manifest-garbage": lambda g, i: (g / "manifest.json").write_bytes(b"\x00\xff{"),
    "lexical-deleted": lambda g, i: shutil.rmtree(g / "lexical"),
    "chroma-deleted": lambda g, i: shutil.rmtree(g / "chroma"),
    "generation-deleted": lambda g, i: shutil.rmtree(g),
    "pointer-escapes": lambda g, i: (i / "CURRENT").write_text("../../../etc\n"),
    "pointer-binary": lambda g, i: (i / "CURRENT").write_bytes(b"\xff\xfe\x00garbage"),
}


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def _drop_last_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """A built index of a two-document corpus, copied by each corruption test."""
    root = tmp_path_factory.mktemp("small-index")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "alpha.md").write_text(
        "# Alpha guide\n\nAlpha outsourcing hands payroll to a provider in Zanzibar. It costs "
        "$10 per hour offshore.\n", encoding="utf-8")
    (corpus / "beta.txt").write_text(
        "Beta guide\nNearshore outsourcing places work in a neighbouring country, such as "
        "Mexico for a US company.\n", encoding="utf-8")
    ingest(Settings(data_dir=root / "data", corpus_dir=corpus, _env_file=None))
    return root


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_index_is_reported_then_rebuilt_when_the_bot_opens(
        small_index: Path, tmp_path: Path, kind: str) -> None:
    shutil.copytree(small_index, tmp_path / "x")
    s = Settings(data_dir=tmp_path / "x" / "data", corpus_dir=tmp_path / "x" / "corpus",
                 _env_file=None)
    live = current_generation(s.index_dir)
    assert live is not None
    CORRUPTIONS[kind](s.index_dir / live, s.index_dir)
    with pytest.raises(IndexCorrupt, match=r"run `bpo-kb ingest --rebuild`"):
        Generation.open_current(s.index_dir, embedder_spec=s.embedder)
    bot = Bot.open(s)  # what `ask` and `serve` do: rebuild, then answer
    assert bot.generation.name != live
    ans = bot.ask("Where is Alpha payroll outsourced to?")
    assert not ans.abstained and ans.citations[0].doc == "alpha.md"


def test_cli_ask_on_a_corrupted_index_rebuilds_and_answers(small_index: Path, tmp_path: Path
                                                           ) -> None:
    shutil.copytree(small_index, tmp_path / "x")
    data = tmp_path / "x" / "data"
    live = current_generation(data / "index")
    _truncate(data / "index" / str(live) / "chunks.jsonl", 0.5)
    r = CliRunner().invoke(main, ["ask", "Where is Alpha payroll outsourced to?"],
                           env={"BPO_KB_DATA_DIR": str(data),
                                "BPO_KB_CORPUS_DIR": str(tmp_path / "x" / "corpus")})
    assert r.exit_code == 0, r.output
    assert "Zanzibar" in r.output
    assert "Building the index" in r.output  # said on stderr (mixed into output here)


def test_running_bot_keeps_answering_when_a_broken_generation_is_published(
        small_index: Path, tmp_path: Path) -> None:
    shutil.copytree(small_index, tmp_path / "x")
    s = Settings(data_dir=tmp_path / "x" / "data", corpus_dir=tmp_path / "x" / "corpus",
                 _env_file=None)
    bot = Bot.open(s)
    live = bot.generation.name
    broken = "g-99990101T000000000000-broken"
    shutil.copytree(s.index_dir / live, s.index_dir / broken)
    _truncate(s.index_dir / broken / "chunks.jsonl", 0.5)
    Generation.publish(s.index_dir, broken)
    assert bot.refresh(force=True) is False
    assert bot.generation.name == live
    assert "Zanzibar" in bot.ask("Where is Alpha payroll outsourced to?").answer
