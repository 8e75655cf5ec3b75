"""Benchmark of the foundation: ingest time, warm answer latency, cold `bpo-kb ask` time.

    python -m evals.bench_answer                     # all three, 50 questions, 3 cold runs
    python -m evals.bench_answer --questions 196 --cold-runs 5 --json

(a) full ingest of the corpus into a fresh temporary data dir (the embedder is loaded first
    and timed apart), then a re-ingest of the unchanged corpus (must embed 0 chunks);
(b) warm in-process `Bot.ask` latency, p50/p95 over the first N questions of the dataset
    (history included, answer composition included), after one warm-up question;
(c) cold `bpo-kb ask --json` wall time as a subprocess over the index built in (a).

Numbers depend on the machine and its load: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "run"]

DEFAULT_DATASET = Path(__file__).resolve().parent / "datasets" / "dev.jsonl"
COLD_QUESTION = "What is the difference between BPO and BPM?"


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def _bpo_kb() -> list[str]:
    script = Path(sys.executable).parent / "bpo-kb"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _questions(dataset: Path, n: int) -> list[dict[str, Any]]:
    rows = []
    with dataset.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if len(rows) >= n:
                break
    return rows


def run(*, dataset: Path = DEFAULT_DATASET, questions: int = 50, cold_runs: int = 3,
        keep: Path | None = None) -> dict[str, Any]:
    """Run the three measurements and return them as a dict (see the module docstring)."""
    from bot import Bot
    from bpo_kb import Settings
    from ingest import ingest, make_embedder

    out: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    tmp = Path(tempfile.mkdtemp(prefix="bpo-kb-bench-"))
    data_dir = keep or tmp / "data"
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise SystemExit(f"--keep {str(keep)!r} is not empty; give a new or empty folder")
    try:
        settings = Settings(data_dir=data_dir)
        out["corpus_dir"] = str(settings.corpus_dir)

        # (a) ingest
        t0 = time.perf_counter()
        assert make_embedder(settings.embedder).dim > 0  # loads torch + the model (lazy)
        out["embedder_load_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = ingest(settings)
        out["ingest_s"] = time.perf_counter() - t0
        out["documents"] = report.documents
        out["chunks"] = report.chunks
        out["embedded"] = report.embedded
        out["embedded_units"] = getattr(report, "embedded_units", None)
        out["duplicates"] = report.duplicates
        t0 = time.perf_counter()
        again = ingest(settings)
        out["reingest_s"] = time.perf_counter() - t0
        out["reingest_embedded"] = again.embedded
        out["reingest_up_to_date"] = again.up_to_date

        # (b) warm in-process latency
        t0 = time.perf_counter()
        bot = Bot.open(settings)
        out["bot_open_s"] = time.perf_counter() - t0
        items = _questions(dataset, questions)
        bot.ask("What is BPO?")  # warm-up: first-call costs (tokenizer, caches) not counted
        latencies = []
        abstained = 0
        for item in items:
            t0 = time.perf_counter()
            ans = bot.ask(item["question"], item.get("history") or [])
            latencies.append((time.perf_counter() - t0) * 1000)
            abstained += ans.abstained
        out["warm_n"] = len(latencies)
        out["warm_p50_ms"] = _percentile(latencies, 50)
        out["warm_p95_ms"] = _percentile(latencies, 95)
        out["warm_max_ms"] = max(latencies) if latencies else float("nan")
        out["warm_abstained"] = abstained

        # (c) cold CLI
        env = {**os.environ, "BPO_KB_DATA_DIR": str(data_dir),
               "BPO_KB_CORPUS_DIR": str(settings.corpus_dir)}
        walls = []
        for _ in range(cold_runs):
            t0 = time.perf_counter()
            proc = subprocess.run([*_bpo_kb(), "ask", "--json", COLD_QUESTION], env=env,
                                  capture_output=True, text=True, timeout=600)
            walls.append(time.perf_counter() - t0)
            if proc.returncode != 0 or "citations" not in json.loads(proc.stdout or "{}"):
                raise RuntimeError(f"bpo-kb ask failed ({proc.returncode}): {proc.stderr[-2000:]}")
        out["cold_runs"] = len(walls)
        out["cold_median_s"] = statistics.median(walls) if walls else float("nan")
        out["cold_min_s"] = min(walls) if walls else float("nan")
        out["cold_max_s"] = max(walls) if walls else float("nan")
        out["load_after"] = os.getloadavg()[0]
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _table(r: dict[str, Any], dataset: Path, questions: int) -> str:
    rows = [
        ("full ingest (fresh data dir)", f"{r['ingest_s']:.1f} s",
         f"{r['documents']} documents, {r['chunks']} chunks, embedded {r['embedded']} chunks"
         + (f" + {r['embedded_units']} units" if r.get("embedded_units") is not None else "")
         + f", {r['duplicates']} near-duplicates collapsed"),
        ("embedder load (before ingest)", f"{r['embedder_load_s']:.1f} s", "not in the ingest time"),
        ("re-ingest, unchanged corpus", f"{r['reingest_s']:.2f} s",
         f"embedded {r['reingest_embedded']} chunks, up_to_date={r['reingest_up_to_date']}"),
        ("Bot.open (existing index)", f"{r['bot_open_s']:.2f} s", ""),
        ("warm Bot.ask p50", f"{r['warm_p50_ms']:.0f} ms",
         f"{r['warm_n']} questions of {dataset.name} (first {questions}), after 1 warm-up"),
        ("warm Bot.ask p95", f"{r['warm_p95_ms']:.0f} ms", f"max {r['warm_max_ms']:.0f} ms"),
        ("cold `bpo-kb ask --json` wall", f"{r['cold_median_s']:.1f} s",
         f"median of {r['cold_runs']} (min {r['cold_min_s']:.1f}, max {r['cold_max_s']:.1f})"),
    ]
    w0 = max(len(a) for a, _, _ in rows)
    w1 = max(len(b) for _, b, _ in rows)
    lines = [f"| {'measure':<{w0}} | {'value':>{w1}} | notes", f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|---"]
    lines += [f"| {a:<{w0}} | {b:>{w1}} | {c}" for a, b, c in rows]
    lines.append(f"\nmachine: {r['cpus']} CPUs, load average {r['load_before']:.2f} before, "
                 f"{r['load_after']:.2f} after (numbers on a busy machine are not comparable)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.bench_answer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                   help="JSONL questions for the warm latency (default: evals/datasets/dev.jsonl)")
    p.add_argument("--questions", type=int, default=50, help="first N questions (default 50)")
    p.add_argument("--cold-runs", type=int, default=3, help="cold CLI runs (default 3)")
    p.add_argument("--keep", type=Path, default=None,
                   help="build the index in this new or empty data dir and keep it")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    r = run(dataset=args.dataset, questions=args.questions, cold_runs=args.cold_runs,
            keep=args.keep)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(_table(r, args.dataset, args.questions))
    print("\ncommands:\n  python -m evals.bench_answer"
          f" --questions {args.questions} --cold-runs {args.cold_runs}\n"
          f"  BPO_KB_DATA_DIR=<dir with an index> bpo-kb ask --json \"{COLD_QUESTION}\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
