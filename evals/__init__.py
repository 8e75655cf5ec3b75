"""evals: answer-quality datasets, metrics, runner, reports and the regression gate.

Calls `bot`, never the UI. The public API (used by `bpo-kb eval` and the UI's Evaluate tab):

    items = load_dataset("evals/datasets/dev.jsonl")
    result = run(bot, items, progress=lambda done, total: ...)
    result.summary["overall"]["fact_recall"], result.results[0]["missed_facts"]
    delta = compare(result.summary, json.load(open("evals/baseline.json")))
    html_path = write_report(result, "out/eval-dev")
"""

from __future__ import annotations

from .command import BASELINE_PATH, load_summary, run_cli
from .dataset import DatasetError, Item, Source, load_dataset
from .gate import HEADLINE, compare
from .report import write_report
from .runner import Run, run

__all__ = [
    "BASELINE_PATH",
    "HEADLINE",
    "DatasetError",
    "Item",
    "Run",
    "Source",
    "compare",
    "load_dataset",
    "load_summary",
    "run",
    "run_cli",
    "write_report",
]
