"""`bpo-kb`: the one console script. Thin commands over ingest/, bot/, evals/ and ui.

Each command parses its options, calls one function, and prints. `--json` gives
machine-readable output; errors print one clear line to stderr and exit non-zero.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_USAGE = 2


def _settings(**overrides: Any) -> Any:
    from bpo_kb import ConfigError, Settings

    try:
        s = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except Exception as e:  # pydantic's ValidationError: show it as a config error
        raise ConfigError(f"Invalid setting: {e}") from e
    logging.basicConfig(level=s.log_level, format="%(levelname)s %(name)s: %(message)s")
    return s


class _Bar:
    """A progress bar on stderr for ingest stages (quiet when stderr is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        from tqdm import tqdm

        labels = {"read": "reading documents", "embed": "embedding chunks",
                  "embed units": "embedding sentences",
                  "store": "writing vectors"}
        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = tqdm(total=total, desc=labels.get(stage, stage),
                                           unit="it", file=sys.stderr, leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()


def _open_bot(settings: Any, quiet: bool = False) -> Any:
    from generate import open_bot

    def on_build() -> None:
        if not quiet:
            click.echo(f"Building the index from {settings.corpus_dir} (first run)...", err=True)

    return open_bot(settings, progress=_Bar(sys.stderr.isatty() and not quiet),
                    on_build=on_build)


class _Group(click.Group):
    """Turns bpo-kb's own errors into one line on stderr instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from bpo_kb import BpoKbError

        try:
            return super().invoke(ctx)
        except BpoKbError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="bpo-kb")
def main() -> None:
    """bpo-kb: answers business process outsourcing questions from guide documents, with
    the passages it used cited. Runs fully offline by default.

    \b
    Examples:
      bpo-kb ask "What is the difference between BPO and BPM?"
      bpo-kb batch questions.csv -o answers.jsonl
      bpo-kb serve
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@main.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Ignore the current index and re-embed everything.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another running ingest instead of refusing.")
def ingest_cmd(paths: tuple[Path, ...], rebuild: bool, as_json: bool, wait: float) -> None:
    """Ingest documents (default: the corpus folder) into the index, incrementally.

    Unchanged documents are not embedded again; changed, added and removed files update
    only their own chunks. Unreadable files are skipped with the reason.

    \b
    Examples:
      bpo-kb ingest
      bpo-kb ingest corpus/ extra/pricing-notes.md --json
      bpo-kb ingest --rebuild
    """
    from ingest import ingest

    settings = _settings()
    report = ingest(settings, list(paths) or None, rebuild=rebuild,
                    progress=_Bar(sys.stderr.isatty() and not as_json), lock_timeout=wait)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    if report.up_to_date:
        click.echo(f"Index is up to date: {report.documents} documents, {report.chunks} chunks; "
                   f"embedded 0 chunks ({report.seconds:.2f} s).")
    else:
        click.echo(f"Indexed {report.documents} documents, {report.chunks} chunks "
                   f"(added {len(report.added)}, changed {len(report.changed)}, removed "
                   f"{len(report.removed)}, unchanged {report.unchanged}); embedded "
                   f"{report.embedded} chunks, collapsed {report.duplicates} near-duplicates "
                   f"in {report.seconds:.1f} s.")
    for s in report.skipped:
        click.echo(f"Skipped {s['path']}: {s['reason']}", err=True)


@main.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the full answer as JSON.")
@click.option("--history", type=str, default=None,
              help='Earlier turns as JSON: [{"role": "user", "content": "..."}, ...].')
def ask_cmd(question: str, as_json: bool, history: str | None) -> None:
    """Answer one question, with cited passages.

    \b
    Examples:
      bpo-kb ask "How much does offshore support cost per hour?"
      bpo-kb ask --json "Is KPO the same as LPO?"
      bpo-kb ask "and what about nearshore?" --history '[{"role":"user","content":"What does offshore BPO cost?"}]'
    """
    from bot import QuestionError, clean_question, parse_history

    settings = _settings()
    turns: Any = []
    if history:
        try:
            turns = json.loads(history)
        except ValueError as e:
            raise QuestionError(f"--history is not valid JSON ({e}); pass a list like "
                                '[{"role": "user", "content": "..."}]') from e
    # a bad question or history fails now, not after loading the model (or building the index)
    clean_question(question, settings.max_question_chars)
    parse_history(turns)
    bot = _open_bot(settings, quiet=as_json)
    ans = bot.ask(question, turns)
    if as_json:
        click.echo(json.dumps(ans.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(ans.answer)
    if ans.suggestions:
        click.echo("\nYou could ask:")
        for s in ans.suggestions:
            click.echo(f"  - {s}")
    if ans.citations:
        click.echo("\nSources:" if not ans.abstained else "\nClosest passages:")
        for c in ans.citations:
            quote = c.text[c.start:c.end] if c.start is not None else c.text[:160]
            quote = " ".join(quote.split())
            click.echo(f"  [{c.marker}] {c.title} - {c.section}\n      \"{quote[:300]}\"")
    if ans.notice:
        click.echo(f"\nNote: {ans.notice}", err=True)


@main.command("batch")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Answers file: .csv, .xlsx or .jsonl (by extension).")
def batch_cmd(input_path: Path, output: Path) -> None:
    """Answer every question of a .csv, .xlsx or .jsonl file. Loads the model and index once.

    The file needs a `question` column; `id` (else the row number is used) and `history` (a
    JSON list of {role, content} turns) are optional. Column names are matched in any letter
    case and a CSV's delimiter (comma, semicolon, tab) is detected. Other columns are copied
    to the output. A row that fails gets an `error`; the others still run.

    The .csv/.xlsx output has the `ask --json` fields (citations as JSON), then `status`,
    `answer_text` (no [n] markers) and `sources` ("[1] Title — Section" lines) for people.

    \b
    Examples:
      bpo-kb batch prospect-faq.csv -o answers.csv
      bpo-kb batch prospect-faq.xlsx -o answers.xlsx
      bpo-kb batch evals/datasets/dev.jsonl -o out/dev-answers.jsonl
    """
    from bpo_kb import ConfigError

    settings = _settings()
    from app.batch import (
        OUTPUT_SUFFIXES,
        answer_row,
        merge_row,
        read_batch,
        summary_line,
        write_rows,
    )

    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(f"Output {str(output)!r} must end in {', '.join(OUTPUT_SUFFIXES)}")
    batch = read_batch(input_path)  # a file without questions fails before loading anything
    bot = _open_bot(settings)
    t0 = time.perf_counter()
    results = []
    if sys.stderr.isatty():
        with click.progressbar(batch.rows, label="answering", file=sys.stderr,
                               show_pos=True) as bar:
            for n, row in enumerate(bar, 1):
                results.append(merge_row(row, answer_row(bot, row, n)))
    else:  # no bar (nor its label) in logs and pipes
        results = [merge_row(row, answer_row(bot, row, n)) for n, row in enumerate(batch.rows, 1)]
    write_rows(output, results, batch.passthrough)
    click.echo(f"{summary_line(results, time.perf_counter() - t0)} -> {output}", err=True)


@main.command("serve")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
def serve_cmd(host: str | None, port: int | None) -> None:
    """Start the chat UI in the browser (builds the index first if needed).

    \b
    Examples:
      bpo-kb serve
      bpo-kb serve --port 8080
    """
    import ui

    settings = _settings(host=host, port=port)
    bot = _open_bot(settings)
    ui.launch(bot, settings)


@main.command("eval")
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write results.jsonl, summary.json, report.md/.html here.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="An earlier summary.json to gate against (exit 1 on a "
                                 "regression).")
@click.option("--compare", "compare_with", type=click.Path(exists=True, path_type=Path),
              default=None, help="An earlier --report folder: show both runs side by side, "
                                 "per metric and per item (fixed, broken, changed).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--write-baseline", is_flag=True,
              help="Store this run's summary as evals/baseline.json (a reviewed step).")
@click.option("--fit-abstention", is_flag=True,
              help="Fit the refusal model on this (labelled) dataset and save it.")
@click.option("--limit", type=int, default=None, help="Only the first N items.")
@click.option("--check", "check_only", is_flag=True,
              help="Only validate the dataset and its labels against the corpus, then exit.")
@click.option("--save-converted", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the items as read (an imported file converted) to "
                                 "this .jsonl, in bpo-kb's format, to review or edit.")
def eval_cmd(dataset: Path, report_dir: Path | None, baseline: Path | None,
             compare_with: Path | None, as_json: bool, write_baseline: bool,
             fit_abstention: bool, limit: int | None, check_only: bool,
             save_converted: Path | None) -> None:
    """Run an answer-quality dataset and print the metrics.

    DATASET is bpo-kb's .jsonl or .csv (evals/datasets/FORMAT.md), or a ragas (.jsonl, .json,
    .csv), promptfoo (.csv with __expected columns) or DeepEval (.json) file, converted with
    the mapping printed. Labels are checked first: a gold quote that is not in the corpus, a
    doc that does not exist, a wrong type ("answerable": "yes") stop the run with each bad
    item named.

    \b
    Examples:
      bpo-kb eval evals/datasets/dev.jsonl --report out/
      bpo-kb eval my-set.csv --baseline evals/baseline.json
      bpo-kb eval evals/datasets/dev.jsonl --report out/new --compare out/previous
      bpo-kb eval ragas-testset.jsonl --check --save-converted converted.jsonl
    """
    from evals import run_cli

    settings = _settings()
    code = run_cli(settings, dataset, report_dir=report_dir, baseline=baseline,
                   as_json=as_json, write_baseline=write_baseline,
                   fit_abstention=fit_abstention, limit=limit, echo=click.echo,
                   compare_with=compare_with, save_converted=save_converted,
                   check_only=check_only, warn=lambda m: click.echo(m, err=True))
    sys.exit(code)


@main.group("feedback")
def feedback_group() -> None:
    """Thumbs up/down collected in the UI: export and report.

    \b
    Examples:
      bpo-kb feedback report
      bpo-kb feedback export --as-eval drafts.jsonl
    """


@feedback_group.command("export")
@click.option("--as-eval", "as_eval", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write the 👎 answers as draft eval items (JSONL) to this file.")
def feedback_export_cmd(as_eval: Path) -> None:
    """Turn 👎 answers into draft eval items for an evaluator to complete.

    Each line has the question, its history and the answer given (`answer_given`, with the
    reason under `feedback`); `answerable`, `must_include` and `sources` are left for the
    evaluator to fill in (see evals/datasets/FORMAT.md) before adding it to a dataset.

    \b
    Examples:
      bpo-kb feedback export --as-eval drafts.jsonl
    """
    from app.feedback import FeedbackStore, draft_eval_items

    settings = _settings()
    drafts = draft_eval_items(FeedbackStore(settings.feedback_db).items(rating=-1))
    as_eval.parent.mkdir(parents=True, exist_ok=True)
    with as_eval.open("w", encoding="utf-8") as fh:
        for d in drafts:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    click.echo(f"Wrote {len(drafts)} draft eval items to {as_eval} (from "
               f"{settings.feedback_db}); complete answerable, must_include and sources.",
               err=True)


@feedback_group.command("report")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=0.7, show_default=True,
              help="Cosine similarity for two questions to count as the same topic.")
@click.option("--json", "as_json", is_flag=True, help="Print the groups as JSON.")
def feedback_report_cmd(threshold: float, as_json: bool) -> None:
    """List refused and 👎 questions grouped by similarity: the content gaps of the guides.

    Biggest group first; each shows how often it was asked, refused and disliked, and the
    reasons users gave.

    \b
    Examples:
      bpo-kb feedback report
      bpo-kb feedback report --threshold 0.6 --json
    """
    from app.feedback import FeedbackStore, content_gaps
    from ingest import make_embedder

    settings = _settings()
    items = FeedbackStore(settings.feedback_db).items(disliked_or_refused=True)
    gaps = content_gaps(items, make_embedder(settings.embedder), threshold) if items else []
    if as_json:
        click.echo(json.dumps([g.to_dict() for g in gaps], indent=2, ensure_ascii=False))
        return
    if not gaps:
        click.echo(f"No refused or 👎 questions in {settings.feedback_db}.")
        return
    click.echo(f"{len(items)} refused or 👎 questions in {len(gaps)} topics (biggest first):")
    for n, g in enumerate(gaps, 1):
        click.echo(f"\n{n}. {g.questions[0]}\n   asked {g.asked}x: refused {g.refused}, "
                   f"👎 {g.disliked}")
        for q in g.questions[1:6]:
            click.echo(f"   - {q}")
        if len(g.questions) > 6:
            click.echo(f"   ... and {len(g.questions) - 6} more")
        for r in g.reasons[:3]:
            click.echo(f"   reason: {r}")


if __name__ == "__main__":  # pragma: no cover
    main()
