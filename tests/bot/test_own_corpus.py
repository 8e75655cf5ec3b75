"""The whole pipeline on a user's own documents - a returns policy and a staff handbook, not
about outsourcing - with no vocabulary file: a definition, a list, a figure and a refusal.

Nothing in the answer path may depend on the BPO guides (their words, acronyms or phrasing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RETURNS = """# Acme Returns Policy

## What is a return authorisation?
A return authorisation (RA) is a number our support team issues before you send an item
back. It links the parcel to your order so the refund can be processed.

## Refund window
You can return most items within 30 days of delivery for a full refund. Sale items can be
returned within 14 days. Refunds are paid to the original payment method within 5 business
days of the parcel arriving at our warehouse.

## How to return an item
Follow these steps to return an item:
1. Request a return authorisation from the support team.
2. Pack the item in its original packaging with the RA number on the label.
3. Drop the parcel at any post office within 7 days of receiving the RA.
4. Track the refund in your account once the warehouse confirms the parcel.

## Items we cannot take back
Perishable food, gift cards and personalised products cannot be returned.
"""

HANDBOOK = """# Staff Handbook

## Annual leave
Full-time employees get 25 days of paid annual leave per year, plus public holidays.
Part-time employees get leave pro rata. Unused leave of up to 5 days can be carried over.

## Probation
New employees complete a probation period of 6 months. During probation the notice period
is one week.

## Expenses
Staff claim business expenses through the finance portal within 30 days, with receipts.
"""


@pytest.fixture(scope="module")
def own_bot(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    from bot import Bot
    from bpo_kb import Settings
    from ingest import ingest

    root = tmp_path_factory.mktemp("own")
    corpus = root / "docs"
    corpus.mkdir()
    (corpus / "returns.md").write_text(RETURNS, encoding="utf-8")
    (corpus / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    s = Settings(data_dir=root / "data", corpus_dir=corpus, vocab="none", _env_file=None)
    ingest(s)
    return Bot.open(s)


def _cited(ans, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in c.text for c in ans.citations)


def test_own_corpus_has_no_vocabulary_but_its_own_acronyms(own_bot) -> None:  # type: ignore[no-untyped-def]
    assert own_bot.vocab.source == ""
    assert own_bot.vocab.expansion("ra") == "return authorisation"  # spelled out in the text


def test_definition_on_a_users_own_documents(own_bot) -> None:  # type: ignore[no-untyped-def]
    ans = own_bot.ask("what is an RA?")
    assert not ans.abstained, ans.answer
    assert ans.answer.startswith("A return authorisation (RA) is a number"), ans.answer
    assert _cited(ans, "issues before you send an item")


def test_list_on_a_users_own_documents(own_bot) -> None:  # type: ignore[no-untyped-def]
    ans = own_bot.ask("walk me through returning something")
    assert not ans.abstained, ans.answer
    lines = [ln for ln in ans.answer.splitlines() if ln.startswith("- ")]
    assert len(lines) == 4, ans.answer  # the document's own four steps, in order
    assert "Request a return authorisation" in lines[0] and "Track the refund" in lines[-1]


def test_figure_on_a_users_own_documents(own_bot) -> None:  # type: ignore[no-untyped-def]
    ans = own_bot.ask("How much annual leave do employees get?")
    assert not ans.abstained, ans.answer
    assert "25 days" in ans.answer.split("[1]")[0], ans.answer
    window = own_bot.ask("whats the refund window")
    assert not window.abstained and "30 days" in window.answer, window.answer


def test_refusal_on_a_users_own_documents(own_bot) -> None:  # type: ignore[no-untyped-def]
    for question in ("What is the company's parental leave policy in Germany?",
                     "How do I bake sourdough bread?"):
        ans = own_bot.ask(question)
        assert ans.abstained, (question, ans.answer)
        assert ans.answer.startswith("The guides don't cover this.")


def test_answers_on_a_users_own_documents_cite_what_they_say(own_bot) -> None:  # type: ignore[no-untyped-def]
    ans = own_bot.ask("Which items can't be returned?")
    used = {int(m) for m in re.findall(r"\[(\d+)\]", ans.answer)}
    assert used == {c.marker for c in ans.citations}
    assert "gift cards" in ans.answer, ans.answer


def test_own_corpus_index_has_no_bpo_words(own_bot) -> None:  # type: ignore[no-untyped-def]
    words = own_bot.generation.terms.words
    assert "outsourcing" not in words and "refund" in words
    assert Path(own_bot.settings.corpus_dir).name == "docs"


def test_a_language_model_is_not_told_a_users_documents_are_about_bpo(own_bot) -> None:  # type: ignore[no-untyped-def]
    """The system message names the subject of the vocabulary file (`[corpus] subject`);
    without one it names none - never the guides' trade."""
    from generate import make_generator

    gen = make_generator(own_bot.settings.model_copy(update={"llm": "fake:invent"}))
    assert gen is not None and own_bot.vocab.subject == ""
    q = own_bot.read("How long do I have to return an item?")
    hits = own_bot.retrieve(q)
    prompt = gen._prompt(q.text, (), hits, own_bot.ask(q.text), own_bot.vocab.subject)
    assert "outsourcing" not in prompt.system.lower() and "BPO" not in prompt.system
    assert prompt.system.startswith("You answer questions using only the numbered passages")
