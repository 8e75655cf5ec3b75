"""Helpers for the browser tests: the hostile document, the `ask` API call, a page wrapper."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE_DOC = """# Zanzibar onboarding <img src="http://example.invalid/title.png" onerror="window.__pwned=2">

## The Zanzibar onboarding checklist

The Zanzibar onboarding checklist for a new outsourcing vendor has seven steps <script>window.__pwned=1</script> and every step is signed off by the client's project lead. ![x](http://example.invalid/x.png) The vendor shares the signed checklist within five working days.
"""
"""A document whose text tries to run a script and load images from elsewhere."""
HOSTILE_QUESTION = "How many steps does the Zanzibar onboarding checklist have?"


@dataclass
class Server:
    url: str
    data_dir: Path
    corpus_dir: Path
    log: Path

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"


class Page:
    """A browser tab on the app, recording every request it makes."""

    def __init__(self, page: Any, url: str, shots: Path) -> None:
        self.page = page
        self.url = url
        self.shots = shots
        self.requests: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))

    def open(self) -> Any:
        self.page.goto(self.url)
        self.page.wait_for_selector("#bk-question textarea", timeout=30_000)
        return self.page

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in the test's tmp dir, taken once no output is still updating."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function("!document.querySelector('.pending')", timeout=5_000)
        except PlaywrightTimeout:
            pass  # a screenshot of a still-updating page is better than none
        self.page.wait_for_timeout(300)  # fade-in of the last outputs
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def ask(self, question: str) -> Any:
        """Type a question, send it, wait until its answer is complete; the last answer."""
        p = self.page
        before = p.locator("#bk-chat .bk-answer:not(.bk-streaming)").count()
        p.fill("#bk-question textarea", question)
        p.click("#bk-ask")
        p.wait_for_function(
            "n => document.querySelectorAll('#bk-chat .bk-answer:not(.bk-streaming)').length > n"
            " && !document.querySelector('#bk-chat .bk-streaming')", arg=before, timeout=60_000)
        return p.locator("#bk-chat .bk-answer").last

    def off_host(self) -> list[str]:
        host = self.url.split("//", 1)[1].split("/", 1)[0]
        return [u for u in self.requests if not u.startswith(("data:", "blob:"))
                and u.split("//", 1)[-1].split("/", 1)[0] != host]
