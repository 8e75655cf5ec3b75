"""Browser-test fixtures: one real `bpo-kb serve` subprocess for the whole tests/ui run, over a
copy of the session's corpus index plus a planted hostile document, and Debian's chromium
driven by Playwright's sync API (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ui_support import CHROMIUM, CHROMIUM_ARGS, HOSTILE_DOC, Page, Server

from evals.loopback import ask_http, free_port, stop_process


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory, corpus_settings: Any) -> Iterator[Server]:
    """`bpo-kb serve` on a free loopback port, over a copy of the corpus index with the hostile
    document added (an incremental ingest embeds only that one)."""
    from bpo_kb import Settings
    from ingest import ingest

    root = tmp_path_factory.mktemp("ui-server")
    corpus = root / "corpus"
    shutil.copytree(corpus_settings.corpus_dir, corpus)
    (corpus / "zanzibar-onboarding.md").write_text(HOSTILE_DOC, encoding="utf-8")
    data = root / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    ingest(Settings(data_dir=data, corpus_dir=corpus, _env_file=None))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPO_KB_")}
    env.update(BPO_KB_DATA_DIR=str(data), BPO_KB_CORPUS_DIR=str(corpus),
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    log = root / "serve.log"
    exe = Path(sys.executable).with_name("bpo-kb")
    url = f"http://127.0.0.1:{port}/"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=root)
    try:
        deadline = time.monotonic() + 150
        while True:
            if proc.poll() is not None:
                pytest.fail(f"bpo-kb serve exited with {proc.returncode}:\n"
                            f"{log.read_text(errors='replace')[-3000:]}")
            try:
                answer = ask_http(url, "What is BPO?", timeout=60)
                assert "answer" in answer, answer
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"bpo-kb serve did not answer within 150 s:\n"
                                f"{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
        yield Server(url, data, corpus, log)
    finally:
        stop_process(proc, 15)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium "
                    "(apt-get install chromium), never `playwright install`")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(chromium: Any, ui_server: Server, tmp_path: Path) -> Iterator[Page]:
    """A fresh browser context (own session, clipboard allowed) on the running app."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900},
                                   accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield Page(page, ui_server.url, tmp_path)
    context.close()
