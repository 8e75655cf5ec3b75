"""The Ask tab in a real browser against a real `bpo-kb serve`: answers with linked sources,
tables in the sources panel, examples, follow-ups, refusals, feedback into SQLite with a
toast for each rating and copy, and a hostile document kept inert."""

from __future__ import annotations

import time
from typing import Any

import pytest
from ui_support import HOSTILE_QUESTION, Page, Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_WATCH_STREAM = """() => {
  window.__lengths = [];
  const chat = document.querySelector('#bk-chat');
  new MutationObserver(() => {
    const live = chat.querySelector('.bk-streaming');
    if (live) { window.__lengths.push(live.innerText.length); }
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def _rows(server: Server) -> list[Any]:
    from app.feedback import FeedbackStore

    return FeedbackStore(server.feedback_db).items()


def _toast(page: Any, text: str) -> Any:
    """A visible Gradio toast (gr.Info / gr.Warning) containing `text`."""
    return page.locator(".toast-body").filter(has_text=text).first


def _wait_for(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_answer_streams_with_marker_linked_to_highlighted_passage(app: Page) -> None:
    page = app.open()
    page.evaluate(_WATCH_STREAM)
    answer = app.ask("What is the difference between BPM and BPO?")

    lengths = page.evaluate("window.__lengths")
    assert len(set(lengths)) >= 3, f"the answer did not build up progressively: {lengths}"
    marker = answer.locator("a.cite").first
    assert marker.inner_text() == "[1]"
    card = page.locator("#bk-sources-panel #src-1-1")
    assert card.locator(".bk-src-title").inner_text().strip()
    assert card.locator(".bk-src-section").inner_text().strip()
    highlighted = card.locator("mark").inner_text()
    assert "BPM" in highlighted or "BPO" in highlighted

    page.locator("#bk-sources-panel").evaluate("e => e.scrollTop = e.scrollHeight")
    marker.click()
    page.wait_for_function("document.querySelector('#src-1-1').classList.contains('bk-flash')")
    page.wait_for_timeout(600)  # smooth scroll
    box = card.bounding_box()
    panel = page.locator("#bk-sources-panel").bounding_box()
    assert box and panel and box["y"] < panel["y"] + panel["height"], "marker did not scroll"

    page.click("#bk-copy")
    _toast(page, "Copied the answer and its sources").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("BPO") or "BPM" in copied.split("\n")[0]
    assert "\nSources:\n[1] " in copied and "<" not in copied
    labels = page.locator("#bk-chat [aria-label*=\"'s message: \"]")
    page.wait_for_function("() => [...document.querySelectorAll('#bk-chat [aria-label]')]"
                           ".every(e => !e.getAttribute('aria-label').includes('<'))")
    said = [labels.nth(i).get_attribute("aria-label") or "" for i in range(labels.count())]
    assert len(said) >= 2 and "BPM" in said[0] and "[1]" in said[-1], said  # what a reader sees
    app.screenshot("answer-with-sources")


def test_a_marker_scrolls_the_sources_panel_and_keeps_the_chat_in_view(app: Page) -> None:
    """The panel scrolls by itself (its own scroll bar), and a marker of a source far down
    brings that source up inside it: the chat and the question box stay where they were
    (Gradio's wrappers used to be scrolled too, which hid the chat with no way back)."""
    page = app.open()
    answer = app.ask("How much does offshore customer support cost per hour?")
    panel = page.locator("#bk-sources-panel")
    assert panel.evaluate("e => getComputedStyle(e).overflowY") == "auto"
    chat_before = page.locator("#bk-chat").bounding_box()
    marker = answer.locator("a.cite").last
    number = marker.inner_text().strip("[]")
    marker.click()
    page.wait_for_function(f"document.querySelector('#src-1-{number}')"
                           ".classList.contains('bk-flash')")
    page.wait_for_timeout(800)  # smooth scroll
    assert panel.evaluate("e => e.scrollTop") > 0 or number == "1"
    card = page.locator(f"#bk-sources-panel #src-1-{number}").bounding_box()
    box = panel.bounding_box()
    chat_after = page.locator("#bk-chat").bounding_box()
    assert card and box and box["y"] - 1 <= card["y"] < box["y"] + box["height"]
    assert chat_before and chat_after and abs(chat_after["y"] - chat_before["y"]) < 5
    assert page.locator("#bk-question textarea").is_visible()


def test_copy_before_any_answer_says_there_is_nothing_to_copy(app: Page) -> None:
    page = app.open()
    page.evaluate("navigator.clipboard.writeText('left alone')")
    page.click("#bk-copy")
    _toast(page, "Nothing to copy yet").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "left alone"
    app.screenshot("nothing-to-copy")


def test_table_passage_shows_as_a_table_with_its_header_and_cited_row(app: Page) -> None:
    page = app.open()
    app.ask("What is the industry benchmark for first contact resolution?")
    table = page.locator("#bk-sources-panel details[open] table.bk-src-table").first
    table.wait_for()
    headers = table.locator("thead th").all_text_contents()
    assert len(headers) >= 2 and all(h.strip() for h in headers), headers
    cited = table.locator("tr.bk-hit")
    assert cited.count() >= 1
    for row in cited.all():  # every cell of a cited row is highlighted
        assert row.locator("mark").count() == row.locator("td").count() == len(headers)
    assert "|---" not in page.locator("#bk-sources-panel").inner_text()
    page.click("#bk-copy")
    _toast(page, "Copied the answer and its sources").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    quoted = [ln.strip() for ln in copied.split("\nSources:\n", 1)[1].splitlines()
              if ln.startswith("    - ")]  # a cited table row, one per line
    assert quoted and all(f"{headers[1]}: " in ln and " | " not in ln for ln in quoted), copied
    app.screenshot("table-passage")


def test_clicking_an_example_asks_it(app: Page) -> None:
    page = app.open()
    page.get_by_role("button", name="Is KPO the same as LPO?").click()
    page.wait_for_selector("#bk-chat .bk-answer:not(.bk-streaming)", timeout=60_000)
    assert "Is KPO the same as LPO?" in page.locator("#bk-chat").inner_text()
    assert page.locator("#bk-sources-panel .bk-src").count() >= 1
    app.screenshot("example-clicked")


def test_a_new_question_scrolls_the_chat_to_its_answer(app: Page) -> None:
    page = app.open()
    app.ask("How do BPO providers price their work?")
    log = page.locator("#bk-chat .panel-wrap")
    log.evaluate("e => e.scrollTop = 0")  # scrolled up, e.g. to click a marker
    app.ask("What does BPO stand for?")
    page.wait_for_timeout(500)
    below = log.evaluate("e => e.scrollHeight - e.clientHeight - e.scrollTop")
    assert below <= 2, f"the new answer is {below} px below the visible part of the chat"


def test_follow_up_shows_the_retrieval_query_it_used(app: Page) -> None:
    app.open()
    first = app.ask("How much does offshore outsourcing cost per hour?")
    assert first.locator(".bk-query").count() == 0
    follow = app.ask("and what about nearshore?")
    query = follow.locator(".bk-query q").inner_text()
    assert "nearshore" in query.lower() and query.lower() != "and what about nearshore?"
    assert app.page.locator("#bk-sources-panel details[open]").count() == 1
    app.screenshot("follow-up")


def test_refusal_says_guides_dont_cover_it_and_offers_clickable_questions(
        app: Page, ui_server: Server) -> None:
    page = app.open()
    question = "What is the capital of Mongolia?"
    answer = app.ask(question)
    assert "The guides don't cover this" in answer.locator(".bk-refusal-title").inner_text()
    assert page.locator("#bk-chat button.option").count() >= 1
    app.screenshot("refusal")
    refused = _wait_for(lambda: [r for r in _rows(ui_server) if r.question == question])
    assert refused and refused[-1].abstained and refused[-1].rating is None

    suggestion = page.locator("#bk-chat button.option").first
    text = suggestion.inner_text().strip()
    suggestion.click()
    page.wait_for_function(
        "t => [...document.querySelectorAll('#bk-chat [data-testid=user]')]"
        ".some(e => e.innerText.includes(t))", arg=text, timeout=60_000)
    page.wait_for_function("document.querySelectorAll('#bk-chat .bk-answer').length >= 2 && "
                           "!document.querySelector('#bk-chat .bk-streaming')")


def test_thumbs_up_and_down_with_reason_are_stored(app: Page, ui_server: Server) -> None:
    page = app.open()
    liked_q = "What does BPO stand for?"
    app.ask(liked_q)
    page.locator("#bk-chat button[aria-label='Like']").last.click()
    _toast(page, "your rating was saved: helpful").wait_for()
    liked = _wait_for(lambda: [r for r in _rows(ui_server) if r.question == liked_q])
    assert liked and liked[-1].rating == 1 and liked[-1].citations

    disliked_q = "Which business functions are most often outsourced?"
    app.ask(disliked_q)
    page.locator("#bk-chat button[aria-label='Dislike']").last.click()
    page.wait_for_selector("#bk-reason textarea", state="visible")
    _toast(page, "your rating was saved: not helpful").wait_for()
    assert disliked_q in page.locator("#bk-reason").inner_text()  # which answer it is about
    page.wait_for_function("document.activeElement === "
                           "document.querySelector('#bk-reason textarea')")
    page.wait_for_timeout(600)  # smooth scroll
    box = page.locator("#bk-reason textarea").bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]
    app.screenshot("dislike-reason")
    page.fill("#bk-reason textarea", "It should list payroll first")
    page.click("#bk-reason-send")
    page.wait_for_selector("#bk-reason textarea", state="hidden")
    _toast(page, "Your note will help").wait_for()
    row = _wait_for(lambda: [r for r in _rows(ui_server)
                             if r.question == disliked_q and r.reason])
    assert row and row[-1].rating == -1 and row[-1].reason == "It should list payroll first"
    assert row[-1].history and row[-1].history[0]["content"] == liked_q
    assert row[-1].backend and row[-1].answer


def test_new_conversation_clears_chat_and_sources(app: Page) -> None:
    page = app.open()
    app.ask("What does BPO stand for?")
    page.click("#bk-new")
    page.wait_for_selector("#bk-sources-panel .bk-empty")
    assert page.locator("#bk-chat .bk-answer").count() == 0
    assert page.get_by_role("button", name="Is KPO the same as LPO?").is_visible()


def test_empty_question_shows_the_reason_and_keeps_the_examples(app: Page) -> None:
    """Nothing asked is not a turn: the reason comes as a toast, the example questions stay
    (no error bubble with rating buttons in their place)."""
    page = app.open()
    page.fill("#bk-question textarea", "   ")
    page.click("#bk-ask")
    page.get_by_text("Question is empty").first.wait_for()
    assert page.locator("#bk-chat .bk-error").count() == 0
    assert page.get_by_role("button", name="Is KPO the same as LPO?").is_visible()
    assert "Traceback" not in page.content()


def test_planted_script_and_remote_image_stay_inert(app: Page) -> None:
    page = app.open()
    answer = app.ask(HOSTILE_QUESTION)
    panel = page.locator("#bk-sources-panel")
    page.wait_for_timeout(500)
    shown = answer.inner_text() + panel.inner_text()
    assert "Zanzibar" in shown
    assert "<script>window.__pwned=1</script>" in panel.inner_text()
    assert "![x](http://example.invalid/x.png)" in panel.inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#bk-chat img, #bk-sources-panel img, #bk-chat script, "
                        "#bk-sources-panel script").count() == 0
    assert not [u for u in app.requests if "example.invalid" in u]
    assert app.off_host() == [], app.off_host()
    app.screenshot("hostile-document")
