"""Scale-out: with BPO_KB_CHROMA_URL the vectors live in a real `chroma run` server. Ingest
(first, incremental, after a crash) and questions work, the answers equal embedded mode's,
several bots share it, and a server that goes away gives a clear message, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from robustness_support import CORPUS, comparable

from bot import Bot
from bpo_kb import ConfigError, Settings, StoreUnavailable
from cli import main
from evals.loopback import ChromaServer
from ingest import Generation, VectorStore, current_generation, ingest
from ingest.index import new_generation_name

DEV = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "dev.jsonl"


def _questions(n: int) -> list[str]:
    items = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [it["question"] for it in items if not it.get("history")][:n]


def _collections(url: str) -> set[str]:
    import chromadb

    from ingest.store import chroma_settings

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port), settings=chroma_settings())
    return {c.name for c in client.list_collections()}


def _server_settings(index_copy: Settings, url: str, **kw: Any) -> Settings:
    return index_copy.model_copy(update={"chroma_url": url, **kw})


@pytest.fixture
def server_index(index_copy: Settings, chroma_server: ChromaServer) -> Settings:
    """The corpus index moved into the Chroma server (its own collection prefix per test)."""
    prefix = f"t{abs(hash(str(index_copy.data_dir))) % 10**8}"
    s = _server_settings(index_copy, chroma_server.url, collection=prefix)
    report = ingest(s)
    assert report.embedded == 0 and report.embedded_units == 0  # vectors reused, not recomputed
    return s


def test_server_mode_answers_exactly_like_embedded_mode(server_index: Settings, bot: Any,
                                                        chroma_server: ChromaServer) -> None:
    s = server_index
    gen = Generation.open_current(s.index_dir, embedder_spec=s.embedder)
    loc = gen.manifest["store"]
    assert loc["mode"] == "server" and loc["url"] == chroma_server.url
    assert loc["collection"] in _collections(chroma_server.url)
    assert not (s.index_dir / gen.name / "chroma").exists()
    assert gen.store.count() == len(gen.chunks) == len(bot.generation.chunks)
    server_bot = Bot.open(s)
    for q in _questions(15):
        assert comparable(server_bot.ask(q).to_dict()) == comparable(bot.ask(q).to_dict()), q


def test_incremental_ingest_on_the_server_embeds_only_the_new_document_and_drops_old_collections(
        server_index: Settings, chroma_server: ChromaServer, tmp_path: Path) -> None:
    s = server_index
    first = current_generation(s.index_dir)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "zanzibar.md").write_text(
        "# Zanzibar desk\n\nThe Zanzibar desk answers overnight calls in Swahili and English. "
        "It costs $9 per agent hour, billed monthly, with a three month minimum term "
        "and no setup fee for teams of ten agents or more.\n", encoding="utf-8")
    added = ingest(s, [CORPUS, extra])
    assert added.added == ["zanzibar.md"] and added.unchanged == 4
    assert 0 < added.embedded <= 2
    server_bot = Bot.open(s)
    ans = server_bot.ask("How much does the Zanzibar desk cost per agent hour?")
    assert not ans.abstained and ans.citations[0].doc == "zanzibar.md"

    (extra / "zanzibar.md").unlink()
    removed = ingest(s, [CORPUS, extra])
    assert removed.removed == ["zanzibar.md"] and removed.embedded == 0
    mine = {c for c in _collections(chroma_server.url) if c.startswith(s.collection + "-")}
    on_disk = {p.name for p in s.index_dir.glob("g-*")}
    assert mine == {f"{s.collection}-{g}" for g in on_disk}  # old generations' collections gone
    assert len(on_disk) == 2 and first not in on_disk
    assert server_bot.ask("How much does the Zanzibar desk cost per agent hour?").abstained


def test_two_bots_share_one_server_and_follow_a_new_generation(
        server_index: Settings, tmp_path: Path) -> None:
    s = server_index
    node_a, node_b = Bot.open(s), Bot.open(s)  # two `serve` processes on one shared data dir
    q = "What is nearshore outsourcing?"
    assert comparable(node_a.ask(q).to_dict()) == comparable(node_b.ask(q).to_dict())
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "kilimanjaro.md").write_text(
        "# Kilimanjaro centre\n\nThe Kilimanjaro centre staffs 40 agents per night shift. "
        "Its night shift covers North American mornings and handles chat, email and voice "
        "support for retail clients.\n", encoding="utf-8")
    ingest(s, [CORPUS, extra])
    assert node_b.refresh(force=True)
    ans = node_b.ask("How many agents does the Kilimanjaro centre staff per night shift?")
    assert not ans.abstained and "40 agents" in ans.answer


def test_collection_left_by_a_crashed_server_ingest_is_dropped_by_the_next(
        server_index: Settings, chroma_server: ChromaServer) -> None:
    s = server_index
    name = new_generation_name()
    root = s.index_dir / name
    location = VectorStore.location_for(root, name, s.chroma_url, s.collection)
    Generation.write_store_location(root, location)  # what ingest writes first...
    import numpy as np

    store = VectorStore.open(location, s.embedder, create=True)  # ...then it died mid-write
    store.add(["x"], np.ones((1, 384), dtype=np.float32), ["x"], [{"doc_id": "x"}])
    assert location["collection"] in _collections(chroma_server.url)
    assert ingest(s).up_to_date
    assert location["collection"] not in _collections(chroma_server.url)
    assert not root.exists()


@pytest.mark.parametrize(("settings", "message"), [
    ({"chroma_url": "ftp://127.0.0.1:1"}, r"is not an http\(s\) URL"),
    ({"chroma_url": "http://127.0.0.1:notaport"}, "has an invalid port"),
    ({"collection": "sales team kb"}, "BPO_KB_COLLECTION='sales team kb' is not a valid"),
    ({"collection": "-kb-"}, "is not a valid Chroma collection name prefix"),
])
def test_bad_server_settings_fail_before_any_work(index_copy: Settings, settings: dict[str, str],
                                                  message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ingest(index_copy.model_copy(update=settings), rebuild=True)


def test_a_server_that_goes_away_gives_a_clear_message_and_comes_back(
        index_copy: Settings, tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "db")
    server.start()
    try:
        s = _server_settings(index_copy, server.url)
        ingest(s)
        server_bot = Bot.open(s)
        q = "What is BPO?"
        good = comparable(server_bot.ask(q).to_dict())
        server.stop()
        with pytest.raises(StoreUnavailable, match=r"Cannot reach the Chroma server at "
                                                   r"'http://127\.0\.0\.1:\d+'.*chroma run"):
            server_bot.ask("What is KPO?")
        with pytest.raises(StoreUnavailable, match="Cannot reach the Chroma server"):
            Bot.open(s)  # no rebuild attempt: rebuilding can't help
        r = CliRunner().invoke(main, ["ask", q], env={"BPO_KB_DATA_DIR": str(s.data_dir),
                                                     "BPO_KB_CHROMA_URL": server.url})
        assert r.exit_code == 1
        assert r.output.startswith("Error: Cannot reach the Chroma server")
        assert "Traceback" not in r.output
        server.start()  # same port, same --path: the data survived
        assert comparable(server_bot.ask(q).to_dict()) == good
    finally:
        server.stop()
