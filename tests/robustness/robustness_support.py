"""Helpers for the robustness tests: the check of the `ask --json` contract every answer must
meet and the real `bpo-kb` CLI as a subprocess (a real Chroma server: `evals.loopback`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
BIN = Path(sys.executable).parent
BPO_KB = str(BIN / "bpo-kb")

CONTRACT_KEYS = {"question", "answer", "abstained", "citations", "retrieval_query",
                 "latency_ms", "backend"}
CITATION_KEYS = {"marker", "doc", "title", "section", "text", "start", "end", "score"}
MARKER = re.compile(r"\[(\d+)\]")


def check_contract(d: dict[str, Any]) -> None:
    """Assert `d` is a well-formed `Answer.to_dict()` (the `ask --json` contract)."""
    assert CONTRACT_KEYS <= set(d), f"missing keys {CONTRACT_KEYS - set(d)} in {d}"
    assert isinstance(d["question"], str) and d["question"].strip()
    assert isinstance(d["answer"], str) and d["answer"].strip()
    assert isinstance(d["abstained"], bool)
    assert isinstance(d["retrieval_query"], str)
    assert isinstance(d["latency_ms"], int | float) and d["latency_ms"] >= 0
    assert isinstance(d["backend"], str) and d["backend"]
    markers = []
    for c in d["citations"]:
        assert CITATION_KEYS <= set(c), f"citation lacks {CITATION_KEYS - set(c)}: {c}"
        assert isinstance(c["marker"], int) and c["marker"] >= 1
        assert all(isinstance(c[k], str) for k in ("doc", "title", "section", "text"))
        assert c["doc"] and c["text"]
        assert isinstance(c["score"], int | float)
        if c["start"] is None or c["end"] is None:
            assert c["start"] is None and c["end"] is None, c
        else:
            assert 0 <= c["start"] < c["end"] <= len(c["text"]), (c["start"], c["end"], c["text"])
        markers.append(c["marker"])
    assert len(markers) == len(set(markers)), f"duplicate citation markers {markers}"
    in_text = {int(m) for m in MARKER.findall(d["answer"])}
    if d["abstained"]:
        assert not in_text, f"a refusal cites {in_text}: {d['answer']!r}"
    else:
        assert d["citations"], "an answer without citations"
        assert in_text == set(markers), f"markers {in_text} in text vs citations {markers}"
    # everything must survive the trip to UTF-8 (stdout, files, HTTP)
    import json

    json.dumps(d, ensure_ascii=False).encode("utf-8")


def comparable(d: dict[str, Any]) -> dict[str, Any]:
    """What two runs of the same question must agree on (not latency)."""
    return {"answer": d["answer"], "abstained": d["abstained"],
            "citations": [(c["marker"], c["doc"], c["section"], c["start"], c["end"], c["text"])
                          for c in d["citations"]]}


def cli_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment for a `bpo-kb` subprocess: offline, its own data dir, no leaked BPO_KB_*."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BPO_KB_") and k != "OPENAI_API_KEY"}
    env.update({"BPO_KB_DATA_DIR": str(data_dir), "BPO_KB_CORPUS_DIR": str(CORPUS),
                "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_PROXY": "*",
                "TOKENIZERS_PARALLELISM": "false", "PYTHONWARNINGS": "ignore"})
    env.update({f"BPO_KB_{k.upper()}": v for k, v in settings.items()})
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BPO_KB, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or REPO)


def copy_index(src_data_dir: Path, dst_data_dir: Path) -> None:
    """Copy a data dir's index (not its lock) so a test can change or break it."""
    dst_data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src_data_dir / "index", dst_data_dir / "index")
