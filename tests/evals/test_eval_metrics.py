"""Metric definitions of issue 3 on hand-made cases (no bot needed)."""

from __future__ import annotations

from typing import Any

import pytest

from evals import Item, Source
from evals.metrics import (
    STOP_WORDS,
    by_category,
    content_words,
    coverage,
    covers,
    fact_found,
    first_covering_rank,
    normalize,
    refusal_auc,
    refusal_curve,
    score_item,
    summarize,
    word_count,
)

QUOTE = "Offshore agents cost $8-25 per hour in the Philippines."


def item(answerable: bool = True, facts: tuple[tuple[str, ...], ...] = (("$8-25",),),
         quotes: tuple[str, ...] = (QUOTE,), category: str = "pricing", id: str = "x") -> Item:
    return Item(id=id, question="q?", category=category, answerable=answerable,
                must_include=facts if answerable else (),
                sources=tuple(Source("doc.txt", q) for q in quotes) if answerable else ())


def result(it: Item, answer: str | None, *, abstained: bool = False,
           citations: tuple[str, ...] = (), ranked: tuple[str, ...] = (),
           error: str | None = None, latency_ms: float | None = 10.0,
           answerability: float | None = None) -> dict[str, Any]:
    r = {"id": it.id, "category": it.category, "answerable": it.answerable, "answer": answer,
         "abstained": abstained, "error": error, "latency_ms": latency_ms,
         "answerability": answerability}
    r.update(score_item(it, answer=answer, abstained=abstained, citation_texts=citations,
                        ranked_texts=ranked, error=error))
    return r


# -- normalisation ------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [
    ("\u201cQuoted\u201d and \u2018single\u2019", "\"Quoted\" and 'single'"),
    ("8\u201325 and 8\u201425", "8-25 and 8-25"),
    ("\ufb01nance \uff04\uff18", "finance $8"),            # NFKC: ligature, full-width
    ("a\u00a0b", "a b"),                                  # NFKC: no-break space
    ("  many\t\tspaces\n\nand lines  ", "many spaces and lines"),
    ("Case Stays", "Case Stays"),
])
def test_normalize_applies_nfkc_quotes_dashes_and_whitespace(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("answer", "alternatives", "found"), [
    ("Rates run $8\u201325 an hour.", ["$8-25"], True),             # en dash in the answer
    ("Rates run $8 \u2014 $25.", ["$8 - $25"], True),               # em dash
    ("It is OFFSHORE work.", ["offshore"], True),                   # case-insensitive
    ("the \u201cfollow the sun\u201d model", ['"follow the sun"'], True),
    ("covers   many\n functions", ["many functions"], True),        # whitespace collapsed
    ("\uff08BPO\uff09 means outsourcing", ["(bpo)"], True),         # NFKC full-width brackets
    ("costs $10 an hour", ["$8", "8-25"], False),
    ("nearshore is closer", ["offshore", "nearshore"], True),       # second alternative
])
def test_fact_is_found_after_normalisation_case_insensitively(answer: str, alternatives: list[str],
                                                              found: bool) -> None:
    assert fact_found(answer, alternatives) is found


# -- content words and the 60% rule -------------------------------------------------------------
def test_content_words_drop_the_issue_stop_words_and_keep_money_and_percent() -> None:
    assert STOP_WORDS == set("a an the of and or to in for on is are be by with as at from "
                             "that this it its into than".split())
    assert content_words("The cost of a BPO is $8.50/hour, 30% less than in-house.") == [
        "cost", "bpo", "$8.50", "hour", "30%", "less", "house."]


def test_stop_words_do_not_count_towards_coverage() -> None:
    quote = "The cost of the service is in the contract"   # content: cost, service, contract
    assert coverage("it is in the of the", quote) == 0.0
    assert covers("service cost", quote)                      # 2/3 >= 60%
    assert not covers("the contract is in the", quote)        # 1/3


@pytest.mark.parametrize(("passage", "hit"), [
    ("alpha beta gamma", True),          # 3 of 5 = 60%: the boundary counts
    ("alpha beta", False),               # 2 of 5 = 40%
    ("ALPHA, Beta; gamma delta epsilon", True),
])
def test_sixty_percent_boundary_on_five_words(passage: str, hit: bool) -> None:
    assert covers(passage, "alpha beta gamma delta epsilon") is hit


def test_sixty_percent_boundary_on_ten_words() -> None:
    quote = " ".join(f"w{i}" for i in range(10))
    assert covers(" ".join(f"w{i}" for i in range(6)), quote)
    assert not covers(" ".join(f"w{i}" for i in range(5)), quote)


def test_repeated_quote_words_count_once() -> None:
    assert coverage("cost", "cost cost cost service") == 0.5


def test_quote_without_content_words_needs_its_text() -> None:
    assert covers("Yes, it is.", "it is")
    assert not covers("No.", "it is")


# -- per item -----------------------------------------------------------------------------------
def test_answer_with_all_facts_and_a_covering_citation_passes() -> None:
    it = item(facts=(("$8-25", "8 to 25"), ("philippines",)))
    r = result(it, "Offshore costs $8\u201325 per hour [1] in the Philippines.",
               citations=("Offshore agents cost $8-25 per hour in the Philippines.",),
               ranked=("unrelated text", QUOTE))
    assert r["fact_recall"] == 1.0 and r["cite_hit"] is True and r["passed"]
    assert r["gold_rank"] == 2 and r["missed_facts"] == []


def test_missed_fact_is_reported_with_its_alternatives() -> None:
    it = item(facts=(("$8-25",), ("philippines", "manila")))
    r = result(it, "It costs $8-25.", citations=(QUOTE,))
    assert r["fact_recall"] == 0.5
    assert r["missed_facts"] == [["philippines", "manila"]]
    assert not r["passed"] and "missed philippines / manila" in r["problems"]


def test_item_with_no_facts_is_left_out_of_fact_recall() -> None:
    no_facts = item(facts=(), id="a")
    one_fact = item(id="b")
    rs = [result(no_facts, "Anything [1].", citations=(QUOTE,)),
          result(one_fact, "It is $8-25.", citations=(QUOTE,))]
    assert rs[0]["fact_recall"] is None and rs[0]["passed"]
    s = summarize(rs)
    assert s["fact_recall"] == 1.0 and s["cite_hit"] == 1.0 and s["pass_rate"] == 1.0


def test_dataset_of_only_unanswerable_items_has_no_fact_recall() -> None:
    s = summarize([result(item(answerable=False), "The guides don't cover this.",
                          abstained=True)])
    assert s["fact_recall"] is None and s["cite_hit"] is None and s["mrr"] is None
    assert s["oos_refusal"] == 1.0 and s["false_abstain"] is None


def test_citation_must_cover_the_quote_alone() -> None:
    it = item(quotes=("alpha beta gamma delta epsilon",))
    r = result(it, "$8-25", citations=("alpha beta", "gamma delta"))   # 2/5 each
    assert r["cite_hit"] is False and not r["passed"]


def test_abstained_answerable_item_scores_nothing_and_is_a_false_abstention() -> None:
    it = item(facts=(("offshore",),))
    # the refusal text and its closest passages happen to contain the fact and the quote
    r = result(it, "The guides don't cover this. Closest topics: offshore pricing.",
               abstained=True, citations=(QUOTE,), ranked=(QUOTE,))
    assert r["fact_recall"] == 0.0 and r["cite_hit"] is False
    assert r["gold_rank"] == 1        # retrieval is judged before composition
    assert r["problems"] == ["refused an answerable question"] and not r["passed"]
    s = summarize([r])
    assert s["false_abstain"] == 1.0 and s["median_words"] is None and s["recall@1"] == 1.0


def test_unanswerable_item_passes_only_when_refused() -> None:
    it = item(answerable=False)
    refused = result(it, "The guides don't cover this.", abstained=True)
    answered = result(it, "Teleperformance earns $10B [1].", citations=(QUOTE,))
    assert refused["passed"] and not answered["passed"]
    assert answered["problems"] == ["answered a question the guides don't cover"]
    s = summarize([refused, answered])
    assert s["oos_refusal"] == 0.5 and s["unanswerable"] == 2
    assert s["fact_recall"] is None and s["median_words"] == 3.0


def test_item_that_raised_an_error_fails_everything() -> None:
    ans, unans = item(id="a"), item(answerable=False, id="b")
    rs = [result(ans, None, error="QuestionError: bad", latency_ms=None),
          result(unans, None, error="QuestionError: bad", latency_ms=None)]
    assert not rs[0]["passed"] and rs[0]["problems"] == ["error: QuestionError: bad"]
    s = summarize(rs)
    assert s["errors"] == 2 and s["fact_recall"] == 0.0 and s["cite_hit"] == 0.0
    assert s["oos_refusal"] == 0.0 and s["false_abstain"] == 0.0 and s["recall@5"] == 0.0
    assert s["latency_p50_ms"] is None


# -- retrieval ----------------------------------------------------------------------------------
def test_first_covering_rank_is_one_based() -> None:
    assert first_covering_rank(["x", "y", QUOTE], [QUOTE]) == 3
    assert first_covering_rank(["x"], [QUOTE]) is None
    assert first_covering_rank(["x", QUOTE], ["zzz qqq", QUOTE]) == 2   # any quote


def test_recall_at_k_and_mrr() -> None:
    gold = "alpha beta gamma"

    def ranked_with_gold_at(rank: int | None) -> tuple[str, ...]:
        return tuple(gold if i == rank else f"noise{i}" for i in range(1, 7))

    rs = [result(item(quotes=(gold,), id=str(rank)), "$8-25", citations=(gold,),
                 ranked=ranked_with_gold_at(rank)) for rank in (1, 3, None, 6)]
    s = summarize(rs, top_k=6)
    assert s["recall@1"] == 0.25 and s["recall@3"] == 0.5 and s["recall@5"] == 0.5
    assert s["recall@top_k"] == 0.75
    assert s["mrr"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 6) / 4, abs=1e-4)


def test_items_without_sources_are_left_out_of_cite_hit_and_retrieval() -> None:
    rs = [result(item(quotes=(), id="a"), "$8-25"),
          result(item(id="b"), "$8-25", citations=(QUOTE,), ranked=(QUOTE,))]
    s = summarize(rs)
    assert s["cite_hit"] == 1.0 and s["recall@1"] == 1.0 and s["mrr"] == 1.0


# -- answers and latency ------------------------------------------------------------------------
def test_median_words_counts_answers_that_are_not_refusals_without_markers() -> None:
    assert word_count("Offshore costs $8-25 [1] per hour [2].") == 5
    rs = [result(item(id="a"), "one two [1]"),
          result(item(id="b"), "one two three four [1][2]"),
          result(item(id="c"), "The guides don't cover this at all, sorry.", abstained=True),
          result(item(answerable=False, id="d"), "one two three [1]")]
    assert summarize(rs)["median_words"] == 3.0


def test_latency_percentiles_interpolate() -> None:
    rs = [result(item(id=str(i)), "x", latency_ms=float(ms))
          for i, ms in enumerate([10, 20, 30, 40, 100])]
    s = summarize(rs)
    assert s["latency_p50_ms"] == 30.0
    assert s["latency_p95_ms"] == pytest.approx(88.0)


# -- breakdown and refusal curve ----------------------------------------------------------------
def test_per_category_breakdown_computes_each_category_alone() -> None:
    rs = [result(item(category="pricing", id="a"), "$8-25", citations=(QUOTE,)),
          result(item(category="pricing", id="b"), "no idea"),
          result(item(category="risks", id="c"), "$8-25 here", citations=(QUOTE,)),
          result(item(answerable=False, category="out_of_scope", id="d"), "nope",
                 abstained=True)]
    cats = by_category(rs)
    assert list(cats) == ["out_of_scope", "pricing", "risks"]
    assert cats["pricing"]["fact_recall"] == 0.5 and cats["pricing"]["cite_hit"] == 0.5
    assert cats["risks"]["fact_recall"] == 1.0 and cats["risks"]["items"] == 1
    assert cats["out_of_scope"]["oos_refusal"] == 1.0
    assert cats["out_of_scope"]["fact_recall"] is None
    assert summarize(rs)["fact_recall"] == pytest.approx(2 / 3, abs=1e-4)


def test_refusal_curve_and_auc_from_answerability_scores() -> None:
    rs = [result(item(answerable=False, id="u1"), "x", answerability=0.1),
          result(item(answerable=False, id="u2"), "x", answerability=0.6),
          result(item(id="a1"), "x", answerability=0.5),
          result(item(id="a2"), "x", answerability=0.9),
          result(item(id="err"), None, error="boom", answerability=None)]
    curve = refusal_curve(rs, steps=10)
    at = {p["threshold"]: p for p in curve}
    assert at[0.0] == {"threshold": 0.0, "unanswerable_refused": 0.0, "answerable_refused": 0.0}
    assert at[0.2]["unanswerable_refused"] == 0.5 and at[0.2]["answerable_refused"] == 0.0
    assert at[0.7]["unanswerable_refused"] == 1.0 and at[0.7]["answerable_refused"] == 0.5
    assert at[1.0]["answerable_refused"] == 1.0
    assert refusal_auc(rs) == 0.75      # 3 of the 4 (unanswerable, answerable) pairs ordered
