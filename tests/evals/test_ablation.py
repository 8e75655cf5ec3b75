"""The ablation command runs variants in separate processes and prints one row per dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ablation_switches_one_part_off(corpus_settings, tmp_path: Path) -> None:
    items = [json.loads(line) for line in
             (ROOT / "evals/datasets/dev.jsonl").read_text(encoding="utf-8").splitlines()]
    small = [i for i in items if i["answerable"]][:4] + [i for i in items
                                                        if not i["answerable"]][:2]
    data = tmp_path / "small.jsonl"
    data.write_text("".join(json.dumps(i) + "\n" for i in small), encoding="utf-8")
    env = {**os.environ, "BPO_KB_DATA_DIR": str(corpus_settings.data_dir)}
    out = subprocess.run([sys.executable, "-m", "evals.ablation", str(data),
                          "--variants", "full,similarity_refusal,no_list_shape"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    rows = [line for line in out.stdout.splitlines() if line.startswith("| full")
            or line.startswith("| similarity_refusal")]
    assert len(rows) == 2, out.stdout
    assert "| no_list_shape |" in out.stdout, out.stdout  # one question shape read as "other"
    sim = rows[1].split("|")
    assert sim[-2].strip() != "-" and sim[-3].strip() != "-"  # oos at 3% / 5% reported
    bad = subprocess.run([sys.executable, "-m", "evals.ablation", str(data), "--variants",
                          "no_such_part"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "no_such_part" in bad.stderr
