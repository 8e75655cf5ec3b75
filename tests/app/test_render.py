"""Answers as HTML for the chat window and as plain text for the clipboard (no browser)."""

from __future__ import annotations

from typing import Any

import pytest

from app import render

HOSTILE = ("Seven steps <script>window.__pwned=1</script> and an image "
           "![x](http://example.invalid/x.png) and <img src=x onerror=alert(1)> [1].")


def _answer(text: str = "BPO means hiring an outside company [1]. It saves money [2].",
            **kw: Any) -> dict[str, Any]:
    cites = [{"marker": n, "doc": f"d{n}.txt", "title": f"Guide {n}", "section": "Basics",
              "text": "Intro. BPO means hiring an outside company. More text.", "start": 7,
              "end": 42, "score": 0.1} for n in (1, 2)]
    base = {"question": "What is BPO?", "answer": text, "abstained": False, "citations": cites,
            "retrieval_query": "What is BPO?", "suggestions": [], "notice": None}
    return {**base, **kw}


def test_markers_become_links_to_their_source_cards() -> None:
    html = render.answer_html(_answer(), turn=3)
    assert '<a class="cite" href="#src-3-1"' in html and 'href="#src-3-2"' in html
    panel = render.sources_html([None, None, _answer()])
    assert 'id="src-3-1"' in panel and 'id="src-3-2"' in panel


def test_unknown_marker_numbers_stay_plain_text() -> None:
    html = render.answer_html(_answer("See [7] and [1, 2]."), turn=1)
    assert "[7]" in html and "#src-1-7" not in html
    assert 'href="#src-1-1"' in html and 'href="#src-1-2"' in html


def test_document_text_is_escaped_everywhere() -> None:
    ans = _answer(HOSTILE, citations=[{"marker": 1, "doc": "<b>x</b>.md",
                                       "title": "T <img src=x onerror=alert(1)>",
                                       "section": "<script>s()</script>", "text": HOSTILE,
                                       "start": 0, "end": 20, "score": 0.0}])
    for html in (render.answer_html(ans, 1), render.sources_html([ans]),
                 render.answer_html(None, 1, HOSTILE), render.question_html(HOSTILE),
                 render.error_html(HOSTILE)):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert "&lt;script&gt;" in html
        assert "\n\n" not in html  # one HTML block: markdown never parses the text inside


def test_supporting_span_is_highlighted_with_context() -> None:
    panel = render.sources_html([_answer()])
    assert "Intro. <mark>BPO means hiring an outside company</mark>. More text." in panel


def test_lists_and_tables_render_as_html() -> None:
    text = "Types:\n- Back office [1]\n- Front office [2]\n\n| Model | Cost |\n|---|---|\n| Offshore | $8 |"
    html = render.answer_html(_answer(text), 1)
    assert "<ul><li>Back office" in html and "<th>Model</th>" in html and "<td>$8</td>" in html


def test_follow_up_shows_the_retrieval_query_only_when_it_differs() -> None:
    same = render.answer_html(_answer(retrieval_query="what is bpo"), 1)
    assert "bk-query" not in same
    follow = render.answer_html(_answer(question="and offshore?",
                                        retrieval_query="offshore BPO cost"), 2)
    assert "Searched the guides for: <q>offshore BPO cost</q>" in follow


def test_refusal_has_a_clear_heading_and_no_citation_links() -> None:
    ans = _answer("The guides don't cover this. The closest topics they do cover: Costs [1].",
                  abstained=True, suggestions=["What does BPO cost?"])
    html = render.answer_html(ans, 1)
    assert "bk-refusal-title" in html and "The guides don&#x27;t cover this" in html
    assert "class=\"cite\"" not in html and "Try one of these questions" in html
    assert "Closest passages" in render.sources_html([ans])


def test_plain_text_has_answer_and_numbered_sources() -> None:
    text = render.plain_text(_answer())
    assert text.startswith("BPO means hiring an outside company [1].")
    assert "\nSources:\n[1] Guide 1 - Basics\n    \"BPO means hiring an outside company\"" in text
    assert "<" not in text


@pytest.mark.parametrize("turns", [[], [None]])
def test_empty_sources_panel_explains_itself(turns: list[Any]) -> None:
    assert "No sources yet" in render.sources_html(turns)
