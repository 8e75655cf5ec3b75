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
