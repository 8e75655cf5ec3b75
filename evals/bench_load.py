"""Load test: N concurrent `gradio_client` sessions x M questions against a real `bpo-kb serve`.

    python -m evals.bench_load                         # 20 sessions x 50 questions
    python -m evals.bench_load --sessions 5 --questions 10 --json out/load.json
    python -m evals.bench_load --url http://127.0.0.1:7860/   # a server that is already up

Without --url it starts `bpo-kb serve` on a free loopback port over the configured data dir
(BPO_KB_DATA_DIR; the index is built first if there is none) and stops it by PID afterwards.
Questions come from evals/datasets/dev.jsonl (follow-ups with their history). The expected
answer of each is what the CLI gives: `bpo-kb batch` over the same questions (one process;
its rows are `Answer.to_dict()`, the `ask --json` JSON), and `bpo-kb ask --json` for the first
two questions to show batch and ask agree. Every API answer must equal its CLI answer (text,
refusal flag, citation docs, sections and spans - not latency), and no call may fail.

Prints p50/p95/max latency seen by the clients and the throughput; exits 1 on any error or
mismatch. Loopback only; Gradio's analytics are off.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loopback import free_port, stop_process

__all__ = ["LoadResult", "Question", "cli_references", "comparable", "load_questions",
           "main", "run_load", "serve"]

DATASET = Path(__file__).resolve().parent / "datasets" / "dev.jsonl"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Question:
    """One API call's input."""

    id: str
    question: str
    history_json: str = ""


@dataclass
class LoadResult:
    """What the load test saw."""

    sessions: int
    per_session: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def calls(self) -> int:
        return len(self.latencies_ms) + len(self.errors)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))], 1) \
                if lat else 0.0

        return {"sessions": self.sessions, "questions_per_session": self.per_session,
                "calls": self.calls, "errors": len(self.errors),
                "mismatches": len(self.mismatches),
                "p50_ms": pct(50), "p95_ms": pct(95), "max_ms": round(lat[-1], 1) if lat else 0.0,
                "mean_ms": round(statistics.fmean(lat), 1) if lat else 0.0,
                "throughput_per_s": round(self.calls / self.seconds, 2) if self.seconds else 0.0,
                "seconds": round(self.seconds, 1)}


def comparable(d: dict[str, Any]) -> dict[str, Any]:
    """What two answers to the same question must agree on (not latency or scores)."""
    if "error" in d and "answer" not in d:
        return {"error": d["error"]}
    return {"answer": d.get("answer"), "abstained": d.get("abstained"),
            "citations": [(c["marker"], c["doc"], c["section"], c["start"], c["end"])
                          for c in d.get("citations", [])]}


def load_questions(n: int, dataset: Path = DATASET) -> list[Question]:
    """The first `n` items of the dev set (cycled if it has fewer)."""
    items = [json.loads(line) for line in dataset.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    out = []
    for i in range(n):
        it = items[i % len(items)]
        hist = it.get("history") or []
        out.append(Question(id=f"{it['id']}#{i}", question=it["question"],
                            history_json=json.dumps(hist) if hist else ""))
    return out


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_PROXY": "*",
                "TOKENIZERS_PARALLELISM": "false"})
    env.update(extra or {})
    return env


class serve:  # noqa: N801 - used as a context manager, like open()
    """`with serve(env) as url:` a real `bpo-kb serve` on a free loopback port."""

    def __init__(self, env: dict[str, str] | None = None, timeout: float = 600) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = _env(env)
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bpo-kb-serve-", suffix=".log",  # noqa: SIM115
                                               delete=False)

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(
            [str(BIN / "bpo-kb"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bpo-kb serve exited with {self.proc.returncode}:\n"
                                   + Path(self.log.name).read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(self.url + "config", timeout=2):
                    return self.url
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        self.__exit__()
        raise RuntimeError(f"bpo-kb serve did not come up on {self.url} in {self.timeout} s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop_process(self.proc, 20)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def cli_references(questions: list[Question], env: dict[str, str] | None = None,
                   check_ask: int = 2) -> dict[str, dict[str, Any]]:
    """The CLI's answer to each question: `bpo-kb batch` for all, `bpo-kb ask --json` for the
    first `check_ask` (which must agree with batch)."""
    env = _env(env)
    with tempfile.TemporaryDirectory(prefix="bpo-kb-load-") as tmp:
        src, out = Path(tmp) / "q.jsonl", Path(tmp) / "a.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for q in questions:
                row: dict[str, Any] = {"id": q.id, "question": q.question}
                if q.history_json:
                    row["history"] = json.loads(q.history_json)
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        r = subprocess.run([str(BIN / "bpo-kb"), "batch", str(src), "-o", str(out)], env=env,
                           capture_output=True, text=True, timeout=3600)
        if r.returncode != 0:
            raise RuntimeError(f"bpo-kb batch failed ({r.returncode}): {r.stderr[-2000:]}")
        refs = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            refs[row.pop("id")] = row
    for q in questions[:check_ask]:
        args = [str(BIN / "bpo-kb"), "ask", "--json", q.question]
        if q.history_json:
            args += ["--history", q.history_json]
        r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"bpo-kb ask failed ({r.returncode}): {r.stderr[-2000:]}")
        if comparable(json.loads(r.stdout)) != comparable(refs[q.id]):
            raise RuntimeError(f"`bpo-kb ask --json` and `bpo-kb batch` disagree on {q.question!r}")
    return refs


def run_load(url: str, questions: list[Question], *, sessions: int, per_session: int,
             expected: Callable[[Question], dict[str, Any]] | None = None) -> LoadResult:
    """`sessions` concurrent gradio_client sessions, each asking `per_session` questions (each
    session starts at a different point of the list). Answers are checked against `expected`."""
    from gradio_client import Client

    result = LoadResult(sessions=sessions, per_session=per_session)
    lock = threading.Lock()
    start = threading.Barrier(sessions)

    def session(k: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as e:  # noqa: BLE001 - record, don't crash the run
            with lock:
                result.errors.extend([f"session {k}: connect failed: {e!r}"] * per_session)
            return
        start.wait()
        for i in range(per_session):
            q = questions[(k * 7 + i) % len(questions)]
            t0 = time.perf_counter()
            try:
                got = client.predict(q.question, q.history_json, api_name="/ask")
            except Exception as e:  # noqa: BLE001
                with lock:
                    result.errors.append(f"session {k} {q.id}: {e!r}")
                continue
            ms = (time.perf_counter() - t0) * 1000
            problem = None
            if not isinstance(got, dict):
                problem = f"not a JSON object: {got!r:.200}"
            elif "error" in got:
                problem = f"error: {got['error']}"
            elif expected is not None and comparable(got) != comparable(expected(q)):
                problem = f"differs from the CLI's answer: {got.get('answer', '')!r:.120}"
            with lock:
                result.latencies_ms.append(ms)
                if problem and problem.startswith(("error", "not a")):
                    result.errors.append(f"session {k} {q.id}: {problem}")
                elif problem:
                    result.mismatches.append(f"session {k} {q.id}: {problem}")
        client.close()

    threads = [threading.Thread(target=session, args=(k,), daemon=True) for k in range(sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.bench_load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=20, help="concurrent client sessions")
    p.add_argument("--questions", type=int, default=50, help="questions per session")
    p.add_argument("--url", default=None, help="use this running server instead of starting one")
    p.add_argument("--concurrency", type=int, default=None,
                   help="BPO_KB_CONCURRENCY for the started server (default: the setting, 4)")
    p.add_argument("--json", dest="json_out", type=Path, default=None,
                   help="also write the summary here")
    args = p.parse_args(argv)

    questions = load_questions(args.questions)
    extra = {"BPO_KB_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
    print(f"CLI reference answers for {len(questions)} questions (bpo-kb batch + ask)...",
          file=sys.stderr)
    refs: dict[str, dict[str, Any]] = {}
    ref_error: list[BaseException] = []

    def fetch_refs() -> None:
        try:
            refs.update(cli_references(questions, extra))
        except BaseException as e:  # noqa: BLE001 - re-raised below
            ref_error.append(e)

    t = threading.Thread(target=fetch_refs)
    t.start()  # in parallel with the server's start-up
    if args.url:
        t.join()
        result = _run(args.url, questions, args, refs, ref_error)
    else:
        with serve(extra) as url:
            t.join()
            result = _run(url, questions, args, refs, ref_error)
    summary = result.summary()
    print(json.dumps(summary, indent=2))
    for line in (result.errors + result.mismatches)[:20]:
        print("  " + line, file=sys.stderr)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({**summary, "errors_detail": result.errors,
                                             "mismatches_detail": result.mismatches}, indent=2))
    return 0 if not result.errors and not result.mismatches else 1


def _run(url: str, questions: list[Question], args: argparse.Namespace,
         refs: dict[str, dict[str, Any]], ref_error: list[BaseException]) -> LoadResult:
    if ref_error:
        raise ref_error[0]
    print(f"{args.sessions} sessions x {args.questions} questions against {url}...",
          file=sys.stderr)
    return run_load(url, questions, sessions=args.sessions, per_session=args.questions,
                    expected=lambda q: refs[q.id])


if __name__ == "__main__":
    sys.exit(main())
