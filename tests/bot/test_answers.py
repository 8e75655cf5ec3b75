"""The extractive answerer on the real guides: behaviours, not the guides' phrasing.

Each test checks what a user relies on - markers match citations, a definition opens with
one, a list answer is one guide's list, a refusal does not flip on letter case - with as
little of the guides' wording as a check needs."""

from __future__ import annotations

import re

import pytest

from bot import Answer


def _markers_match_citations(ans: Answer) -> None:
    used = {int(m) for m in re.findall(r"\[(\d+)\]", ans.answer)}
    assert used == {c.marker for c in ans.citations}
    for c in ans.citations:
        assert c.start is not None and c.end is not None
        assert 0 <= c.start < c.end <= len(c.text)


def _words(ans: Answer) -> int:
    return len(re.sub(r"\[\d+\]", " ", ans.answer).split())


def test_definition_question_gets_a_definition_first(bot) -> None:  # type: ignore[no-untyped-def]
    for question in ("What is business process outsourcing?", "Explain BPO to me in plain English?"):
        ans = bot.ask(question)
        assert not ans.abstained
        first = ans.answer.split("[1]")[0]
        assert "plain English" not in first, ans.answer
        assert re.search(r"(BPO|[Bb]usiness [Pp]rocess [Oo]utsourcing).{0,40}\b(is|means|refers to)\b",
                         first), ans.answer
        _markers_match_citations(ans)


def test_comparison_covers_both_sides(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("What is the difference between BPO and BPM?")
    assert not ans.abstained
    assert "BPM" in ans.answer and "BPO" in ans.answer
    _markers_match_citations(ans)


@pytest.mark.parametrize("question", [
    "What are the risks of outsourcing and how do I protect myself?",
    pytest.param("walk me through how a BPO engagement runs, step by step", marks=pytest.mark.xfail(
        strict=True, reason="known miss: no list clears the list model's threshold (the steps "
        "under 'How Does BPO Work?' share few words with 'engagement runs': p 0.20 against "
        "0.64), so the best units answer; before the cross-encoder the wrong list answered "
        "it (choosing a provider)")),
    "give me a checklist for vetting a BPO provider",
])
def test_a_list_question_is_answered_with_one_guides_list(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    """Its items, in the guide's order, from one passage (or the chunks one list was split
    into), not fragments from several lists."""
    ans = bot.ask(question)
    assert not ans.abstained, ans.answer
    items = [ln for ln in ans.answer.splitlines() if ln.startswith("- ")]
    assert len(items) >= 3, ans.answer
    sections = {re.search(r"\[(\d+)\]", ln).group(1) for ln in items}  # type: ignore[union-attr]
    docs = {c.doc for c in ans.citations if str(c.marker) in sections}
    assert len(docs) == 1, ans.answer
    assert _words(ans) <= 140, ans.answer
    _markers_match_citations(ans)


def test_risk_answers_keep_the_mitigations(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("What are the risks of BPO, and how do I mitigate them?")
    assert not ans.abstained
    assert ans.answer.lower().count("mitigation") >= 2 or "NDAs" in ans.answer, ans.answer


def test_one_item_is_one_bullet(bot) -> None:  # type: ignore[no-untyped-def]
    """A long bullet's sentences are one item of a list answer, never bullets of their own."""
    ans = bot.ask("What pricing models do BPO providers use?")
    assert not ans.abstained, ans.answer
    # the pricing list's "- Predictable monthly cost." was once a bullet of its own
    assert not re.search(r"(^|\n)- [A-Z][a-z]+ [a-z]+ cost\. \[", ans.answer), ans.answer
    for ln in ans.answer.splitlines():
        if ln.startswith("- "):
            assert len(ln.split()) > 4, ans.answer


def test_table_rows_are_quoted_as_sentences(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("How does hiring a virtual assistant compare with a BPO?")
    assert not ans.abstained
    assert "|" not in ans.answer
    assert re.search(r"Virtual assistant: One remote person", ans.answer), ans.answer


def test_page_furniture_never_answers(bot) -> None:  # type: ignore[no-untyped-def]
    for question in ("How much does BPO cost?", "How do I get started with outsourcing?",
                     "Who wrote the definitive guide to BPO?"):
        ans = bot.ask(question)
        for junk in ("free consultation", "Get started", "let us know", "Written by",
                     "helps Singapore and global business owners"):
            assert junk not in ans.answer, (question, ans.answer)


def test_pricing_question_is_answered_with_the_figures(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("How much does offshore support cost per hour?")
    assert not ans.abstained
    assert re.search(r"\$8\s*-\s*\$?25", ans.answer.replace("\u2013", "-")), ans.answer
    _markers_match_citations(ans)


def test_disagreement_is_only_between_figures_for_the_same_thing(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("How big is the global BPO market?")
    assert "different figures" in ans.answer and len({c.doc for c in ans.citations}) >= 2
    nearshore = bot.ask("What does nearshore support cost per hour?")
    assert "different figures" not in nearshore.answer, nearshore.answer


@pytest.mark.parametrize("question", [
    "who is the current ceo of teleperformance",
    "What's the typical hourly rate for BPO agents in Vietnam?",
    "How do I make a sourdough starter?",
])
def test_out_of_scope_question_is_refused_with_suggestions(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask(question)
    assert ans.abstained, ans.answer
    assert ans.answer.startswith("The guides don't cover this.")
    assert 1 <= len(ans.suggestions) <= 3 and all(s.endswith("?") for s in ans.suggestions)
    assert ans.citations and all(c.start is None for c in ans.citations)


@pytest.mark.parametrize("question", [
    "Who is the current CEO of Teleperformance?",
    "How many people work in BPO in the Philippines?",
    "What are the risks of outsourcing?",
])
def test_letter_case_and_punctuation_do_not_move_the_refusal_decision(bot, question: str  # type: ignore[no-untyped-def]
                                                                      ) -> None:
    scores = {v: bot.ask(v).answerability for v in
              (question, question.lower(), question.upper(), question.rstrip("?!."))}
    assert max(scores.values()) - min(scores.values()) < 1e-9, scores


def test_slang_and_short_forms_are_read_as_words(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("how many ppl work in BPO in the philippines?")
    assert not ans.abstained and "1.7M" in ans.answer, ans.answer
    assert "people" in ans.retrieval_query


def test_a_refusal_never_suggests_the_topic_that_answers_it(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("whats the catch with outsourcing? risks?")
    assert not ans.abstained, ans.answer


def test_typo_in_a_key_word_is_corrected_and_shown(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("what is recuitment process outsourcing")
    assert "recruitment" in ans.retrieval_query
    assert not ans.abstained and "RPO" in ans.answer, ans.answer


def test_question_in_another_language_says_so(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("¿Cuánto cuesta subcontratar el servicio al cliente en México?")
    assert ans.abstained and "English" in ans.answer, ans.answer


def test_follow_up_keeps_what_was_asked(bot) -> None:  # type: ignore[no-untyped-def]
    history = [{"role": "user", "content": "What does offshore BPO cost?"},
               {"role": "assistant", "content": "Offshore work runs $8-$25 per hour [1]."}]
    ans = bot.ask("and what about nearshore?", history)
    assert "nearshore" in ans.retrieval_query.lower() and "cost" in ans.retrieval_query.lower()
    assert "offshore" not in ans.retrieval_query.lower(), ans.retrieval_query
    assert not ans.abstained and "25-60" in ans.answer.replace("\u2013", "-"), ans.answer


@pytest.mark.xfail(strict=True, reason=(
    "known miss since the refusal trees: every coverage feature is 1.0 (the behaviour this "
    "pins), but the cross-encoder reads only the first stage's best unit, here the CSAT row "
    "(0.30 against the FCR row's 0.28: the query's embedding is closer to it), at logit -9.6; "
    "the trees weigh that reading more than the logistic model did (0.11 against 0.40)"))
def test_follow_up_is_judged_on_its_own_words_in_the_topics_passages(bot) -> None:  # type: ignore[no-untyped-def]
    """The earlier turn's words ("first contact resolution") need not be in the very unit
    that answers ("Target: 70-75%"), only in its passage: the follow-up is not refused."""
    history = [{"role": "user", "content": "what is first contact resolution?"},
               {"role": "assistant", "content": "FCR is the share of contacts resolved in the "
                                                "first interaction."}]
    ans = bot.ask("what target should it be?", history)
    assert "resolution" in ans.retrieval_query, ans.retrieval_query
    assert not ans.abstained, (ans.answerability, ans.answer)


@pytest.mark.parametrize("question", ["what are the risks of outsourcing?",
                                      "What are the benefits of BPO?",
                                      "what are the steps of a BPO engagement?"])
def test_a_list_answer_says_no_sentence_twice(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    """An item cut to its first sentence whose whole text is the best unit is shown whole,
    once (it was "Communication: A global talent pool... Communication: A global...")."""
    import re

    ans = bot.ask(question)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", re.sub(r"\[\d+\]", "",
                                                                       ans.answer)) if s.strip()]
    sentences = [re.sub(r"^-\s*", "", s) for s in sentences]
    assert len(sentences) == len(set(sentences)), ans.answer


def test_follow_up_pointer_resolves_to_the_item_not_a_fragment(bot) -> None:  # type: ignore[no-untyped-def]
    first = bot.ask("What pricing models do BPO providers use?")
    history = [{"role": "user", "content": first.question},
               {"role": "assistant", "content": first.answer}]
    ans = bot.ask("whats the catch with the second one?", history)
    assert not ans.abstained, ans.answer
    assert "cost." not in ans.retrieval_query.lower()[:40], ans.retrieval_query


def test_answers_come_with_follow_up_suggestions(bot) -> None:  # type: ignore[no-untyped-def]
    ans = bot.ask("What is KPO?")
    assert not ans.abstained
    assert ans.suggestions and all(s.endswith("?") for s in ans.suggestions)
    assert ans.question not in ans.suggestions


def test_answers_are_short_and_repeatable(bot) -> None:  # type: ignore[no-untyped-def]
    for q in ("What are the risks of BPO?", "What is an SLA in outsourcing?",
              "How long does a BPO transition take?"):
        ans = bot.ask(q)
        assert _words(ans) <= 160, (q, ans.answer)
    a, b = bot.ask("Is KPO the same as LPO?"), bot.ask("Is KPO the same as LPO?")
    assert a.answer == b.answer
    assert [c.chunk_id for c in a.citations] == [c.chunk_id for c in b.citations]


@pytest.mark.parametrize("question", ["explain rpo", "what does lpo cover"])
def test_how_to_answer_phrases_do_not_move_the_refusal_score(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    """"in plain English" says how to answer, not what about: "English" (a name in the
    guides) is not something the answer must contain."""
    plain = bot.ask(f"{question}?").answerability
    styled = bot.ask(f"{question} in plain english please").answerability
    assert abs(plain - styled) < 0.05, (plain, styled)


def test_a_place_in_the_askers_situation_is_not_required_but_one_asked_about_is(bot) -> None:  # type: ignore[no-untyped-def]
    """The refusal requires the names of what is asked, not of where the asker stands."""
    answered = bot.ask("We're a chain of bakeries in Tasmania. What are the risks of "
                       "outsourcing customer support?")
    assert not answered.abstained, answered.answer
    refused = bot.ask("What are the risks of outsourcing customer support in Tasmania?")
    assert refused.abstained, refused.answer


def test_a_year_the_question_names_must_be_the_guides_year_even_with_a_prefix(bot) -> None:  # type: ignore[no-untyped-def]
    """"FY2024" asks about 2024: the guides' FY2023 figure does not answer it."""
    asked = bot.ask("What was Accenture's operations revenue in FY2023?")
    assert not asked.abstained and "29.8" in asked.answer, asked.answer
    other = bot.ask("What was Accenture's operations revenue in FY2024?")
    assert other.abstained, other.answer


@pytest.mark.parametrize(("line", "shown"), [
    ("noted \u201cthe rebranding was the work.\u201d", "noted \u201cthe rebranding was the work.\u201d"),
    ("noted \u201cthe rebranding\u201d", "noted \u201cthe rebranding\u201d."),
    ("Costs fall (by 20-60%.)", "Costs fall (by 20-60%.)"),
    ("Costs fall", "Costs fall."),
    ("Steps:", "Steps:"),
])
def test_an_answer_line_gets_one_end_mark(line: str, shown: str) -> None:
    from bot.compose.render import ended

    assert ended(line) == shown


@pytest.mark.parametrize(("heading", "question"), [
    ("How to Choose a BPO Provider: A Checklist", "How do I choose a BPO provider?"),
    ("The Benefits of BPO", "What are the benefits of BPO?"),
    ("BPO Pricing & Engagement Models", "What are BPO pricing & engagement models?"),
    ("Other countries will look to break into the BPO market", ""),  # a claim, not a topic
    ("There will be higher transparency", ""),
    ("Key takeaways", ""),
    ("How Does BPO Work?", "How does BPO work?"),  # title case read as a sentence
    ("What Does BPO Stand For", "What does BPO stand for?"),
    ("The Global and Singapore Lens", "What is global and Singapore lens?"),
    ("Key Risks", "What are the key risks?"),
])
def test_a_heading_becomes_a_question_only_when_it_names_a_topic(heading: str,
                                                                 question: str) -> None:
    from bot.suggest import as_question

    assert as_question(heading, lambda w: w == "singapore") == question


def test_suggestions_do_not_repeat_one_another_in_fewer_words() -> None:
    from bot.suggest import _adds

    made = ["What are the benefits of BPO?"]
    assert not _adds("What are the benefits?", made, set())
    assert not _adds("what are the benefits of bpo?", [], {"what are the benefits of bpo?"})
    assert _adds("What are the risks of BPO?", made, set())


def test_every_example_question_of_the_empty_chat_is_answered(bot) -> None:  # type: ignore[no-untyped-def]
    """The questions a new user is invited to click get answers, and the pricing one is
    answered from a pricing passage (as "How do BPO providers charge?" was not: it got the
    BPO definition, seen by a helper in the browser)."""
    from ui import EXAMPLES

    for question in EXAMPLES:
        ans = bot.ask(question)
        assert not ans.abstained, question
        if "price" in question:
            assert any("pricing" in c.section.lower() for c in ans.citations), ans.answer
