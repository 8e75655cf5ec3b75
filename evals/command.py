"""The `bpo-kb eval` command: load a dataset, run the bot once over it, print, report, gate."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from bot import ConfigError

from .dataset import load_dataset
from .gate import compare
from .report import format_value, write_report
from .runner import run

__all__ = ["BASELINE_PATH", "EXIT_REGRESSION", "format_comparison", "format_summary",
           "load_summary", "run_cli"]

BASELINE_PATH = Path(__file__).resolve().with_name("baseline.json")
"""The accepted numbers on dev.jsonl, compared by the regression gate test."""
EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
_COLUMNS = (("items", "n", 4), ("fact_recall", "fact", 6), ("cite_hit", "cite", 6),
            ("recall@5", "r@5", 6), ("mrr", "mrr", 6), ("false_abstain", "f_abst", 6),
            ("oos_refusal", "oos", 6), ("median_words", "words", 5), ("pass_rate", "pass", 6))


def run_cli(settings: Any, dataset: Path, *, report_dir: Path | None, baseline: Path | None,
            as_json: bool, write_baseline: bool, fit_abstention: bool, limit: int | None,
            echo: Callable[[str], None]) -> int:
    """Entry point of `bpo-kb eval` (returns the process exit code: 0, 1 on a regression
    against --baseline, 2 on a usage problem)."""
    if limit is not None and limit < 1:
        echo(f"--limit must be at least 1, got {limit}")
        return EXIT_USAGE
    if write_baseline and limit is not None:
        echo("--write-baseline stores the accepted numbers of a whole dataset; run it without "
             "--limit")
        return EXIT_USAGE
    if fit_abstention and importlib.util.find_spec("evals.calibrate") is None:
        echo("--fit-abstention needs evals/calibrate.py (fit_abstention), which this checkout "
             "does not have yet; run without --fit-abstention")
        return EXIT_USAGE
    items = load_dataset(dataset)
    if limit is not None:
        items = items[:limit]
    base = load_summary(baseline) if baseline is not None else None

    from generate import open_bot

    quiet = as_json or not sys.stderr.isatty()
    bot = open_bot(settings, on_build=None if quiet else lambda: print(
        f"Building the index from {settings.corpus_dir} (first run)...", file=sys.stderr))
    bar = _Bar(len(items)) if not quiet else None
    try:
        result = run(bot, items, progress=bar, dataset=dataset.name)
    finally:
        if bar is not None:
            bar.close()
    comparison = compare(result.summary, base) if base is not None else None
    if report_dir is not None:
        html_path = write_report(result, report_dir, comparison=comparison)
    if write_baseline:
        _write_baseline(result.summary, dataset)
    if fit_abstention:
        from evals.calibrate import fit_abstention as fit

        fit(bot, items, result.results, echo)

    if as_json:
        out = dict(result.summary)
        if comparison is not None:
            out["comparison"] = comparison
        echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        echo(format_summary(result.summary))
        if comparison is not None:
            echo("")
            echo(format_comparison(comparison, baseline))
        if report_dir is not None:
            echo(f"\nReport: {html_path} (also report.md, results.jsonl, summary.json)")
        if write_baseline:
            echo(f"Baseline written: {BASELINE_PATH}")
    return EXIT_REGRESSION if comparison is not None and comparison["regression"] else EXIT_OK


def load_summary(path: Path) -> dict[str, Any]:
    """A summary.json (or baseline.json) written by an earlier run."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"Could not read baseline {str(path)!r}: {e}; pass a summary.json "
                          "written by `bpo-kb eval --report DIR` or evals/baseline.json") from e
    if not isinstance(data, dict) or not isinstance(data.get("overall"), dict):
        raise ConfigError(f"Baseline {str(path)!r} has no 'overall' metrics; pass a summary.json "
                          "written by `bpo-kb eval --report DIR` or evals/baseline.json")
    return data


def format_summary(summary: Mapping[str, Any]) -> str:
    """The compact metric table: overall, then each category."""
    o = summary.get("overall") or {}
    secs = summary.get("seconds")
    lines = [f"{summary.get('dataset')}: {o.get('items')} items ({o.get('answerable')} "
             f"answerable, {o.get('unanswerable')} unanswerable, {o.get('errors')} errors)"
             + (f" in {secs:.1f} s" if isinstance(secs, int | float) else ""), ""]
    width = max([8, *(len(c) for c in summary.get("categories") or {})]) + 1
    lines.append("category".ljust(width) + " ".join(h.rjust(w) for _, h, w in _COLUMNS))
    for cat, m in [("ALL", o), *(summary.get("categories") or {}).items()]:
        lines.append(cat.ljust(width) + " ".join(format_value(k, m.get(k)).rjust(w)
                                                 for k, _, w in _COLUMNS))
    lines.append("")
    lines.append(f"recall@1 {format_value('r', o.get('recall@1'))}, recall@3 "
                 f"{format_value('r', o.get('recall@3'))}, recall@top_k "
                 f"{format_value('r', o.get('recall@top_k'))}; refusal AUC "
                 f"{format_value('r', summary.get('refusal_auc'))}; latency p50 "
                 f"{format_value('latency', o.get('latency_p50_ms'))} ms, p95 "
                 f"{format_value('latency', o.get('latency_p95_ms'))} ms")
    return "\n".join(lines)


def format_comparison(comparison: Mapping[str, Any], baseline: Path | str | None = None) -> str:
    """Baseline, this run, delta and verdict of each metric, then the gate's verdict."""
    where = f" {baseline}" if baseline is not None else ""
    lines = [f"Against baseline{where} ({comparison.get('baseline_dataset')}, "
             f"{comparison.get('baseline_created')}):"]
    lines += [f"  note: {n}" for n in comparison.get("notes") or []]
    lines.append(f"{'metric':<17}{'baseline':>9}{'this run':>10}{'delta':>9}  verdict")
    for m in comparison.get("metrics") or []:
        name = m["metric"] + (" *" if m["headline"] else "")
        d = m.get("delta")
        if d is None:
            delta = "-"
        elif m["metric"].startswith("latency") or m["metric"] in ("median_words", "errors"):
            delta = f"{d:+.0f}"
        else:
            delta = f"{d:+.3f}"
        lines.append(f"{name:<17}{format_value(m['metric'], m['baseline']):>9}"
                     f"{format_value(m['metric'], m['current']):>10}{delta:>9}  {m['verdict']}")
    lines.append("(* headline: worse by more than 0.02, or median_words up by more than 10%, "
                 "is a regression; latency is never one)")
    if comparison.get("regression"):
        lines.append("Verdict: REGRESSION in " + ", ".join(comparison["regressions"]))
    else:
        lines.append("Verdict: no regression")
    return "\n".join(lines)


def _write_baseline(summary: Mapping[str, Any], dataset: Path) -> None:
    data = {k: v for k, v in summary.items() if k != "refusal_curve"}
    try:
        rel = dataset.resolve().relative_to(BASELINE_PATH.parent.parent)
        data["dataset_path"] = rel.as_posix()
    except ValueError:
        data["dataset_path"] = str(dataset)
    data["date"] = date.today().isoformat()
    tmp = BASELINE_PATH.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(BASELINE_PATH)


class _Bar:
    """A tqdm progress bar on stderr, as a `progress(done, total)` callback."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc="evaluating", unit="item", file=sys.stderr,
                         leave=False)

    def __call__(self, done: int, total: int) -> None:
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
