"""`evals.bench_generate`: a recorded run replays without the model, and `--live` sends only
the prompts the record does not hold to it (the shipped fake backend stands in for an LLM)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench(env: dict[str, str], *args: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run([sys.executable, "-m", "evals.bench_generate", *args, "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout[out.stdout.index("{"):])


def test_replay_with_live_generates_only_the_prompts_not_recorded(corpus_settings,
                                                                  tmp_path: Path) -> None:
    items = [json.loads(line) for line in
             (ROOT / "evals/datasets/dev.jsonl").read_text(encoding="utf-8").splitlines()]
    data = tmp_path / "small.jsonl"
    answerable = [i for i in items if i["answerable"]][:3]
    data.write_text("".join(json.dumps(i) + "\n" for i in answerable), encoding="utf-8")
    env = {**os.environ, "BPO_KB_DATA_DIR": str(corpus_settings.data_dir)}
    drafts = tmp_path / "drafts.jsonl"
    first = _bench(env, str(data), "--llm", "fake:echo", "--drafts", str(drafts))
    assert first["speed"]["llm_calls"] == 3 and first["speed"]["live_calls"] is None
    records = [json.loads(x) for x in drafts.read_text(encoding="utf-8").splitlines()]
    partial = tmp_path / "partial.jsonl"  # as if the first question's prompt had changed
    partial.write_text("".join(json.dumps(r) + "\n" for r in records[1:]), encoding="utf-8")

    replayed = _bench(env, str(data), "--llm", "fake:echo", "--replay", str(partial))
    assert replayed["speed"]["items"] == 2 and replayed["speed"]["live_calls"] == 0
    again = tmp_path / "again.jsonl"
    both = _bench(env, str(data), "--llm", "fake:echo", "--replay", str(partial), "--live",
                  "--drafts", str(again))
    assert both["speed"]["items"] == 3 and both["speed"]["live_calls"] == 1
    rerecorded = {r["prompt"]: r for r in map(json.loads, again.read_text().splitlines())}
    for r in records[1:]:  # a replayed answer keeps the times of the run that generated it
        assert rerecorded[r["prompt"]]["ttft_s"] == r["ttft_s"]
    assert both["overall"]["fact_recall"] == first["overall"]["fact_recall"]
    assert both["speed"]["generated"] == first["speed"]["generated"]
