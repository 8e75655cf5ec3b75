"""The question, parsed once: shape, figures, spelling, short forms, follow-ups, vocabulary.

Pure parsing - no index - except where the index's own words are the dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.figures import asked_about, asked_kinds, figures_in, values_in
from bot.followup import Turn, enumerated, resolve
from bot.question import English, Reader, dense_text, shape_of, situation_of
from bot.spelling import Speller
from bot.vocab import Vocabulary
from bpo_kb import ConfigError


@pytest.mark.parametrize(("question", "shape"), [
    ("What is the difference between BPO and BPM?", "comparison"),
    ("is KPO the same as LPO?", "comparison"),
    ("Why pick nearshore over offshore?", "comparison"),
    ("What are the risks of outsourcing?", "list"),
    ("walk me through how an engagement runs, start to finish", "list"),
    ("give me a checklist for vetting a vendor", "list"),
    ("How do we choose a provider?", "list"),
    ("what is BPO in plain english?", "definition"),
    ("What does ITES stand for and what's in it?", "definition"),
    ("What are GCCs?", "definition"),
    ("How much does offshore support cost per hour?", "other"),  # a figure: Question.figures
    ("How much annual leave do employees get?", "other"),
    ("Is BPO really just about cutting costs?", "other"),
    ("What's the refund window in our returns policy?", "other"),  # a fact, not a definition
    ("Who is the current CEO of Teleperformance?", "other"),
])
def test_question_shape_comes_from_general_english_forms(question: str, shape: str) -> None:
    assert shape_of(question)[0] == shape


def test_comparison_sides_are_the_things_compared() -> None:
    assert shape_of("With a VA vs a BPO, who actually manages the work?")[1] == ("VA", "BPO")
    assert shape_of("How does hiring a virtual assistant compare with a BPO?")[1] == \
        ("virtual assistant", "BPO")


@pytest.mark.parametrize(("question", "kinds"), [
    ("How much does it cost per hour?", {"money"}),
    ("How much annual leave do employees get?", {"number"}),  # any figure, not money
    ("how many people work in BPO in India?", {"count"}),
    ("How long does a transition take?", {"duration"}),
    ("What is the attrition rate?", {"percent"}),
    ("When was the LGPD enacted?", {"year"}),
    ("What pricing models are there?", set()),  # names a kind of pricing, asks no price
    ("Which hidden costs inflate a budget?", set()),
    ("Should the contract include penalties?", set()),  # asks whether, not how much
    ("Is it worth asking for a certification?", set()),
    ("Do you know how much it costs per hour?", {"money"}),  # a question word follows
    ("When will the new rules be enforced?", {"year"}),
    ("What is gain-share pricing and when is it appropriate?", set()),  # in which case
    ("When is a full contract worth it?", set()),  # whether it pays, not a sum
    ("What is the market worth?", {"money"}),
    ("Is the certification worth requiring? How widely is it used?", set()),
    ("How much cheaper is Poland than Western Europe?", {"money", "percent"}),  # "30-50%"
    ("What was the company's net profit?", {"money"}),
    ("What's its stock price today?", {"money"}),
    ("What was the size of the global market in 2015?", {"money"}),
    ("What size of team do we need?", set()),
])
def test_one_figure_parser_reads_what_a_question_asks(question: str, kinds: set[str]) -> None:
    assert asked_kinds(question) == frozenset(kinds)


def test_figures_are_found_by_kind_and_value() -> None:
    kinds = [(f.kind, f.value, f.high) for f in figures_in("typically $8-25/hour; 1.7M staff; "
                                                           "12–15% CAGR; 3-6 months; in 2023")]
    assert kinds == [("money", 8.0, 25.0), ("count", 1.7, None), ("percent", 12.0, 15.0),
                     ("duration", 3.0, 6.0), ("year", 2023.0, None)]
    assert 1_700_000.0 in values_in("1.7 million employees")
    assert asked_about("How many employees does Accenture have?") == ("employees",)
    assert asked_about("What's the going rate per invoice?") == ()
    assert asked_about("How much does one cost to set up?") == ()  # a pronoun, not a subject


def test_spelling_is_corrected_against_the_documents_own_words() -> None:
    sp = Speller({"recruitment": 5, "nearshore": 9, "hipaa": 3, "pricing": 7})
    text, fixes = sp.correct("what is recuitment process outsourcing and HIPPA, pricng?")
    assert text == "what is recruitment process outsourcing and HIPAA, pricing?"
    assert ("recuitment", "recruitment") in fixes
    # English words and short words are left alone, even when the documents lack them
    assert sp.correct("severance for the ceo")[1] == ()
    # a name written with a capital inside is its owner's spelling, not a typo of "tasks"
    tasks = Speller({"tasks": 9})
    assert tasks.correct("is TaskUs a BPO?")[1] == ()
    assert tasks.correct("what are taskus?")[1] == (("taskus", "tasks"),)


def test_chat_short_forms_are_read_as_words() -> None:
    e = English.default()
    assert e.read_short_forms("how many ppl work there, pls") == \
        "how many people work there, please"
    assert "plain english" not in e.without_style("What is BPO in plain English?").lower()


def _h(*texts: str) -> list[Turn]:
    return [Turn("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)]


def _similar(text: str, candidates: list[str]) -> list[float]:
    """A stand-in for the embedder: a shared 'shore' or 'cost' makes two texts similar."""
    return [0.9 if text.endswith("shore") and c.endswith("shore") else 0.1 for c in candidates]


def test_new_focus_takes_the_place_of_the_part_of_the_last_question_it_is_like() -> None:
    r = resolve("and what about nearshore?", _h("What does offshore BPO cost?",
                                                "Offshore costs $8-$25 per hour [1]."), _similar)
    assert r.follow_up and r.text == "What does nearshore BPO cost?"


def test_pointer_into_the_last_answers_list_is_replaced_by_the_item() -> None:
    history = _h("what pricing models are there?",
                 "- Per hour / FTE: a monthly rate [1]\n- Time & materials: actual hours [2]\n"
                 "- Outcome-based: fees tied to results [2]")
    assert "Time & materials" in resolve("whats the catch with the second one?", history).text
    lock = _h("what are the main risks?", "Data security, hidden costs, vendor lock-in and "
                                          "quality drift.")
    assert "vendor lock-in" in resolve("ok how do i avoid the lock-in one", lock).text
    assert enumerated("- Lower cost: fees replace salaries. [1]\n- Focus. Hours return. [1]") \
        == ["Lower cost", "Focus"]
    assert enumerated("- Security: data [1]\n- Cost: fees [1]\n- and 2 more: Quality, Speed. [2]"
                      ) == ["Security", "Cost", "Quality", "Speed"]  # not "and 2 more"


def test_a_pointer_by_number_into_a_list_written_on_one_line_is_the_item() -> None:
    """"what happens in step 4?" after "1) identify, 2) select, ..." (an answer pasted into a
    batch file's history, or a language model's) asks about the fourth item."""
    steps = ("1) Process identification 2) Vendor selection 3) Scope and SLA definition "
             "4) Transition and onboarding 5) Ongoing service delivery")
    r = resolve("what happens in step 4?", _h("what are the steps of the BPO process?", steps))
    assert r.follow_up and "Transition and onboarding" in r.text and "step 4" not in r.text
    assert enumerated("1) cost, 2) focus, 3) scale.") == ["cost", "focus", "scale"]
    assert enumerated("It was $232.32 billion in 2020. It grew 8.5% in 2023.") == []
    assert "step 9" in resolve("what happens in step 9?", _h("steps?", steps)).text
    prose = ("BPO is contracting a function - such as support, payroll, bookkeeping, or data "
             "entry - to a provider who runs it, with the people, process, and technology.")
    assert "step 4" in resolve("what happens in step 4?", _h("what are the steps?", prose)).text


def test_a_follow_up_asks_for_the_figures_its_own_words_ask_for() -> None:
    """"which of those is riskiest?" after a list of pricing models ("per invoice, per
    call"): the models' words join the search, but no price is asked."""
    history = _h("what pricing models are there?",
                 "FTE (you pay per hour), transaction-based (per invoice, per call) and "
                 "outcome-based (gain-share).")
    q = Reader(Vocabulary.empty(), None, lambda s: 1.0).read("which of those is riskiest?",
                                                             history)
    assert q.follow_up and "per invoice" in q.text and q.figures == frozenset()
    q = Reader(Vocabulary.empty(), None, lambda s: 1.0).read("and how much does it cost?",
                                                             history)
    assert "money" in q.figures


def test_only_the_last_turn_is_used_and_standalone_questions_stay_as_they_are() -> None:
    history = _h("How big is the Philippine BPO industry?", "1.7M employees [1].",
                 "What are the types of BPO?", "Onshore, nearshore and offshore [1].")
    r = resolve("which of those is cheapest?", history)
    assert "philippin" not in r.text.lower() and "nearshore" in r.text.lower()
    assert resolve("What is KPO?", history).text == "What is KPO?"


def test_reader_works_with_no_vocabulary_and_with_one(tmp_path: Path) -> None:
    empty = Reader(Vocabulary.empty(), None, lambda s: 1.0)
    assert empty.read("What is KPO?").query == "What is KPO?"
    vocab_file = tmp_path / "vocab.toml"
    vocab_file.write_text('[acronyms]\nkpo = "knowledge process outsourcing"\n'
                          '[synonyms]\ngroups = [["cost", "price"]]\n', encoding="utf-8")
    vocab = Vocabulary.load(vocab_file)
    q = Reader(vocab, None, lambda s: 1.0).read("What is KPO?")
    assert "knowledge process outsourcing" in q.query
    assert "price" in vocab.widen({"cost"})
    # "it" is an acronym only in capitals
    vocab_it = Vocabulary({"it": "information technology"})
    assert vocab_it.expansions_in("is it worth it?") == []
    assert vocab_it.expansions_in("What does IT outsourcing cover?") == ["information technology"]


def test_broken_vocabulary_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "vocab.toml"
    bad.write_text("[acronyms\nkpo = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot read the vocabulary file"):
        Vocabulary.load(bad)


def test_vocabulary_file_names_the_documents_subject(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.vocab import Vocabulary
    from generate.prompting import system_prompt

    f = tmp_path / "vocab.toml"
    f.write_text('[corpus]\nsubject = "our returns  policy"\n', encoding="utf-8")
    subject = Vocabulary.load(f).subject
    assert subject == "our returns policy"
    assert system_prompt(subject).startswith("You answer questions about our returns policy "
                                             "using only")
    assert Vocabulary.load(None).subject == ""


@pytest.mark.parametrize(("question", "situation", "asks"), [
    ("We're in Germany. What nearshore options are there in Europe?", "We're in Germany.",
     "What nearshore options are there in Europe?"),
    ("we run a group of clinics, what do healthcare orgs outsource?",
     "we run a group of clinics", "what do healthcare orgs outsource?"),
    ("what benefits of bpo does the guide list? i need it for a pitch?",
     "i need it for a pitch?", "what benefits of bpo does the guide list?"),
    ("our company is based in Ohio. How much does offshore support cost?",
     "our company is based in Ohio.", "How much does offshore support cost?"),
    # a sentence the asker began about themselves stays theirs to its end
    ("Our team handles 4,000 tickets a month across email, chat and phone, with peaks in the "
     "holidays. What are the risks?",
     "Our team handles 4,000 tickets a month across email chat and phone with peaks in the "
     "holidays.", "What are the risks?"),
    # the asker's own words that ask something are the question
    ("How much does BPO cost in Vietnam?", "", "How much does BPO cost in Vietnam?"),
    ("I need to know the cost of offshore support?", "",
     "I need to know the cost of offshore support?"),
    ("we need a vendor who covers nights, what should we look for?", "",
     "we need a vendor who covers nights, what should we look for?"),
])
def test_the_askers_situation_is_told_apart_from_what_is_asked(
        question: str, situation: str, asks: str) -> None:
    assert situation_of(question) == (situation, asks)



def test_dense_text_drops_the_corpus_wide_words_only_when_two_specific_words_remain() -> None:
    common = {"outsourc", "busi", "process"}  # stems in nearly every passage of a corpus

    def df_ratio(stem: str) -> float:
        return 0.9 if stem in common else 0.01

    assert dense_text("how much does offshore support cost in outsourcing?", df_ratio) == \
        "how much does offshore support cost in"
    # one specific word is no question: the whole query is embedded
    assert dense_text("what should a business never outsource?", df_ratio) == \
        "what should a business never outsource?"
    assert dense_text("business process outsourcing?", df_ratio) == \
        "business process outsourcing?"


def test_a_long_message_is_searched_for_what_it_asks() -> None:
    reader = Reader(Vocabulary.empty(), None, lambda s: 1.0, df_ratio=lambda s: 0.01)
    account = "We are a shop in Ohio with 120 staff, and our team is busy in the holidays. " * 20
    q = reader.read(account + "What are the main risks of outsourcing support?")
    assert q.query == q.dense == "What are the main risks of outsourcing support?"
    assert "Ohio" in q.text  # the whole message is still what was asked
    short = reader.read("We are a shop in Ohio. What are the main risks of outsourcing support?")
    assert short.query.startswith("We are a shop in Ohio.")  # fits any embedder's window


def test_an_abbreviation_read_in_full_loses_its_dot() -> None:
    english = English.default()
    assert english.read_short_forms("When does BPO fit an SME vs. an enterprise?") == \
        "When does BPO fit an SME versus an enterprise?"
    assert english.read_short_forms("BPO vs BPM") == "BPO versus BPM"


def test_the_plural_of_an_acronym_the_documents_never_write_is_read_as_the_acronym() -> None:
    """"freelance VAs": the documents write "VA" (and "virtual assistants"), never "VAs";
    read as written, "VAs" is a word they never use and the question looks unanswerable.
    A plural they do write ("SLAs") stays, and so does a word that is no acronym."""
    vocab = Vocabulary({"va": "virtual assistant", "sla": "service level agreement"})
    known = {"sla", "slas", "va", "tip"}
    reader = Reader(vocab, None, lambda s: 1.0,
                    df_ratio=lambda s: 0.1 if s in known else 0.0)
    q = reader.read("tips for managing freelance VAs")
    assert "VAs" not in q.text and "freelance VA" in q.text
    assert "virtual assistant" in q.query
    assert "SLAs" in reader.read("which SLAs matter").text
    assert "OKs" in reader.read("who OKs the budget").text  # not an acronym of the vocabulary
