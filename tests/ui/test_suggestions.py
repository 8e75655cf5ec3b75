"""Suggested follow-up questions as clickable chips under every answer, in a real browser.

The app runs in this process (`ui.launch(block=False)` on 127.0.0.1) over the real bot and
the session's corpus index; the bot is wrapped so that answered questions carry the follow-up
suggestions the bot is being taught to make (`Answer.suggestions`), chosen per question here.
Refusal chips come from the real bot unchanged (tests/ui/test_chat.py clicks one on
`bpo-kb serve`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from ui_support import Page

from evals.loopback import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FOLLOW_UPS = {
    "What are the main types of BPO?": ("How much does offshore support cost per hour?",
                                        "Is KPO the same as LPO?"),
    "How much does offshore support cost per hour?": (),
    "Is KPO the same as LPO?": ("What are the risks of outsourcing?",),
}
"""Questions asked in the test -> the follow-ups the wrapped bot suggests with the answer."""


class _SuggestingBot:
    """The real bot, with `FOLLOW_UPS` as the suggestions of its answered questions."""

    def __init__(self, bot: Any, follow_ups: Mapping[str, Sequence[str]]) -> None:
        self._bot = bot
        self._follow_ups = follow_ups

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    def stream(self, question: str, history: Sequence[Any] = ()) -> Iterator[Any]:
        for piece in self._bot.stream(question, history):
            if not isinstance(piece, str) and not piece.abstained:
                piece = dataclasses.replace(
                    piece, suggestions=tuple(self._follow_ups.get(question, ())))
            yield piece


@pytest.fixture(scope="module")
def suggesting_url(bot: Any, corpus_settings: Any, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[str]:
    import ui

    settings = corpus_settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("suggest-ui") / "data", "port": free_port()})
    settings.data_dir.mkdir(parents=True)
    demo = ui.launch(_SuggestingBot(bot, FOLLOW_UPS), settings, block=False)
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        demo.close()


@pytest.fixture
def suggesting_app(chromium: Any, suggesting_url: str, tmp_path: Path) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield Page(page, suggesting_url, tmp_path)
    context.close()


def _chips(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#bk-chat button.option").all_inner_texts()]


def test_follow_up_chips_appear_under_an_answer_and_clicking_one_asks_it(
        suggesting_app: Page) -> None:
    app = suggesting_app
    page = app.open()
    app.ask("What are the main types of BPO?")
    assert _chips(page) == list(FOLLOW_UPS["What are the main types of BPO?"])
    app.screenshot("follow-up-chips")

    page.get_by_role("button", name="Is KPO the same as LPO?").click()
    page.wait_for_function(
        "[...document.querySelectorAll('#bk-chat [data-testid=user]')]"
        ".some(e => e.innerText.includes('Is KPO the same as LPO?'))", timeout=60_000)
    page.wait_for_function(
        "document.querySelectorAll('#bk-chat .bk-answer:not(.bk-streaming)').length >= 2 && "
        "!document.querySelector('#bk-chat .bk-streaming')", timeout=60_000)
    # the chips follow the latest answer: the new answer's suggestion, not the old ones
    page.wait_for_function("document.querySelectorAll('#bk-chat button.option').length === 1")
    assert _chips(page) == ["What are the risks of outsourcing?"]
    assert page.locator("#bk-sources-panel details").count() == 2


def test_no_chips_under_an_answer_without_suggestions(suggesting_app: Page) -> None:
    app = suggesting_app
    page = app.open()
    app.ask("What are the main types of BPO?")
    assert len(_chips(page)) == 2
    app.ask("How much does offshore support cost per hour?")
    page.wait_for_timeout(300)
    assert _chips(page) == []
    assert page.locator("#bk-chat .options").count() == 0
