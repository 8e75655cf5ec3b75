"""Choosing an answer backend with BPO_KB_LLM: the extractive default, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bpo_kb import ConfigError
from generate import make_generator


def test_extractive_default_has_no_generator(settings: Any) -> None:
    assert settings.llm == "extractive"
    assert make_generator(settings) is None


@pytest.mark.parametrize(("spec", "message"), [
    ("gpt4", "known: extractive, openai:<model>, ollama:<model>, llamacpp:<path.gguf>, "
             "gemma-270m"),
    ("openai:", "names no model"),
    ("llamacpp:", "names no model file"),
    ("llamacpp:/nowhere/model.gguf", "'/nowhere/model.gguf' does not exist"),
    ("openai:gpt-4o-mini", "needs OPENAI_API_KEY"),
])
def test_bad_backend_setting_says_what_to_do(settings: Any, spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match="BPO_KB_LLM=") as e:
        make_generator(settings.model_copy(update={"llm": spec}))
    assert message in str(e.value)


def test_non_gguf_file_is_a_config_error(settings: Any, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load"):
        make_generator(settings.model_copy(update={"llm": f"llamacpp:{bogus}"}))


def test_openai_backend_needs_no_key_for_a_local_server(settings: Any) -> None:
    pytest.importorskip("langchain_openai")
    gen = make_generator(settings.model_copy(update={
        "llm": "openai:llama3.2", "openai_base_url": "http://127.0.0.1:11434/v1"}))
    assert gen is not None and gen.name == "openai:llama3.2"
    assert gen.backend.context_tokens == 2048  # assumed until the server reports its own
    ollama = make_generator(settings.model_copy(update={"llm": "ollama:llama3.2"}))
    assert ollama is not None and ollama.backend.base_url == "http://127.0.0.1:11434/v1"


def test_ask_json_rows_carry_backend_and_the_verifier_counts(corpus_settings: Any) -> None:
    import json

    from click.testing import CliRunner

    from cli import main

    spec = ("fake:Offshore labor-intensive work may range from $8-$25 per hour. [1] "
            "Outsourcing was invented on the Moon in 1802 by a committee of penguins. [1]")
    env = {"BPO_KB_DATA_DIR": str(corpus_settings.data_dir), "BPO_KB_LLM": spec}
    result = CliRunner().invoke(main, ["ask", "--json", "How much does BPO cost per hour?"],
                                env=env)
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["backend"] == spec, row["notice"]
    assert row["verified_sentences"] >= 1
    assert any("Moon" in s for s in row["removed_sentences"])  # the invented sentence
    assert "Moon" not in row["answer"]


def test_a_paraphrase_that_drops_a_name_shows_the_passage_unit_instead(
        corpus_settings: Any) -> None:
    """The model shortens "SIAM (Service Integration and Management) - A management framework
    ..." and loses the expansion: the answer shows the unit it paraphrased, cited, once."""
    from tests.llm.conftest import llm_bot

    spec = ("fake:SIAM is a management framework for organizations that source services from "
            "multiple external providers. [1] SIAM is a framework for organizations that source "
            "services from multiple external providers. [1]")
    ans = llm_bot(corpus_settings, llm=spec).ask("What's SIAM?")
    assert ans.backend == spec, ans.notice
    assert ans.answer.count("SIAM (Service Integration and Management)") == 1, ans.answer
    assert "SIAM is a management framework" not in ans.answer
    assert ans.answer.split("[")[0].startswith("SIAM (Service Integration")


@pytest.mark.parametrize(("spec", "badge"), [
    ("qwen-1.5b", "Answers: Qwen2.5-Coder-1.5B-Instruct (local)"),
    ("gemma-270m", "Answers: Gemma 3 270M (local)"),
    ("extractive", "Answers: quotes from the guides (offline)"),
    ("ollama:llama3.2", "Answers: ollama:llama3.2"),
])
def test_ui_backend_badge_names_the_model(bot: Any, settings: Any, spec: str,
                                          badge: str) -> None:
    import ui

    app = ui._App(bot, settings.model_copy(update={"llm": spec}))
    assert badge in app.header()
