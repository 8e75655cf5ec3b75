"""The README stays true: every setting is in its table, and its quick start is two commands."""

from __future__ import annotations

import re
from pathlib import Path

from bpo_kb import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    rows = set(re.findall(r"^\| `([A-Z_]+)`", README, flags=re.M))
    for name in Settings.model_fields:
        env = "OPENAI_API_KEY" if name == "openai_api_key" else f"BPO_KB_{name.upper()}"
        assert env in rows or f"`{env}`" in README, f"{env} is missing from the README table"


def test_quick_start_is_make_run_and_make_test() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert re.search(r"^\s+make run\b", quick, flags=re.M)
    assert re.search(r"^\s+make test\b", quick, flags=re.M)
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci
