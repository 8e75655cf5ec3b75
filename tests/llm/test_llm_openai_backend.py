"""The `openai:` backend against a real OpenAI-compatible server: `python -m llama_cpp.server`
running Gemma 270M on a free loopback port (one server for this module), plus a dead server.

The server has a 768-token context, smaller than the 2048 the backend assumes for a local
server: the first question overflows, the backend learns the real size from the server's error
and trims the passages to fit.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from evals.loopback import free_port
from tests.llm.conftest import llm_bot
from tests.llm.llm_support import assert_verified, cite_hit, dev_items

pytestmark = [pytest.mark.llm, pytest.mark.slow]

QUESTIONS = ("d013", "d007")
"""Front office vs back office; BPO vs call centre (Gemma copies the passages closely)."""


@pytest.fixture(scope="module")
def server_bot(corpus_settings: Any, llama_server: str) -> Any:
    return llm_bot(corpus_settings, llm="openai:gemma", openai_base_url=llama_server,
                   llm_timeout=180)


def test_openai_backend_fits_the_servers_context_and_verifies_every_sentence(
        server_bot: Any) -> None:
    gen = server_bot._generator
    assert gen.backend.context_tokens == 2048  # the assumption before the first call
    answers = []
    for item in dev_items(*QUESTIONS):
        ans = server_bot.ask(item["question"])
        answers.append((item, ans))
        assert "context" not in (ans.notice or ""), ans.notice
    assert gen.backend.context_tokens == 768  # learned from the server's overflow error
    generated = [(item, ans) for item, ans in answers if ans.backend == "openai:gemma"]
    assert generated, [a.notice for _, a in answers]
    for item, ans in generated:
        assert_verified(ans, gen.verifier, item["question"])
    assert any(cite_hit(ans, item) for item, ans in generated)
    # Gemma echoes the passage headings; the verifier drops them (they state nothing)
    assert any(ans.removed_sentences for _, ans in answers)


def test_stream_from_the_server_shows_tokens_then_the_verified_answer(server_bot: Any) -> None:
    item = dev_items("d019")[0]
    out = list(server_bot.stream(item["question"]))
    drafts, final = out[:-1], out[-1]
    assert len(drafts) >= 2 and all(isinstance(d, str) for d in drafts)
    assert final.backend in ("openai:gemma", "extractive")
    if final.backend == "openai:gemma":
        assert final.answer != drafts[-1]  # markers renumbered, headings dropped
        assert_verified(final, server_bot._generator.verifier, item["question"])
    else:
        assert final.notice


def test_dead_server_gives_the_extractive_answer_with_a_notice_quickly(
        corpus_settings: Any, bot: Any) -> None:
    port = free_port()  # nothing listens there
    dead = llm_bot(corpus_settings, llm="openai:gemma",
                   openai_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=30)
    question = dev_items("d013")[0]["question"]
    t0 = time.monotonic()
    ans = dead.ask(question)
    assert time.monotonic() - t0 < 10
    assert ans.backend == "extractive"
    assert ans.notice and "cannot reach openai:gemma" in ans.notice
    assert f"127.0.0.1:{port}" in ans.notice
    assert ans.answer == bot.ask(question).answer
    assert ans.verified_sentences is None


def test_slow_answer_is_abandoned_at_the_timeout(corpus_settings: Any, llama_server: str) -> None:
    slow = llm_bot(corpus_settings, llm="openai:gemma", openai_base_url=llama_server,
                   llm_timeout=0.5)
    question = dev_items("d017")[0]["question"]
    t0 = time.monotonic()
    ans = slow.ask(question)
    elapsed = time.monotonic() - t0
    assert ans.backend == "extractive"
    assert ans.notice and "within 0.5 s" in ans.notice
    assert elapsed < 0.5 + 5  # retrieval and composing are the rest
