"""evals: answer-quality datasets, metrics, runner, reports and the regression gate.

Calls `bot`, never the UI. The public API (used by `bpo-kb eval` and the UI's Evaluate tab):

    items = load_dataset("evals/datasets/dev.jsonl")
    result = run(bot, items, progress=lambda done, total: ...)
    result.summary["overall"]["fact_recall"], result.results[0]["missed_facts"]
    delta = compare(result.summary, json.load(open("evals/baseline.json")))
    html_path = write_report(result, "out/eval-dev")

    data = read_dataset("ragas-set.jsonl", Corpus.load(settings))  # converted, labels checked
    data.mapping, data.warnings, data.items
    changes = diff_runs(load_run(Path("out/previous")), result.summary, result.results)
"""

from __future__ import annotations

from .command import BASELINE_PATH, load_summary, run_cli
from .corpus import Corpus
from .dataset import Dataset, DatasetError, Item, Source, load_dataset, read_dataset
from .diff import diff_runs, load_run
from .gate import HEADLINE, compare, same_dataset
from .labels import check_labels
from .report import format_delta, write_report
from .runner import Run, run

__all__ = [
    "BASELINE_PATH",
    "HEADLINE",
    "Corpus",
    "Dataset",
    "DatasetError",
    "Item",
    "Run",
    "Source",
    "check_labels",
    "compare",
    "diff_runs",
    "format_delta",
    "load_dataset",
    "load_run",
    "load_summary",
    "read_dataset",
    "run",
    "run_cli",
    "same_dataset",
    "write_report",
]
