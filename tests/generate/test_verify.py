"""The claim verifier: sentences, markers, figures, and support against real corpus passages
with the real bundled embedder."""

from __future__ import annotations

from typing import Any

import pytest

from bot.figures import figures_in
from generate.claims import split_claims
from generate.evidence import missing_figures, missing_names, negation_mismatch
from generate.verify import Passage, Verifier

PHILIPPINES = ("- Philippines (offshore): Largest CX/customer service BPO destination \u2014 1.7M BPO "
               "employees, $35B+ industry (IBPAP 2023). Strong English proficiency (ranked 22nd "
               "globally, EF EPI). Strong in U.S. voice customer service, healthcare revenue cycle "
               "management, insurance back-office. City hubs: Metro Manila, Cebu, Davao.")
PRICING = ("BPO pricing varies by function, geography, volume, and technology involvement. "
           "Offshore labor-intensive work may range from $8-$25 per hour, while specialized "
           "financial or legal process outsourcing commands higher rates.")
INDUSTRIES = ("Business process outsourcing is not industry-specific. Virtually every sector "
              "leverages BPO to drive efficiency and manage operational complexity.")


@pytest.fixture(scope="module")
def verifier(embedder: Any) -> Verifier:
    return Verifier(embedder)


def test_verifier_precision_and_recall_on_hand_made_pairs(embedder: Any) -> None:
    from evals.verify_bench import load_pairs, run

    pairs = load_pairs()
    assert len(pairs) >= 40
    kinds = {p["kind"] for p in pairs}
    assert {"exact", "paraphrase", "subset", "number", "entity", "negation", "unrelated",
            "comparison"} <= kinds
    summary, _ = run(pairs)
    print(f"\nverifier on {summary['pairs']} pairs: precision {summary['precision']:.3f} "
          f"recall {summary['recall']:.3f} unsupported removed "
          f"{summary['unsupported_removed']:.3f}")
    assert summary["precision"] >= 0.9
    assert summary["recall"] >= 0.9


def test_verifier_on_held_out_pairs_stays_above_its_recorded_floor(embedder: Any) -> None:
    from evals.verify_bench import HELDOUT, load_pairs, run

    summary, _ = run(load_pairs(HELDOUT))
    print(f"\nverifier on {summary['pairs']} held-out pairs: precision "
          f"{summary['precision']:.3f} recall {summary['recall']:.3f}")
    assert summary["precision"] >= 0.7  # recorded: 0.722 / 0.867 (blind spots: see README)
    assert summary["recall"] >= 0.8


def test_verifier_keeps_a_real_models_supported_sentences_and_little_else(embedder: Any
                                                                       ) -> None:
    from evals.verify_bench import QWEN_HELDOUT, QWEN_TUNING, load_pairs, run

    tuning, heldout = load_pairs(QWEN_TUNING), load_pairs(QWEN_HELDOUT)
    assert len(tuning) + len(heldout) >= 150
    assert all(p.get("reason") for p in tuning + heldout)  # each label says why
    summary, _ = run(heldout)
    print(f"\nverifier on {summary['pairs']} held-out Qwen pairs: precision "
          f"{summary['precision']:.3f} recall {summary['recall']:.3f}")
    assert summary["precision"] >= 0.9  # recorded: 1.000 / 0.852
    assert summary["recall"] >= 0.85


def test_verifier_bench_pairs_quote_the_corpus_verbatim() -> None:
    from evals.verify_bench import HELDOUT, QWEN_HELDOUT, QWEN_TUNING, load_pairs
    from tests.conftest import CORPUS

    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.glob("*.txt")}
    for p in load_pairs() + load_pairs(HELDOUT) + load_pairs(QWEN_TUNING) + load_pairs(QWEN_HELDOUT):
        for line in p["passage"].split("\n"):
            assert line in texts[p["doc"]], (p["id"], line[:60])


@pytest.mark.parametrize(("sentence", "passage", "reason"), [
    ("Offshore labor-intensive work may range from $10 to $30 per hour.", PRICING, "figures"),
    ("India has about 1.7M BPO employees.", PHILIPPINES, "names"),
    ("Business process outsourcing is industry-specific.", INDUSTRIES, "negation"),
    ("Specialized financial outsourcing commands lower rates than offshore labor-intensive work.",
     PRICING, "comparison"),
    ("Samuel Morse invented the telephone.", PRICING, "names"),
    ("What does BPO cost per hour?", PRICING, "question"),
])
def test_unsupported_sentence_is_rejected_with_its_reason(verifier: Verifier, sentence: str,
                                                          passage: str, reason: str) -> None:
    s = verifier.support(sentence, Passage(1, passage))
    assert not s.supported
    assert reason in s.reason


@pytest.mark.parametrize("sentence", [
    "Offshore labor-intensive work may range from $8-$25 per hour.",
    "Offshore work that is labor-intensive can cost between $8 and $25 an hour.",
    "The Philippines has about 1.7 million BPO employees.",
    "Virtually every sector uses BPO, which is not specific to one industry.",
])
def test_supported_sentence_is_kept(verifier: Verifier, sentence: str) -> None:
    passages = {"$8": PRICING, "Philippines": PHILIPPINES, "sector": INDUSTRIES}
    text = next(v for k, v in passages.items() if k in sentence)
    s = verifier.support(sentence, Passage(1, text))
    assert s.supported, s.reason
    assert 0 <= s.start < s.end <= len(text)


def test_figures_are_compared_by_value() -> None:
    assert {f.scaled for f in figures_in("$1.7M")} == {1.7e6}
    assert not missing_figures("about 1.7 million staff", "1.7M BPO employees")
    assert not missing_figures("$8 to $25 per hour", "from $8-$25 per hour")
    assert not missing_figures("$8-25/hour", "between 8 and 25 dollars")
    assert missing_figures("$35 million", "a $35B+ industry") == ["$35 million"]
    assert missing_figures("$8-$30 per hour", "from $8-$25 per hour") == ["$8-$30"]
    assert missing_figures("three tiers", "3 tiers") == []


def test_names_and_negation_checks() -> None:
    assert missing_names("Gartner reports growth of 8.5%.", "Grand View Research reports") == [
        "Gartner"]
    assert missing_names("India and the Philippines dominate.", "the Philippines dominates") == [
        "India"]
    assert not missing_names("Singapore works as a regional-HQ base.",
                             "Singapore works well as a regional-HQ base")
    assert negation_mismatch("BPO allows businesses to scale.",
                             "BPO does not allow businesses to scale.")
    assert not negation_mismatch("BPO is not industry-specific.",
                                 "Business process outsourcing is not industry-specific.")


def test_split_claims_gives_each_marker_to_its_sentence() -> None:
    claims = split_claims("Offshore work costs $8-$25 per hour [2]. The Philippines has 1.7M "
                          "employees. [1] E.g. Manila and Cebu are hubs [1, 3].\n[4] A line "
                          "that starts with its marker.\nQuestion: is this cut")
    assert [c.cited for c in claims] == [(2,), (1,), (1, 3), (4,), ()]
    assert claims[0].text == "Offshore work costs $8-$25 per hour."
    assert claims[2].text.startswith("E.g. Manila")
    assert [c.complete for c in claims] == [True, True, True, True, False]


def test_a_sentence_ending_in_a_quoted_question_is_its_own_claim() -> None:
    """'...is "a job for a virtual assistant?" A virtual assistant is... [1]' are two claims:
    as one, the second sentence was checked against the first one's passage only."""
    claims = split_claims('The question is "is this a job for a virtual assistant?" A virtual '
                          "assistant is one remote person. [1] He said \u201cfine.\u201d "
                          "\u201cThen\u201d it ended. [2]")
    assert [(c.text, c.cited) for c in claims] == [
        ('The question is "is this a job for a virtual assistant?"', ()),
        ("A virtual assistant is one remote person.", (1,)),
        ('He said "fine."', ()), ('"Then" it ended.', (2,))]


def test_split_claims_drops_repeats_and_fragments() -> None:
    claims = split_claims("BPO cuts costs. [1]\nBPO cuts costs. [1]\n[2]\nOk.\n- Payroll and "
                          "bookkeeping services\n- Customer support services")
    assert [c.text for c in claims] == ["BPO cuts costs.", "Payroll and bookkeeping services",
                                        "Customer support services"]
    assert claims[1].bullet and claims[1].complete


def test_verify_repoints_a_wrong_marker_and_removes_an_unsupported_sentence(
        verifier: Verifier) -> None:
    passages = [Passage(1, PRICING, "What Is BPO?\nHow much does BPO cost?"),
                Passage(2, PHILIPPINES, "Understanding BPO\nTop destinations")]
    answer = ("Offshore labor-intensive work may range from $8-$25 per hour [2]. The "
              "Philippines has 1.7M BPO employees [2]. BPO always costs $5 per hour [1].")
    v = verifier.verify(answer, passages, question="How much does BPO cost?")
    assert [c.marker for c in v.claims] == [1, 2, None]
    assert v.claims[0].repointed and not v.claims[1].repointed
    assert [c.claim.text for c in v.removed] == ["BPO always costs $5 per hour."]
    assert v.claims[2].support is not None and "figures" in v.claims[2].support.reason


def test_claim_that_restates_the_question_is_not_supported(verifier: Verifier) -> None:
    p = Passage(1, "BPO is the slice of outsourcing that concerns ongoing business processes.",
                "Guide\nIs BPO the same thing as outsourcing?")
    v = verifier.verify("Yes, BPO is the same thing as outsourcing.", [p],
                        question="is BPO the same thing as outsourcing?")
    assert not v.kept
