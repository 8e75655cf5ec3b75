"""Speed and quality of a generative backend over a dataset: time to the first streamed token,
whole-answer time, and the `bpo-kb eval` metrics, in one run.

    python -m evals.bench_generate evals/datasets/dev.jsonl --llm qwen-1.5b \\
        --drafts out/qwen-dev.jsonl --report out/eval-qwen-dev
    python -m evals.bench_generate evals/datasets/dev.jsonl --replay out/qwen-dev.jsonl
    python -m evals.bench_generate evals/datasets/blind.jsonl --sample 60   # a quicker look
    python -m evals.bench_generate evals/datasets/dev.jsonl --sample 98 --llm extractive

Each item is answered through `Bot.stream`, as the chat window does: the first string it
yields for a question that reaches the LLM is the first streamed token (retrieval, the refusal
decision and the prompt's evaluation included); the final `Answer` ends the whole-answer time.
Refused questions never reach the model and are left out of the timings. The answers are
scored by the same runner and metrics as `bpo-kb eval` (evals/runner.py), so the quality
numbers are the ones that command prints.

`--drafts FILE` records each item's prompt and raw model draft. `--replay FILE` answers from
such a record instead of the model (temperature 0 makes the model deterministic), over the
items the record holds: the same prompts give the same drafts, so a change to verification or
to how the answer is put together is measured in seconds; a prompt that changed is an error
(run the model again), unless `--live` is given too: then a prompt the record does not hold
goes to the model, so after a change to retrieval or to the extractive answer only the
questions whose prompt changed are generated again (record them with `--drafts`). Under
`--replay` the timings printed are the recorded ones (with `--live`, those of the new calls
too). The load average is printed: on a shared machine it moves them.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

__all__ = ["ReplayBackend", "main", "run"]


class ReplayBackend:
    """A backend that streams the draft recorded for the very same prompt."""

    completion = False

    def __init__(self, spec: str, drafts: dict[str, str], *, context_tokens: int | None,
                 max_passages: int, passage_chars: int,
                 tokenize: Callable[[str], int] | None = None, live: Any = None) -> None:
        self.spec = spec
        self.drafts = drafts
        self.live = live
        """The real backend for prompts the record does not hold (`--live`), or None."""
        self.live_calls = 0
        self.context_tokens = context_tokens
        self.max_passages = max_passages
        self.passage_chars = passage_chars
        self.tokenize = tokenize
        """The recorded model's own token count (its vocabulary loaded without weights): a
        prompt that did not fit was trimmed by it, and the replay must trim the same way."""

    def count_tokens(self, text: str) -> int:
        return self.tokenize(text) if self.tokenize is not None else int(len(text) / 3.0)

    def stream(self, prompt: Any, *, max_tokens: int, cancel: threading.Event
               ) -> Iterator[str]:
        from bpo_kb import GenerationError

        draft = self.drafts.get(prompt.user)
        if draft is None and self.live is not None:
            self.live_calls += 1
            yield from self.live.stream(prompt, max_tokens=max_tokens, cancel=cancel)
            return
        if draft is None:
            raise GenerationError("no recorded draft for this prompt (the prompt changed: run "
                                  "the model again without --replay, or add --live)")
        for i in range(0, len(draft), 12):
            yield draft[i:i + 12]


class _Timed:
    """A Bot whose `ask` streams (timing the first token) and records the model's draft."""

    def __init__(self, bot: Any, out: Path | None = None) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.generation = bot.generation
        self.records: list[dict[str, Any]] = []
        self.out = out
        """Each record is appended here as soon as it is made (a long run can be watched)."""

    def ask(self, question: str, history: Sequence[dict[str, str]] = ()) -> Any:
        t0 = time.perf_counter()
        first: float | None = None
        draft = ""
        final = None
        for item in self.bot.stream(question, history):
            if isinstance(item, str):
                if first is None:
                    first = time.perf_counter() - t0
                draft = item
            else:
                final = item
        total = time.perf_counter() - t0
        assert final is not None
        llm = not final.abstained and self.bot._generator is not None
        self.records.append({
            "question": question, "history": list(history), "abstained": final.abstained,
            "llm": llm, "ttft_s": round(first, 3) if llm and first is not None else None,
            "answer_s": round(total, 3) if llm else None, "draft": draft if llm else None,
            "prompt": self._prompt_user(question, history) if llm else None,
            "backend": final.backend, "verified_sentences": final.verified_sentences,
            "removed_sentences": list(final.removed_sentences), "answer": final.answer,
            "notice": final.notice})
        if self.out is not None:
            with self.out.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(self.records[-1], ensure_ascii=False) + "\n")
        return final

    def _prompt_user(self, question: str, history: Sequence[dict[str, str]]) -> str:
        gen = self.bot._generator
        base, q, turns, hits = self.bot._extractive(question, history)
        return gen._prompt(q.text, turns, hits, base).user  # as Bot.stream prompts


def _tokenizer(llm: str, settings: Any) -> Callable[[str], int] | None:
    """The token count of the GGUF `llm` runs on, from its vocabulary alone (no weights
    loaded), as `LlamaCppBackend.count_tokens` counts; None for other backends."""
    if llm != "qwen-1.5b":
        return None
    from llama_cpp import Llama

    from generate import qwen

    vocab = Llama(model_path=str(settings.models_dir / qwen.QWEN_FILE), vocab_only=True,
                  verbose=False)
    return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=True))


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values), q)) if values else None


def run(dataset: Path, *, llm: str, limit: int | None = None, sample: int | None = None,
        replay: Path | None = None, drafts: Path | None = None, live: bool = False
        ) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """Run the dataset (or its first `limit` items, or `sample` items spread evenly over it);
    (speed summary, per-item records, the evals `Run`). Records go to `drafts` as they come.
    `live` (with `replay`): prompts the record does not hold go to the model."""
    from bot import Bot
    from bpo_kb import Settings
    from evals import load_dataset
    from evals import run as run_eval
    from generate import LLMGenerator, Verifier, make_backend
    from ingest import make_embedder

    items = load_dataset(dataset)[:limit] if limit else load_dataset(dataset)
    if sample and sample < len(items):
        items = [items[i * len(items) // sample] for i in range(sample)]
    settings = Settings().model_copy(update={"llm": llm})
    recs: list[dict[str, Any]] = []
    backend: Any = None
    if replay is not None:
        recs = [json.loads(x) for x in replay.read_text(encoding="utf-8").splitlines() if x]
        # only the items the record holds (a run stopped early still measures what it did)
        done = {(r["question"], json.dumps(r.get("history") or [])) for r in recs}
        if not live:
            items = [it for it in items
                     if (it.question, json.dumps([dict(t) for t in it.history])) in done]
        from generate import qwen

        real = make_backend(llm, settings) if live else None
        ctx, k, chars = (real.context_tokens, real.max_passages, real.passage_chars) \
            if real is not None else \
            (qwen.QWEN_CTX, qwen.QWEN_PASSAGES, qwen.QWEN_PASSAGE_CHARS) \
            if llm == "qwen-1.5b" else (4096, 6, 1200)
        backend = ReplayBackend(llm, {r["prompt"]: r["draft"] for r in recs if r["prompt"]},
                                     context_tokens=ctx, max_passages=k, passage_chars=chars,
                                     tokenize=_tokenizer(llm, settings),
                                     live=real)
    elif llm != "extractive":
        backend = make_backend(llm, settings)
    generator = None if llm == "extractive" and replay is None else \
        LLMGenerator(backend, settings, Verifier(make_embedder(settings.embedder)))
    bot = Bot.open(settings, generator=generator)
    timed = _Timed(bot)
    timed.ask("What is BPO?")  # warm-up: loads the model's first pages, the embedder
    timed.records.clear()
    if isinstance(backend, ReplayBackend):
        backend.live_calls = 0  # the warm-up's prompt is in no record
    if drafts is not None:
        drafts.parent.mkdir(parents=True, exist_ok=True)
        drafts.write_text("", encoding="utf-8")
        timed.out = drafts
    result = run_eval(timed, items, dataset=dataset.name)
    for r, item in zip(timed.records, items, strict=True):
        r["id"] = item.id
    if replay is not None:  # a replayed answer takes the time recorded for its prompt
        recorded = {r["prompt"]: r for r in recs if r.get("prompt")}
        for r in timed.records:  # so that a record written by a replay keeps them too
            old = recorded.get(r.get("prompt") or "")
            if old is not None:
                r["ttft_s"], r["answer_s"] = old.get("ttft_s"), old.get("answer_s")
    ttft = [r["ttft_s"] for r in timed.records if r.get("ttft_s") is not None]
    total = [r["answer_s"] for r in timed.records if r.get("answer_s") is not None]
    speed = {
        "llm": llm, "replay": replay is not None, "items": len(items),
        "live_calls": backend.live_calls if replay is not None else None,
        "llm_calls": len(total),
        "generated": sum(r["backend"] == llm for r in timed.records),
        "fell_back": sum(r["llm"] and r["backend"] != llm for r in timed.records),
        "verified_sentences": sum(r["verified_sentences"] or 0 for r in timed.records),
        "removed_sentences": sum(len(r["removed_sentences"]) for r in timed.records),
        "ttft_p50_s": _pct(ttft, 50), "ttft_p95_s": _pct(ttft, 95),
        "answer_p50_s": _pct(total, 50), "answer_p95_s": _pct(total, 95),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return speed, timed.records, result


@click.command()
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--llm", default="qwen-1.5b", show_default=True,
              help="The BPO_KB_LLM to run (extractive: the same items without an LLM).")
@click.option("--limit", type=int, default=None, help="Only the first N items.")
@click.option("--sample", type=int, default=None,
              help="Only N items spread evenly over the dataset (every category).")
@click.option("--drafts", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write each item's prompt, draft, timings and answer here (JSONL).")
@click.option("--replay", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Answer from the drafts recorded in this file, not the model.")
@click.option("--live", is_flag=True,
              help="With --replay: prompts the record does not hold go to the model.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write the eval report (results.jsonl, summary.json...) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def main(dataset: Path, llm: str, limit: int | None, sample: int | None, drafts: Path | None,
         replay: Path | None, live: bool, report_dir: Path | None, as_json: bool) -> None:
    """Time to first token, whole-answer time and eval metrics of an LLM backend."""
    from evals.command import format_summary
    from evals.report import write_report

    if live and replay is None:
        raise click.UsageError("--live needs --replay FILE (without a record every prompt "
                               "goes to the model anyway)")
    speed, records, result = run(dataset, llm=llm, limit=limit, sample=sample, replay=replay,
                                 drafts=drafts, live=live)
    if drafts is not None:  # again, with the items' ids
        drafts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                          encoding="utf-8")
    if report_dir is not None:
        write_report(result, report_dir)
    if as_json:
        click.echo(json.dumps({"speed": speed, "overall": result.summary["overall"]}, indent=2))
        return
    click.echo(format_summary(result.summary))
    click.echo("")

    def s(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f} s"

    replayed = "" if not replay else (
        f" (replayed drafts, {speed['live_calls']} prompts not in the record generated; "
        "timings as recorded)" if live else " (replayed drafts; timings as recorded)")
    click.echo(f"{llm}{replayed}: "
               f"{speed['llm_calls']} LLM calls of {speed['items']} items, "
               f"{speed['generated']} answered with generated sentences, "
               f"{speed['fell_back']} fell back to extractive; "
               f"{speed['verified_sentences']} sentences verified, "
               f"{speed['removed_sentences']} removed")
    click.echo(f"time to first token p50 {s(speed['ttft_p50_s'])}, p95 {s(speed['ttft_p95_s'])}; "
               f"whole answer p50 {s(speed['answer_p50_s'])}, p95 {s(speed['answer_p95_s'])} "
               f"(load average {speed['load_average']})")


if __name__ == "__main__":
    main(sys.argv[1:])
