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
    assert "class=\"cite\"" not in html
    assert "Closest passages" in render.sources_html([ans])
    assert render.suggestion_options(ans) == [{"label": "What does BPO cost?",
                                               "value": "What does BPO cost?"}]


def test_an_answer_with_suggestions_offers_them_as_chips() -> None:
    ans = _answer(suggestions=["How much does offshore BPO cost?", "  What are the risks of\n"
                               "outsourcing?", "how much does offshore BPO cost", "What is BPO?",
                               "Is KPO the same as LPO?", "Which BPO model suits a startup?"])
    labels = [o["label"] for o in render.suggestion_options(ans)]
    # repeats and the question just asked are left out; at most three, in the bot's order
    assert labels == ["How much does offshore BPO cost?", "What are the risks of outsourcing?",
                      "Is KPO the same as LPO?"]
    assert all(o["value"] == o["label"] for o in render.suggestion_options(ans))


@pytest.mark.parametrize("answer", [None, _answer(), _answer(suggestions=["", "  "])])
def test_no_chips_without_suggestions(answer: dict[str, Any] | None) -> None:
    assert render.suggestion_options(answer) == []


def test_plain_text_keeps_a_refusals_suggestions_but_not_an_answers() -> None:
    answered = render.plain_text(_answer(suggestions=["What does BPO cost?"]))
    assert "What does BPO cost?" not in answered
    refused = render.plain_text(_answer("The guides don't cover this.", abstained=True,
                                        suggestions=["What does BPO cost?"]))
    assert "You could ask:\n- What does BPO cost?" in refused


def test_plain_text_has_answer_and_numbered_sources() -> None:
    text = render.plain_text(_answer())
    assert text.startswith("BPO means hiring an outside company [1].")
    assert "\nSources:\n[1] Guide 1 - Basics\n    \"BPO means hiring an outside company\"" in text
    assert "<" not in text


@pytest.mark.parametrize("turns", [[], [None]])
def test_empty_sources_panel_explains_itself(turns: list[Any]) -> None:
    assert "No sources yet" in render.sources_html(turns)


RISKS = ("Intro before the table.\n"
         "| Risk | Why it happens | Mitigation |\n|---|---|---|\n"
         + "".join(f"| Risk {i} | Reason {i} {'x' * 150} | Fix {i} |\n" for i in range(10))
         + "A closing sentence after the table.")


def _table_cite(start: int | None, end: int | None) -> dict[str, Any]:
    return {"marker": 1, "doc": "g.txt", "title": "Guide", "section": "Risks", "text": RISKS,
            "start": start, "end": end, "score": 1.0}


def _row_span(i: int, last: int | None = None) -> tuple[int, int]:
    start = RISKS.index(f"| Risk {i} |")
    return start, RISKS.index("\n", RISKS.index(f"| Risk {last if last is not None else i} |"))


def test_table_passage_renders_as_a_table_with_its_header() -> None:
    start, end = _row_span(0)
    panel = render.sources_html([_answer(citations=[_table_cite(start, end)])])
    assert ("<thead><tr><th>Risk</th><th>Why it happens</th><th>Mitigation</th></tr></thead>"
            in panel)
    assert ('<tr class="bk-hit"><td data-label="Risk"><mark>Risk 0</mark></td>'
            '<td data-label="Why it happens"><mark>Reason 0 ') in panel
    assert "| Risk" not in panel and "|---|" not in panel


def test_clipped_table_keeps_its_header_and_drops_whole_rows() -> None:
    start, end = _row_span(7, 8)  # deep in the table: the header is far before the window
    panel = render.sources_html([_answer(citations=[_table_cite(start, end)])])
    assert "<th>Why it happens</th>" in panel and "<th>Mitigation</th>" in panel
    assert [f"Risk {i}" for i in (7, 8)] == [
        r for r in (f"Risk {i}" for i in range(10)) if f"<mark>{r}</mark></td>" in panel]
    shown = [i for i in range(10) if f">Risk {i}<" in panel]
    assert shown == list(range(shown[0], shown[-1] + 1)) and 0 not in shown  # whole rows, in order
    assert f"⋯ {shown[0]} more rows" in panel
    assert "Intro before" not in panel and "…t happens" not in panel
    for i in shown:  # every shown row is complete
        assert f'"Mitigation">Fix {i}</td>' in panel or f"<mark>Fix {i}</mark></td>" in panel


def test_table_passage_without_a_span_shows_its_header_and_first_rows() -> None:
    panel = render.sources_html([_answer(abstained=True, citations=[_table_cite(None, None)])])
    assert "Intro before the table." in panel and "<th>Risk</th>" in panel
    assert '<td data-label="Risk">Risk 0</td>' in panel and "more rows</td>" in panel
    assert "<mark>" not in panel


def test_clipped_text_ends_on_whole_words() -> None:
    text = " ".join(f"word{i}" for i in range(300)) + " The cited sentence. " + " ".join(
        f"tail{i}" for i in range(300))
    start = text.index("The cited")
    html = render.sources_html([_answer(citations=[{**_table_cite(0, 0), "text": text,
                                                    "start": start, "end": start + 19}])])
    body = html.split('<div class="bk-src-text">', 1)[1].split("</div>", 1)[0]
    assert body.startswith("…word") and body.endswith("…")
    assert all(w.startswith(("word", "tail", "The", "cited", "sentence", "…", "<mark>"))
               for w in body.strip("…").split()), body
    assert "<mark>The cited sentence.</mark>" in body


def test_plain_text_quotes_cited_table_rows_with_their_column_names() -> None:
    start, end = _row_span(2, 3)
    text = render.plain_text(_answer("Risk 2 — Fix 2 [1].", citations=[_table_cite(start, end)]))
    assert "[1] Guide - Risks\n    - Risk 2 — Why it happens: Reason 2 " in text
    assert "; Mitigation: Fix 2\n    - Risk 3 — Why it happens: Reason 3" in text
    assert "|" not in text


def test_plain_text_turns_a_table_in_the_answer_into_lines() -> None:
    answer = "Models:\n| Model | Cost |\n|---|---|\n| Offshore | $8 [1] |\n| Onshore | $40 [2] |"
    text = render.plain_text(_answer(answer))
    assert text.startswith("Models:\nOffshore — Cost: $8 [1]\nOnshore — Cost: $40 [2]\n")


def test_a_table_of_four_or_more_columns_is_marked_wide() -> None:
    wide = "| A | B | C | D |\n|---|---|---|---|\n| 1 | 2 | 3 | 4 |"
    narrow = "| A | B | C |\n|---|---|---|\n| 1 | 2 | 3 |"
    for text, want in ((wide, True), (narrow, False)):
        cite = {**_table_cite(None, None), "text": text}
        panel = render.sources_html([_answer(abstained=True, citations=[cite])])
        assert ('class="bk-table bk-src-table bk-wide"' in panel) is want
    assert ".bk-src-table.bk-wide td[data-label]::before" in render.HEAD_STYLE


def test_plain_text_cuts_a_long_quote_between_words() -> None:
    long = "Outsourcing " + " ".join(f"sentence{i} grows longer" for i in range(60)) + "."
    cite = {"marker": 1, "doc": "d.txt", "title": "Guide", "section": "", "text": long,
            "start": 0, "end": len(long), "score": 0.1}
    quote = render.plain_text(_answer("Long [1].", citations=[cite])).splitlines()[-1].strip()
    assert quote.endswith("…\"") and len(quote) <= 403, quote
    assert quote[1:-2].split()[-1] in long.split(), quote  # the last word shown is whole


def test_a_pasted_long_question_is_echoed_only_in_part() -> None:
    long = "We run a shop. " * 200 + "What are the risks?"
    answer = _answer(question=long, retrieval_query=long + " (risks)")
    html = render.answer_html(answer, turn=1)
    shown = html.split("Searched the guides for: <q>")[1].split("</q>")[0]
    assert shown.endswith("…") and len(shown) <= render.SHOWN_QUESTION_CHARS + 1
    panel = render.sources_html([answer])
    heading = panel.split('class="bk-turn-q">')[1].split("</span>")[0]
    assert heading.endswith("…") and len(heading) <= render.SHOWN_QUESTION_CHARS + 1
