"""The in-process llama.cpp backend with the real Gemma 270M (`gemma-270m`, `llamacpp:<path>`).

Gemma 270M is a small base model: it paraphrases passages, invents, and answers yes/no
questions wrongly. These tests show the verifier keeping what a passage supports (with the
marker pointing at that passage), removing the rest, and falling back to the extractive
answer when nothing is left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.llm.conftest import llm_bot
from tests.llm.llm_support import assert_verified, cite_hit, dev_items

pytestmark = [pytest.mark.llm, pytest.mark.slow]

# Answerable dev questions: Gemma answers them in part correctly.
GENERATED = ("d007", "d019", "d039")
WRONG = "d005"  # asked of the fake model that invents everything


@pytest.fixture(scope="module")
def gemma_bot(corpus_settings: Any, gemma_gguf: Path) -> Any:
    return llm_bot(corpus_settings, llm="gemma-270m", llm_timeout=180)


@pytest.fixture(scope="module")
def runs(gemma_bot: Any) -> dict[str, tuple[dict[str, Any], list[str], Any]]:
    """Each question streamed once: (item, drafts, final answer)."""
    out = {}
    for item in dev_items(*GENERATED):
        items = list(gemma_bot.stream(item["question"]))
        drafts = [x for x in items if isinstance(x, str)]
        out[item["id"]] = (item, drafts, items[-1])
    return out


def test_gemma_answers_keep_only_verified_sentences_citing_the_gold_passage(
        gemma_bot: Any, runs: dict[str, Any]) -> None:
    verifier = gemma_bot._generator.verifier
    generated = [(item, ans) for item, _, ans in (runs[i] for i in GENERATED)
                 if ans.backend == "gemma-270m"]
    assert len(generated) >= 2, [runs[i][2].notice for i in GENERATED]
    for item, ans in generated:
        assert_verified(ans, verifier, item["question"])
    assert sum(cite_hit(ans, item) for item, ans in generated) >= 2


def test_verifier_removes_sentences_gemma_invented(runs: dict[str, Any]) -> None:
    removed = [(s, drafts[-1]) for _, drafts, ans in runs.values() for s in ans.removed_sentences]
    assert removed, "Gemma 270M wrote nothing unsupported?"
    for sentence, draft in removed:
        assert sentence.rstrip(".")[:25] in draft.replace("\u2019", "'")  # it was written...
    for _, _, ans in runs.values():
        for sentence in ans.removed_sentences:
            assert sentence not in ans.answer  # ...and is not shown


def test_unmarked_sentences_are_pointed_at_the_passage_that_supports_them(
        gemma_bot: Any, runs: dict[str, Any]) -> None:
    gen = gemma_bot._generator
    pointed = 0
    for i in GENERATED:
        item, drafts, ans = runs[i]
        if ans.backend != "gemma-270m":
            continue
        base, _, turns, hits = gemma_bot._extractive(item["question"], [])
        prompt = gen._prompt(item["question"], turns, hits, base)
        v = gen.verifier.verify(drafts[-1], [p.as_passage() for p in prompt.passages],
                                question=item["question"])
        by_prompt = {p.marker: p.hit.chunk.chunk_id for p in prompt.passages}
        cited_ids = {c.chunk_id for c in ans.citations}
        for c in v.kept:
            assert by_prompt[c.marker] in cited_ids  # renumbered, but the same passage
            pointed += c.repointed
    assert pointed >= 1


def test_answer_with_nothing_verified_is_the_extractive_one_with_a_notice(
        corpus_settings: Any, bot: Any) -> None:
    """A model whose every sentence is invented (the shipped fake, deterministic) gets the
    extractive answer, with a notice and the removed sentences."""
    from generate.fake import INVENTED

    item = dev_items(WRONG)[0]
    fake = llm_bot(corpus_settings, llm=f"fake:{INVENTED}")
    ans = fake.ask(item["question"])
    assert ans.backend == "extractive"
    assert ans.verified_sentences == 0
    assert ans.removed_sentences == (INVENTED,)
    assert ans.notice and "None of the" in ans.notice
    assert ans.answer == bot.ask(item["question"]).answer
    assert cite_hit(ans, item)


def test_stream_yields_the_growing_draft_then_the_verified_answer(runs: dict[str, Any]) -> None:
    for _, drafts, ans in runs.values():
        assert len(drafts) >= 2
        assert all(b.startswith(a) for a, b in zip(drafts, drafts[1:], strict=False))
        assert not isinstance(ans, str)


def test_show_unsupported_keeps_and_marks_the_unsupported_sentences(corpus_settings: Any
                                                                   ) -> None:
    from generate.fake import INVENTED
    from generate.generator import UNSUPPORTED_MARK

    item = dev_items(*GENERATED)[0]
    removed = llm_bot(corpus_settings, llm="fake:invent").ask(item["question"])
    shown = llm_bot(corpus_settings, llm="fake:invent", show_unsupported=True).ask(
        item["question"])
    assert INVENTED in removed.removed_sentences and INVENTED not in removed.answer
    assert f"{INVENTED.rstrip('.')}. {UNSUPPORTED_MARK}" in shown.answer or \
        UNSUPPORTED_MARK in shown.answer
    assert shown.removed_sentences == removed.removed_sentences
    assert shown.verified_sentences == removed.verified_sentences
    assert "marked" in (shown.notice or "")


def test_llamacpp_spec_runs_a_gguf_file_in_process(corpus_settings: Any,
                                                    gemma_gguf: Path) -> None:
    spec = f"llamacpp:{gemma_gguf}"
    item = dev_items("d019")[0]
    b = llm_bot(corpus_settings, llm=spec, llm_timeout=180)
    assert b._generator.name == spec
    assert b._generator.backend.completion  # no chat template in the GGUF: a base model
    ans = b.ask(item["question"])
    if ans.backend == spec:
        assert_verified(ans, b._generator.verifier, item["question"])
    else:  # all it wrote was unsupported
        assert ans.backend == "extractive" and ans.verified_sentences == 0 and ans.notice


def replace_settings(settings: Any, **changes: Any) -> Any:
    return settings.model_copy(update=changes)
