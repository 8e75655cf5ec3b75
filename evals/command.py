"""The `bpo-kb eval` command: load a dataset, run the bot once over it, print, report, gate."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot import ConfigError

from .corpus import Corpus
from .dataset import Item, read_dataset
from .diff import diff_runs, load_run
from .gate import compare
from .report import format_delta, format_value, write_report
from .runner import run

__all__ = ["BASELINE_PATH", "EXIT_REGRESSION", "format_changes", "format_comparison",
           "format_summary", "load_summary", "run_cli", "save_items"]

BASELINE_PATH = Path(__file__).resolve().with_name("baseline.json")
"""The accepted numbers on dev.jsonl, compared by the regression gate test."""
EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
_COLUMNS = (("items", "n", 4), ("fact_recall", "fact", 6), ("cite_hit", "cite", 6),
            ("recall@5", "r@5", 6), ("mrr", "mrr", 6), ("false_abstain", "f_abst", 6),
            ("oos_refusal", "oos", 6), ("median_words", "words", 5), ("pass_rate", "pass", 6))
_MAX_WARNINGS = 20
_MAX_CHANGED_SHOWN = 20


def run_cli(settings: Any, dataset: Path, *, report_dir: Path | None, baseline: Path | None,
            as_json: bool, write_baseline: bool, fit_abstention: bool, limit: int | None,
            echo: Callable[[str], None], compare_with: Path | None = None,
            save_converted: Path | None = None, check_only: bool = False,
            warn: Callable[[str], None] | None = None) -> int:
    """Entry point of `bpo-kb eval` (returns the process exit code: 0, 1 on a regression
    against --baseline, 2 on a usage problem). An invalid dataset raises `DatasetError`.

    `warn` gets what is not the result (an import's mapping, label warnings); it defaults to
    stderr. `compare_with` is an earlier report folder to put side by side with this run;
    `save_converted` writes the items as read, in bpo-kb's JSONL; `check_only` stops after
    validating the dataset and its labels."""
    warn = warn or (lambda m: print(m, file=sys.stderr))
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
    data = read_dataset(dataset, Corpus.load(settings))  # labels checked before the bot loads
    for line in data.mapping:
        warn(line)
    for w in data.warnings[:_MAX_WARNINGS]:
        warn(f"warning: {w}")
    if len(data.warnings) > _MAX_WARNINGS:
        warn(f"warning: ... and {len(data.warnings) - _MAX_WARNINGS} more")
    if save_converted is not None:
        save_items(data.items, save_converted)
        warn(f"Wrote {len(data.items)} item{'s' if len(data.items) != 1 else ''} in bpo-kb's "
             f"format to {save_converted}")
    if check_only:
        echo(f"{dataset.name}: {len(data.items)} valid item{'s' if len(data.items) != 1 else ''}"
             f" ({data.format} format), labels consistent with the corpus"
             + (f"; {len(data.warnings)} warning{'s' if len(data.warnings) != 1 else ''}"
                if data.warnings else ""))
        return EXIT_OK
    items = data.items[:limit] if limit is not None else data.items
    base = load_summary(baseline) if baseline is not None else None
    previous = load_run(compare_with) if compare_with is not None else None

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
    changes = diff_runs(previous, result.summary, result.results) if previous else None
    if report_dir is not None:
        html_path = write_report(result, report_dir, comparison=comparison, diff=changes)
    if write_baseline:
        _write_baseline(result.summary, dataset)
    if fit_abstention:
        from evals.calibrate import fit_abstention as fit

        fit(bot, items, result.results, echo)

    if as_json:
        out = dict(result.summary)
        if comparison is not None:
            out["comparison"] = comparison
        if changes is not None:
            out["previous_run"] = changes
        echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        echo(format_summary(result.summary))
        if comparison is not None:
            echo("")
            echo(format_comparison(comparison, baseline))
        if changes is not None:
            echo("")
            echo(format_changes(changes))
        if report_dir is not None:
            echo(f"\nReport: {html_path} (also report.md, results.jsonl, summary.json"
                 + (", changes.jsonl" if changes is not None else "") + ")")
        if write_baseline:
            echo(f"Baseline written: {BASELINE_PATH}")
    return EXIT_REGRESSION if comparison is not None and comparison["regression"] else EXIT_OK


def save_items(items: Sequence[Item], path: Path) -> None:
    """Items as a bpo-kb JSONL dataset (what an imported file was converted to)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for it in items:
            row: dict[str, Any] = {"id": it.id, "question": it.question,
                                   "category": it.category, "answerable": it.answerable,
                                   "must_include": [list(f) for f in it.must_include],
                                   "sources": [{"doc": s.doc, "quote": s.quote}
                                               for s in it.sources]}
            if it.history:
                row["history"] = [dict(t) for t in it.history]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


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
    errors = o.get("errors")
    lines = [f"{summary.get('dataset')}: {o.get('items')} item{'' if o.get('items') == 1 else 's'}"
             f" ({o.get('answerable')} answerable, {o.get('unanswerable')} unanswerable, "
             f"{errors} error{'' if errors == 1 else 's'})"
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
        delta = format_delta(m["metric"], m.get("delta"))
        lines.append(f"{name:<17}{format_value(m['metric'], m['baseline']):>9}"
                     f"{format_value(m['metric'], m['current']):>10}{delta:>9}  {m['verdict']}")
    lines.append("(* headline: worse by more than 0.02, or median_words up by more than 10%, "
                 "is a regression; latency is never one)")
    if comparison.get("regression"):
        lines.append("Verdict: REGRESSION in " + ", ".join(comparison["regressions"]))
    else:
        lines.append("Verdict: no regression")
    return "\n".join(lines)


def format_changes(changes: Mapping[str, Any]) -> str:
    """This run next to a previous one: each metric, then the fixed, broken and changed items."""
    lines = [f"Against the previous run {changes.get('previous')} "
             f"({changes.get('previous_dataset')}, {changes.get('previous_created')}):"]
    lines += [f"  note: {n}" for n in changes.get("notes") or []]
    lines.append(f"{'metric':<17}{'previous':>9}{'this run':>10}{'change':>9}  verdict")
    for m in changes.get("metrics") or []:
        lines.append(f"{m['metric']:<17}{format_value(m['metric'], m['baseline']):>9}"
                     f"{format_value(m['metric'], m['current']):>10}"
                     f"{format_delta(m['metric'], m.get('delta')):>9}  {m['verdict']}")
    c = changes.get("counts") or {}
    summary = (f"Items: {c.get('fixed', 0)} fixed, {c.get('broken', 0)} broken, "
               f"{c.get('changed', 0)} changed, {c.get('same', 0)} the same")
    if c.get("new") or c.get("gone"):
        summary += (f" ({c.get('new', 0)} only in this run, {c.get('gone', 0)} only in the "
                    "previous one)")
    lines.append(summary)
    shown = 0
    for x in changes.get("items") or []:
        if x["change"] == "same":
            continue
        if x["change"] not in ("fixed", "broken"):
            shown += 1
            if shown > _MAX_CHANGED_SHOWN:
                continue
        what = "; ".join(x["what"]) if x["what"] else ""
        q = " ".join(str(x.get("question") or "").split())
        lines.append(f"  {x['change']:<8}{x['id']} ({x.get('category')}): {q[:90]}"
                     + (f"  [{what}]" if what else ""))
    if shown > _MAX_CHANGED_SHOWN:
        lines.append(f"  ... and {shown - _MAX_CHANGED_SHOWN} more changed or added/removed "
                     "items (all in the report's changes.jsonl and report.html)")
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
