"""The Ask tab's layout at phone and desktop widths, measured in a real browser against a real
`bpo-kb serve`: nothing in the toolbar overlaps, the question box's hint is never clipped, the
page never scrolls sideways, before and after an answer with a table passage, and on a phone a
table's rows stack with their column names instead of scrolling."""

from __future__ import annotations

from typing import Any

import pytest
from ui_support import Page, Server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = [(360, 740), (390, 844), (768, 1024), (1400, 900)]
"""A small Android phone, an iPhone 12-15, a tablet in portrait, a desktop."""

_BOXES = """() => Object.fromEntries(['#bk-toolbar .bk-panel-title', '#bk-new', '#bk-copy']
  .map(s => { const b = document.querySelector(s).getBoundingClientRect();
              return [s, {x: b.left, y: b.top, right: b.right, bottom: b.bottom,
                          width: b.width, height: b.height}]; }))"""

_PLACEHOLDER = """() => {
  const box = document.querySelector('#bk-question textarea');
  const style = getComputedStyle(box);
  const pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  // the same box holding the placeholder as its text: how tall the hint really is
  const probe = box.cloneNode();
  probe.value = box.placeholder;
  probe.removeAttribute('id');
  Object.assign(probe.style, {position: 'absolute', visibility: 'hidden', height: '0px',
                              width: box.offsetWidth + 'px', top: '0', left: '0'});
  document.body.appendChild(probe);
  const needed = probe.scrollHeight;
  probe.remove();
  return {text: box.placeholder, textWidth: ctx.measureText(box.placeholder).width,
          room: box.clientWidth - pad, needed: needed, height: box.clientHeight,
          scrollWidth: box.scrollWidth, clientWidth: box.clientWidth};
}"""


_TABLE_WRAPS = """() => [...document.querySelectorAll('#bk-sources-panel .bk-table-wrap')]
  .filter(w => w.offsetParent).map(w => ({scroll: w.scrollWidth, client: w.clientWidth}))"""
_FIRST_LABEL = """() => getComputedStyle(
  document.querySelector('#bk-sources-panel td[data-label]'), '::before').content
  .replace(/^"|"$/g, '')"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["right"] and b["x"] < a["right"] and a["y"] < b["bottom"] and \
        b["y"] < a["bottom"]


def _open(chromium: Any, server: Server, size: tuple[int, int], tmp_path: Any) -> tuple[Any, Page]:
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]})
    context.grant_permissions(["clipboard-read", "clipboard-write"],
                              origin=server.url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(30_000)
    app = Page(page, server.url, tmp_path)
    app.open()
    page.wait_for_timeout(300)  # the layout settles after the first paint
    return context, app


def _check_layout(page: Any, width: int) -> None:
    boxes = page.evaluate(_BOXES)
    names = list(boxes)
    for i, a in enumerate(names):
        assert boxes[a]["width"] > 0, f"{a} is squeezed to nothing: {boxes[a]}"
        assert boxes[a]["right"] <= width, f"{a} sticks out of the {width} px window: {boxes}"
        for b in names[i + 1:]:
            assert not _overlap(boxes[a], boxes[b]), f"{a} overlaps {b}: {boxes}"
    hint = page.evaluate(_PLACEHOLDER)
    assert hint["text"], "the question box has no placeholder"
    assert hint["textWidth"] <= hint["room"], f"placeholder cut off on the right: {hint}"
    assert hint["scrollWidth"] <= hint["clientWidth"], hint
    assert hint["needed"] <= hint["height"], f"placeholder cut off at the bottom: {hint}"
    sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert sideways <= 0, f"the page scrolls sideways by {sideways} px at {width} px"


@pytest.mark.parametrize("size", VIEWPORTS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_toolbar_and_question_hint_fit_at_every_width(
        chromium: Any, ui_server: Server, size: tuple[int, int], tmp_path: Any) -> None:
    context, app = _open(chromium, ui_server, size, tmp_path)
    try:
        _check_layout(app.page, size[0])
        app.screenshot(f"empty-{size[0]}")
        app.ask("What is the industry benchmark for first contact resolution?")
        app.page.locator("#bk-sources-panel table.bk-src-table").first.wait_for()
        _check_layout(app.page, size[0])
        if size[0] <= 640:  # on a phone a table's rows stack, with their column names
            wraps = app.page.evaluate(_TABLE_WRAPS)
            assert wraps and all(w["scroll"] <= w["client"] for w in wraps), wraps
            label = app.page.evaluate(_FIRST_LABEL)
            assert label.endswith(": "), f"no column name before a table cell: {label!r}"
        app.screenshot(f"answer-{size[0]}")
    finally:
        context.close()
