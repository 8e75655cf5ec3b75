"""How long from `bpo-kb serve` starting to the first answer it serves.

Starts `bpo-kb serve` on a free loopback port, polls the page until it loads and then the
Gradio `ask` endpoint until an answer comes back, prints both times, and stops the server.

    .venv/bin/python -m evals.bench_serve            # the index in BPO_KB_DATA_DIR
    .venv/bin/python -m evals.bench_serve --cold     # empty data dir: builds the index
    .venv/bin/python -m evals.bench_serve --runs 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .loopback import ask_http, free_port, stop_process

QUESTION = "What is the difference between BPM and BPO?"


def measure(data_dir: str | None, timeout: float = 600) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    if data_dir:
        env["BPO_KB_DATA_DIR"] = data_dir
    exe = Path(sys.executable).with_name("bpo-kb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    page = None
    try:
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise SystemExit(f"bpo-kb serve exited with {proc.returncode}:\n{err[-2000:]}")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"no answer within {timeout:.0f} s")
            try:
                if page is None:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        r.read()
                    page = time.perf_counter() - t0
                answer = ask_http(url, QUESTION, timeout=120)
                if "error" in answer:
                    raise SystemExit(f"ask returned an error: {answer['error']}")
                first = time.perf_counter() - t0
                break
            except OSError:
                time.sleep(0.2)
        t1 = time.perf_counter()
        ask_http(url, QUESTION + " Explain briefly.", timeout=120)
        warm = time.perf_counter() - t1
    finally:
        stop_process(proc, 15)
    return {"page_s": round(page or 0.0, 2), "first_answer_s": round(first, 2),
            "next_answer_s": round(warm, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cold", action="store_true",
                    help="start from an empty data dir (the server builds the index first)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    for _ in range(args.runs):
        if args.cold:
            with tempfile.TemporaryDirectory(prefix="bpo-kb-cold-") as d:
                results.append(measure(d))
        else:
            results.append(measure(os.environ.get("BPO_KB_DATA_DIR")))
    if args.json:
        print(json.dumps({"cold": args.cold, "runs": results}, indent=2))
        return
    for r in results:
        print(f"page loads after {r['page_s']:.1f} s; first answer after "
              f"{r['first_answer_s']:.1f} s; next answer {r['next_answer_s']:.2f} s"
              + (" (cold: index built first)" if args.cold else ""))
    if len(results) > 1:
        print(f"median first answer: "
              f"{statistics.median(r['first_answer_s'] for r in results):.1f} s")


if __name__ == "__main__":
    main()
