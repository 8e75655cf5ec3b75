"""The cross-encoder (bot/cross_encoder.py): the bundled ONNX model scores for real, a bad
`BPO_KB_CROSS_ENCODER` says what is wrong, and the second stage of the unit ranker reads it
for list questions only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cross_encoder import BUNDLED, make_cross_encoder
from bpo_kb import ConfigError


def test_bundled_cross_encoder_scores_the_answering_sentence_highest() -> None:
    encoder = make_cross_encoder(f"onnx:{BUNDLED}")
    assert encoder is not None
    scores = encoder.score("How long is the probation period for new staff?", [
        "The office kitchen is cleaned every Friday afternoon.",
        "New employees complete a probation period of 6 months.",
        "Probation is a word with a long history in criminal law.",
    ])
    assert scores.shape == (3,)
    assert int(scores.argmax()) == 1
    assert encoder.score("anything", []).shape == (0,)


@pytest.mark.parametrize("spec", ["none", "None", "", "off"])
def test_no_cross_encoder_is_none(spec: str) -> None:
    assert make_cross_encoder(spec) is None


@pytest.mark.parametrize(("spec", "message"), [
    ("ms-marco-MiniLM-L-12-v2", "is not onnx:<model>"),
    ("torch:ms-marco-MiniLM-L-12-v2", "is not onnx:<model>"),
    ("onnx:", "is not onnx:<model>"),
    ("onnx:/nonexistent/cross-encoder", "is not a folder"),
])
def test_bad_cross_encoder_setting_says_what_to_set(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        make_cross_encoder(spec)
    assert "none" in str(err.value)


def test_cross_encoder_folder_without_model_names_the_missing_file(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="model.onnx is missing"):
        make_cross_encoder(f"onnx:{tmp_path}")


def test_second_stage_reads_list_questions_and_the_refusal_the_best_unit(bot) -> None:  # type: ignore[no-untyped-def]
    """A list question's best units are re-scored with the cross-encoder; any other question
    keeps the first stage's order and only its best unit is read, for the refusal model."""
    listing = bot.read("What are the main risks of outsourcing and how do I manage them?")
    other = bot.read("What does offshore customer support cost per hour?")
    assert listing.shape == "list" and other.shape != "list"
    ranked = bot.rank(listing, bot.retrieve(listing))
    read = [c for c in ranked if c.cross is not None]
    assert 1 < len(read) <= bot._ranker.cross_units
    hits = bot.retrieve(other)
    ranked = bot.rank(other, hits)
    first = bot._ranker.first_stage(hits, other, bot.vocab, bot.similarity)
    assert [c.unit for c in ranked] == [c.unit for c in first]
    assert ranked[0].cross is not None and all(c.cross is None for c in ranked[1:])
    assert bot.assess(other, hits, ranked)[1].cross == ranked[0].cross / 10


def test_bot_without_cross_encoder_answers_lists_too(corpus_settings) -> None:  # type: ignore[no-untyped-def]
    from bot import Bot

    plain = Bot.open(corpus_settings.model_copy(update={"cross_encoder": "none"}))
    q = "What are the main risks of outsourcing and how do I manage them?"
    parsed = plain.read(q)
    assert all(c.cross is None for c in plain.rank(parsed, plain.retrieve(parsed)))
    ans = plain.ask(q)
    assert not ans.abstained and ans.citations
