"""`qwen-1.5b`: the real Qwen2.5-Coder-1.5B-Instruct in process (llama.cpp), over the corpus.

One question it answers - every sentence shown is verified against the passage its [n] points
at - and one the guides don't cover, refused before any LLM call. Skipped, with the install
command, only where the model's part packages are not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.llm.conftest import llm_bot
from tests.llm.llm_support import assert_verified, cite_hit, dev_items

pytestmark = [pytest.mark.llm, pytest.mark.slow]

ANSWERED = "d043"  # "How much does BPO cost per hour?" - the $8-$25 passage
REFUSED = "d157"  # "What's Teleperformance's annual revenue?" - not in the guides


@pytest.fixture(scope="module")
def qwen_bot(corpus_settings: Any, qwen_gguf: Path) -> Any:
    b = llm_bot(corpus_settings, llm="qwen-1.5b", llm_timeout=300, llm_max_tokens=120)
    calls: list[str] = []
    real = b._generator.backend.stream

    def counted(prompt: Any, **kwargs: Any) -> Any:
        calls.append(prompt.user)
        return real(prompt, **kwargs)

    b._generator.backend.stream = counted
    b.llm_calls = calls
    return b


def test_qwen_answers_with_verified_sentences_citing_the_passage(qwen_bot: Any) -> None:
    item = dev_items(ANSWERED)[0]
    items = list(qwen_bot.stream(item["question"]))
    drafts, ans = [x for x in items if isinstance(x, str)], items[-1]
    assert len(drafts) >= 2 and all(b.startswith(a) for a, b in zip(drafts, drafts[1:],
                                                                   strict=False))
    assert ans.backend == "qwen-1.5b", ans.notice
    assert_verified(ans, qwen_bot._generator.verifier, item["question"])
    assert "$8" in ans.answer and cite_hit(ans, item)
    d = ans.to_dict()  # the `ask --json` row
    assert d["backend"] == "qwen-1.5b" and d["verified_sentences"] >= 1
    assert isinstance(d["removed_sentences"], list)


def test_qwen_is_not_called_for_a_question_the_guides_do_not_cover(qwen_bot: Any) -> None:
    item = dev_items(REFUSED)[0]
    before = len(qwen_bot.llm_calls)
    ans = qwen_bot.ask(item["question"])
    assert ans.abstained and ans.backend == "extractive"
    assert len(qwen_bot.llm_calls) == before


def test_qwen_backend_is_the_instruct_model_with_its_chat_template(qwen_bot: Any) -> None:
    backend = qwen_bot._generator.backend
    assert not backend.completion  # the GGUF's chat template: chat messages, not a completion
    assert backend.llm.metadata.get("general.name") == "Qwen2.5 Coder 1.5B Instruct GGUF"
    assert backend.max_passages == 3
