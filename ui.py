"""The chat window: a Gradio app over one `Bot`, for business owners, sales and evaluators.

Layout and event wiring only. Answers come from `bot`, their HTML and plain text from
`app.render`, ratings go to `app.feedback`, batch rows through `app.batch`, evaluations through
`evals`. Tabs: Ask (chat + sources panel), Batch, Evaluate, Documents. The Gradio API exposes
one public endpoint, `ask(question, history_json)`, returning the `bpo-kb ask --json` dict.

    cli.py serve -> ui.launch(bot, settings)
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from app import render  # noqa: E402
from app.batch import (  # noqa: E402
    answer_row,
    merge_row,
    pasted_batch,
    plural,
    read_batch,
    table_row,
    write_rows,
)
from app.feedback import FeedbackStore  # noqa: E402
from app.library import documents, ingest_summary, origins, save_uploads  # noqa: E402
from app.passages import clip_words  # noqa: E402
from bot import Bot, BpoKbError, ConfigError, QuestionError, Settings, clean_question  # noqa: E402
from bpo_kb import PROJECT_ROOT  # noqa: E402
from ingest import SUPPORTED_SUFFIXES, ingest  # noqa: E402

__all__ = ["EXAMPLES", "build", "launch"]

log = logging.getLogger(__name__)

EXAMPLES = [
    "What are the main types of BPO?",
    "What's the difference between BPO and BPM?",
    "Is KPO the same as LPO?",
    "How much does offshore support cost per hour?",
    "How do BPO providers price their work?",
    "What are the risks of outsourcing, and how do I manage them?",
]
"""Questions shown in an empty chat, to click: worded as a business owner would ask them."""
PLACEHOLDER = "Ask a question…"
"""The question box's hint: short enough for one line in a 320 px wide phone (the examples in
the empty chat show what to ask)."""
MAX_BATCH_ROWS = 2000
_BATCH_FORMATS = {"CSV": ".csv", "Excel": ".xlsx", "JSONL": ".jsonl"}
"""The Batch tab's download formats and their file extensions."""
_TOAST_SECONDS = 4
STREAM_PAUSE = 0.025
"""Seconds between streamed pieces, so the answer visibly builds up even when it is ready."""
DATASETS_DIR = PROJECT_ROOT / "evals" / "datasets"
METRICS = {
    "fact_recall": "required facts found in answers", "cite_hit": "a citation holds the gold quote",
    "oos_refusal": "out-of-scope questions refused", "false_abstain": "answerable ones refused",
    "recall@5": "gold passage in the top 5", "mrr": "rank of the gold passage (1 = first)",
    "median_words": "answer length", "pass_rate": "items fully correct",
    "latency_p50_ms": "median time per answer", "errors": "items that failed",
}
"""The Evaluate tab's metrics, in plain words (definitions: evals/report.py)."""


class _App:
    """The handlers: one Bot and one feedback store shared by every browser session."""

    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings
        self.store = FeedbackStore(settings.feedback_db)

    # -- shared views ------------------------------------------------------------------------
    def header(self) -> str:
        gen = self.bot.generation
        docs = len(gen.manifest.get("documents", {}))
        from generate import backend_label  # the model's name, e.g. Qwen2.5-Coder-1.5B-Instruct

        backend = backend_label(self.settings.llm)
        return (
            '<div class="bk-header"><div class="bk-brand"><div class="bk-logo">BK</div><div>'
            '<h1>BPO Knowledge Base</h1><p>Answers on business process outsourcing from the '
            'guide library, every claim linked to its source.</p></div></div>'
            f'<div class="bk-stats"><span><b>{docs}</b> guides</span>'
            f'<span><b>{len(gen.chunks)}</b> passages</span>'
            f'<span>Answers: {render.escape_text(backend)}</span></div></div>')

    # -- Ask tab -----------------------------------------------------------------------------
    @staticmethod
    def _history(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
        hist: list[dict[str, str]] = []
        for t in turns:
            ans = t.get("answer")
            if ans:
                hist += [{"role": "user", "content": ans["question"]},
                         {"role": "assistant", "content": ans["answer"]}]
        return hist

    def respond(self, message: str, chat: list[dict[str, Any]], turns: list[dict[str, Any]]
                ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; on success fill the sources panel and copy text."""
        chat = list(chat or [])
        turns = list(turns or [])
        turn = len(turns) + 1
        history = self._history(turns)
        question = message or ""
        try:
            clean_question(question, self.settings.max_question_chars)
        except QuestionError as e:  # nothing asked: a toast; the chat, its example questions
            gr.Warning(str(e))      # and the typed text stay as they are
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat.append({"role": "user", "content": render.question_html(question)})
        chat.append({"role": "assistant", "content": render.thinking_html()})
        hide = gr.update(visible=False)
        yield "", chat, turns, gr.skip(), gr.skip(), hide
        answer: dict[str, Any] | None = None
        try:
            for piece in self.bot.stream(question, history):
                if isinstance(piece, str):
                    chat[-1] = {"role": "assistant", "content": render.answer_html(None, turn, piece)}
                    yield gr.skip(), chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    time.sleep(STREAM_PAUSE)
                else:
                    answer = piece.to_dict()
        except QuestionError as e:
            chat[-1] = {"role": "assistant", "content": render.error_html(str(e))}
        except BpoKbError as e:
            log.warning("answer failed: %s", e)
            chat[-1] = {"role": "assistant", "content": render.error_html(
                f"The answer could not be produced: {e}")}
        except Exception:  # the UI boundary: log it, never show a traceback
            log.exception("answer failed")
            chat[-1] = {"role": "assistant", "content": render.error_html(
                "Something went wrong while answering; the error is in the server log. "
                "Please try again or rephrase the question.")}
        turns.append({"answer": answer, "history": history, "feedback_id": None})
        if answer is None:
            yield gr.skip(), chat, turns, gr.skip(), gr.skip(), gr.skip()
            return
        msg: dict[str, Any] = {"role": "assistant", "content": render.answer_html(answer, turn)}
        options = render.suggestion_options(answer)
        if options:  # chips under the latest answer; clicking one asks it
            msg["options"] = options
        chat[-1] = msg
        if answer["abstained"]:  # content gaps are recorded even when nobody rates them
            turns[-1]["feedback_id"] = self._safe_record(answer, history)
        panel = render.sources_html([t["answer"] for t in turns], origins(self.bot.generation))
        yield gr.skip(), chat, turns, panel, render.plain_text(answer), gr.skip()

    def _safe_record(self, answer: dict[str, Any], history: list[dict[str, str]]) -> int | None:
        try:
            return self.store.record(answer, history)
        except BpoKbError as e:
            log.warning("feedback not stored: %s", e)
            return None

    def on_like(self, chat: list[dict[str, Any]], turns: list[dict[str, Any]],
                data: gr.LikeData) -> tuple[Any, ...]:
        """👍/👎 on an answer: store it; a 👎 opens the optional reason box."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        ordinal = sum(1 for m in chat[:index] if m.get("role") == "assistant")
        if ordinal >= len(turns) or not turns[ordinal].get("answer"):
            return turns, gr.skip(), None, gr.skip()
        turns = list(turns)
        t = turns[ordinal] = dict(turns[ordinal])
        rating = 1 if data.liked is True else -1 if data.liked is False else None
        try:
            if t.get("feedback_id"):
                self.store.rate(t["feedback_id"], rating)
            else:
                t["feedback_id"] = self.store.record(t["answer"], t["history"], rating=rating)
        except BpoKbError as e:
            gr.Warning(str(e))
            return turns, gr.skip(), None, gr.skip()
        if rating == -1:
            gr.Info("Thanks, your rating was saved: not helpful. What was wrong? Tell us in "
                    "the box below the chat (optional).", duration=_TOAST_SECONDS)
            asked = " ".join(str(t["answer"].get("question") or "").split())
            label = ("Sorry about that. About the answer to "
                     f"“{clip_words(asked, _REASON_QUESTION_CHARS)}”: what was wrong? (optional)")
            return turns, gr.update(visible=True), t["feedback_id"], gr.update(label=label)
        if rating == 1:
            gr.Info("Thanks, your rating was saved: helpful.", duration=_TOAST_SECONDS)
        else:
            gr.Info("Your rating was removed.", duration=_TOAST_SECONDS)
        return turns, gr.update(visible=False), None, gr.skip()

    def save_reason(self, reason: str, pending: int | None) -> tuple[Any, ...]:
        if pending is not None and (reason or "").strip():
            self.store.set_reason(pending, reason)
            gr.Info("Thanks! Your note will help improve the guides.")
        return "", gr.update(visible=False), None

    @staticmethod
    def pick(data: gr.SelectData) -> str:
        """The text of a clicked example or suggested question."""
        value = data.value
        if isinstance(value, dict):
            value = value.get("text") or value.get("value") or ""
        return str(value)

    def new_conversation(self) -> tuple[Any, ...]:
        return [], [], render.sources_html([]), "", "", gr.update(visible=False), None

    @staticmethod
    def copied(outcome: str) -> None:
        """Confirm the copy button's outcome (the browser did the copying: `_COPY_JS`)."""
        if outcome == "copied":
            gr.Info("Copied the answer and its sources, ready to paste.",
                    duration=_TOAST_SECONDS)
        elif outcome == "empty":
            gr.Warning("Nothing to copy yet: ask a question first, then copy its answer.",
                       duration=_TOAST_SECONDS)
        else:
            gr.Warning("Not copied: the browser did not allow it. Select the answer and copy "
                       "it by hand.", duration=_TOAST_SECONDS)

    # -- API ---------------------------------------------------------------------------------
    def api_ask(self, question: str, history_json: str = "") -> dict:
        """Answer one question. `history_json` is a JSON list of {role, content} turns ("" for
        none). Returns the same JSON as `bpo-kb ask --json`, or {"error": message}."""
        try:
            history = json.loads(history_json) if (history_json or "").strip() else []
        except ValueError as e:
            return {"error": f"history_json is not valid JSON ({e}); pass a list such as "
                             '[{"role": "user", "content": "..."}] or ""'}
        if not isinstance(history, list):
            return {"error": f"history_json must be a JSON list of {{role, content}} turns, "
                             f"got {type(history).__name__}"}
        try:
            return self.bot.ask(question, history).to_dict()
        except BpoKbError as e:
            return {"error": str(e)}
        except Exception as e:  # the API boundary: a message, never a traceback
            log.exception("api ask failed")
            return {"error": f"Internal error ({type(e).__name__}); see the server log"}

    # -- Batch tab ---------------------------------------------------------------------------
    def run_batch(self, file: str | None, pasted: str | None, fmt: str,
                  progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        pasted = (pasted or "").strip()
        if file and pasted:
            return _batch_problem("Both a file and pasted questions: clear one of them (the "
                                  "file's ✕, or empty the text box) and answer again.")
        if not file and not pasted:
            return _batch_problem("Paste questions (one per line) or choose a .csv, .xlsx or "
                                  ".jsonl file of questions first.")
        path = Path(file) if file else Path("pasted-questions.txt")
        try:
            batch = read_batch(path) if file else pasted_batch(pasted)
        except (BpoKbError, OSError, UnicodeDecodeError) as e:
            return _batch_problem(f"Cannot read {path.name if file else 'the pasted text'}: {e}")
        rows = batch.rows
        if len(rows) > MAX_BATCH_ROWS:
            what = path.name if file else "The pasted text"
            return _batch_problem(f"{what} has {len(rows):,} questions; the limit here is "
                                  f"{MAX_BATCH_ROWS:,}. Use `bpo-kb batch` for bigger files.")
        t0 = time.perf_counter()
        results = []
        for n, row in enumerate(progress.tqdm(rows, desc="Answering questions"), 1):
            results.append(merge_row(row, answer_row(self.bot, row, n)))
        out_dir = Path(tempfile.mkdtemp(prefix="bpo-kb-batch-"))
        out = out_dir / f"{path.stem}-answers{_BATCH_FORMATS.get(fmt, '.csv')}"
        write_rows(out, results, batch.passthrough)
        table = [table_row(row, res) for row, res in zip(rows, results, strict=True)]
        errors = sum(1 for r in results if "error" in r)
        refused = sum(1 for r in results if r.get("abstained"))
        answered = len(results) - errors
        status = (f"**{answered:,} of {plural(len(results), 'question')} answered** in "
                  f"{time.perf_counter() - t0:.1f} s: {answered - refused:,} from the guides, "
                  f"{refused:,} not covered by them, {plural(errors, 'error')}. The download "
                  "has these answers and sources, plus the full citations (JSON) for tools.")
        return status, gr.update(value=table, visible=True), gr.update(value=str(out),
                                                                       visible=True)

    @staticmethod
    def batch_format(file: str | None) -> Any:
        """Excel in, Excel out by default (other uploads leave the chosen format alone)."""
        return gr.update(value="Excel") if file and file.lower().endswith(".xlsx") else gr.skip()

    # -- Evaluate tab ------------------------------------------------------------------------
    def run_eval(self, dataset: str | None, upload: str | None, limit: float | None,
                 show: str = "Failing", progress: gr.Progress = gr.Progress()
                 ) -> tuple[Any, ...]:
        import evals
        from evals.report import failure_groups, format_delta, format_value

        path = Path(upload) if upload else (DATASETS_DIR / dataset if dataset else None)
        if path is None:
            raise gr.Error("Pick a dataset or upload one (.jsonl or .csv in bpo-kb's format, "
                           "or a ragas, promptfoo or DeepEval file).")
        hide = gr.update(visible=False)
        try:
            data = evals.read_dataset(path, evals.Corpus.load(self.settings))
        except evals.DatasetError as e:  # bad labels: every problem, on the page
            # the upload's name, not the server's temporary path
            lines = str(e).replace(str(path), path.name).split("\n")
            status = (f"**{_md(lines[0])}**\n\n" + "\n".join(
                f"- {_md(ln.strip())}" for ln in lines[1:] if ln.strip()))
            if upload:
                status += ("\n\nA list of questions without expected answers is answered in "
                           "the **Batch** tab.")
            return status, hide, hide, hide, hide, hide, []
        except (BpoKbError, OSError) as e:
            raise gr.Error(f"Cannot load {path.name}: {e}") from e
        items = data.items[:int(limit)] if limit and limit > 0 else data.items
        progress((0, len(items)), desc="Evaluating")
        run = evals.run(self.bot, items, dataset=path.name,
                        progress=lambda done, total: progress((done, total), desc="Evaluating"))
        baseline = evals.load_summary(evals.BASELINE_PATH) if evals.BASELINE_PATH.exists() \
            else None
        why_not = evals.same_dataset(run.summary, baseline) if baseline else None
        comparison = evals.compare(run.summary, baseline) if baseline and not why_not else None
        report = evals.write_report(run, tempfile.mkdtemp(prefix="bpo-kb-eval-"),
                                    comparison=comparison)
        overall = run.summary.get("overall") or {}
        base = {m["metric"]: m for m in (comparison or {}).get("metrics", [])}
        metrics = []
        for name, meaning in METRICS.items():
            m = base.get(name, {})
            change = "-" if m.get("delta") is None else \
                f"{format_delta(name, m['delta'])} ({m['verdict']})"
            metrics.append([name, meaning, format_value(name, overall.get(name)),
                            format_value(name, m.get("baseline")), change])
        ordered = [r for _, group in failure_groups(run.results) for r in group] + [
            r for r in run.results if r.get("passed")]  # the worst failures first
        rows = [[r["id"], r.get("category", ""), "pass" if r.get("passed") else "fail",
                 r["question"], "; ".join(r.get("problems") or [])] for r in ordered]
        failing = sum(1 for r in run.results if not r.get("passed"))
        status = (f"**{plural(int(overall.get('items') or 0), 'item')} from {path.name}**: "
                  f"pass rate {format_value('pass_rate', overall.get('pass_rate'))}, fact "
                  f"recall {format_value('fact_recall', overall.get('fact_recall'))}, "
                  f"{failing:,} failing.")
        if comparison:
            status += (" **Regression against the baseline:** " + ", ".join(
                comparison["regressions"]) if comparison["regression"]
                else " No regression against the baseline.")
        elif baseline:
            status += (f" Not compared with the baseline (evals/baseline.json): {why_not}; "
                       "its numbers only mean something for its own items.")
        else:
            status += " No baseline to compare with (evals/baseline.json)."
        if data.mapping:
            status += "\n\n" + "\n".join(f"- {_md(ln.strip())}" if i else _md(ln)
                                           for i, ln in enumerate(data.mapping))
        if data.warnings:
            status += (f"\n\n{plural(len(data.warnings), 'label warning')}: " + "; ".join(
                _md(w) for w in data.warnings[:3])
                + (" …" if len(data.warnings) > 3 else ""))
        files = sorted(str(p) for p in Path(report).parent.iterdir() if p.is_file())
        shown = gr.update(visible=True)
        return (status, gr.update(value=metrics, visible=True),
                gr.update(value=str(Path(report).with_name("categories.png")), visible=True),
                gr.update(value=self.shown_items(show, rows), visible=True),
                gr.update(value=files, visible=True), shown, rows)

    @staticmethod
    def shown_items(show: str, rows: list[list[Any]]) -> list[list[Any]]:
        """The Evaluate tab's item table: the failing, passing or all items of the last run."""
        keep = {"Failing": ("fail",), "Passing": ("pass",)}.get(show, ("pass", "fail"))
        picked = [r for r in rows or [] if r[2] in keep]
        if not picked:
            what = {"Failing": "Every item passed", "Passing": "No item passed"}.get(
                show, "No items")
            return [["-", "-", "-", what, "-"]]
        return picked

    # -- Documents tab -----------------------------------------------------------------------
    def documents(self) -> tuple[str, list[list[Any]]]:
        gen = self.bot.generation
        rows = [[d.title, d.origin, d.passages, d.ingested_at.replace("T", " ").replace(
            "Z", " UTC"), d.doc_id] for d in documents(gen)]
        summary = (f"**{len(rows)} documents, {len(gen.chunks)} passages** in index "
                   f"`{gen.name}` (embedder `{self.settings.embedder}`). The bot answers only "
                   f"from these; add or edit files in `{self.settings.corpus_dir}` and re-ingest.")
        return summary, rows

    def reingest(self, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        labels = {"read": "Reading documents", "embed": "Embedding passages",
                  "store": "Writing the index"}
        try:
            report = ingest(self.settings, progress=lambda stage, done, total: progress(
                (done, max(total, 1)), desc=labels.get(stage, stage)))
        except BpoKbError as e:
            raise gr.Error(str(e)) from e
        self.bot.refresh(force=True)
        return (ingest_summary(report), *self.documents(), self.header())

    def upload_documents(self, files: list[str] | None, progress: gr.Progress = gr.Progress()
                         ) -> tuple[Any, ...]:
        if not self.settings.allow_upload:
            raise gr.Error("Uploading documents is off; set BPO_KB_ALLOW_UPLOAD=true to allow it.")
        if not files:
            raise gr.Error("Choose one or more documents (.md, .txt, .html, .pdf) first.")
        try:
            saved = save_uploads(files, self.settings.corpus_dir)
        except (BpoKbError, OSError) as e:
            raise gr.Error(str(e)) from e
        msg, summary, rows, header = self.reingest(progress)
        return f"Added {', '.join(saved)}. {msg}", summary, rows, header, None


def _md(text: str) -> str:
    """Plain text inside Markdown: HTML escaped, and `_`, `*`, backticks shown as written."""
    return re.sub(r"([_*`\[\]])", r"\\\1", render.escape_text(text))


def _dataset_choices() -> list[str]:
    return sorted(p.name for p in DATASETS_DIR.glob("*.jsonl")) if DATASETS_DIR.is_dir() else []


def _auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"BPO_KB_AUTH={'*' * len(value)!r} must look like user:password")
    return user, password


_PRIVATE: dict[str, Any] = {"api_visibility": "private"}
"""UI events are not API endpoints: only `ask` is (see `build`)."""


def _ask_tab(app: _App) -> None:
    with gr.Row(equal_height=False, elem_id="bk-ask-row"):
        with gr.Column(scale=7, min_width=420):
            with gr.Row(elem_id="bk-toolbar"):
                gr.HTML("<h3 class='bk-panel-title'>Conversation</h3>", padding=False)
                new_btn = gr.Button("New conversation", size="sm", scale=0, elem_id="bk-new")
                copy_btn = gr.Button("Copy answer + sources", size="sm", scale=0,
                                     elem_id="bk-copy")
            chat = gr.Chatbot(
                elem_id="bk-chat", show_label=False, height=520, layout="panel",
                latex_delimiters=[], buttons=[], line_breaks=False,
                examples=[{"text": q} for q in EXAMPLES],
                placeholder="<div class='bk-placeholder'><h2>Ask the guide library</h2><p>"
                            "Answers quote the guides and cite every source. Try one of these "
                            "questions:</p></div>")
            with gr.Row(elem_id="bk-input-row", equal_height=True):
                box = gr.Textbox(elem_id="bk-question", show_label=False, scale=8, lines=1,
                                 max_lines=6, autofocus=True, container=False,
                                 placeholder=PLACEHOLDER)
                ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=96,
                                    elem_id="bk-ask")
            with gr.Column(visible=False, elem_id="bk-reason-box", variant="panel") as reason_box:
                reason = gr.Textbox(
                    elem_id="bk-reason", lines=1, max_lines=4,  # Enter sends
                    label="Sorry about that. What was wrong with this answer? (optional)",
                    placeholder="e.g. the price range is missing, it should have mentioned "
                                "nearshore options…")
                with gr.Row():
                    send_btn = gr.Button("Send feedback", size="sm", scale=0, variant="primary",
                                         elem_id="bk-reason-send")
                    skip_btn = gr.Button("Skip", size="sm", scale=0, elem_id="bk-reason-skip")
        with gr.Column(scale=5, min_width=320, elem_id="bk-sources-col"):
            gr.HTML("<h3 class='bk-panel-title'>Sources</h3>", padding=False)
            sources = gr.HTML(render.sources_html([]), elem_id="bk-sources-panel",
                              padding=False)
    copy_text = gr.Textbox(visible="hidden", elem_id="bk-copy-text")
    turns = gr.State([])
    pending = gr.State(None)

    ask = {"fn": app.respond, "inputs": [box, chat, turns],
           "outputs": [box, chat, turns, sources, copy_text, reason_box],
           "concurrency_limit": app.settings.concurrency, "concurrency_id": "answer",
           **_PRIVATE}
    for trigger in (box.submit, ask_btn.click):
        trigger(**ask)
        trigger(None, None, None, js=_CHAT_TO_END, queue=False, **_PRIVATE)
    chat.example_select(app.pick, None, box, queue=False, **_PRIVATE).then(**ask)
    chat.option_select(app.pick, None, box, queue=False, **_PRIVATE).then(**ask)
    # queued, like everything that shows a toast: Gradio delivers gr.Info only through the queue
    chat.like(app.on_like, [chat, turns], [turns, reason_box, pending, reason],
              **_PRIVATE).then(None, None, None, js=_REASON_INTO_VIEW, queue=False, **_PRIVATE)
    for event in (send_btn.click, reason.submit):
        event(app.save_reason, [reason, pending], [reason, reason_box, pending], **_PRIVATE)
    skip_btn.click(lambda: ("", gr.update(visible=False), None), None,
                   [reason, reason_box, pending], queue=False, **_PRIVATE)
    reset = [chat, turns, sources, copy_text, box, reason_box, pending]
    new_btn.click(app.new_conversation, None, reset, queue=False, **_PRIVATE)
    chat.clear(app.new_conversation, None, reset, queue=False, **_PRIVATE)
    copy_btn.click(app.copied, copy_text, None, js=_COPY_JS, **_PRIVATE)


def _batch_problem(message: str) -> tuple[Any, ...]:
    """A batch that cannot run: the reason as a toast and in the status line, and the last
    run's table and download hidden (they no longer answer what is on the page)."""
    gr.Warning(message)
    hide = gr.update(visible=False)
    return f"**Not answered.** {_md(message)}", hide, hide


def _batch_tab(app: _App) -> None:
    gr.Markdown("### Answer a list of prospect questions\nPaste questions, one per line, or "
                "upload a **.csv**, **Excel (.xlsx)** or **.jsonl** file with a `question` "
                "column (any letter case; `id` and `history` are optional, other columns are "
                "kept). Every question is answered from the guides with its sources, the same "
                "rows as `bpo-kb batch`.")
    with gr.Row():
        pasted = gr.Textbox(label="Questions, one per line", lines=6, max_lines=20, scale=3,
                            elem_id="bk-batch-paste",
                            placeholder="What is BPO?\nHow much does offshore support cost "
                                        "per hour?\nIs KPO the same as LPO?")
        file = gr.File(label="…or a questions file", file_types=[".csv", ".xlsx", ".jsonl"],
                       type="filepath", elem_id="bk-batch-file", scale=2, height=150)
        with gr.Column(scale=2):
            fmt = gr.Radio(list(_BATCH_FORMATS), value="CSV", label="Download format",
                           elem_id="bk-batch-fmt")
            run = gr.Button("Answer all questions", variant="primary", elem_id="bk-batch-run")
    status = gr.Markdown(elem_id="bk-batch-status")
    out = gr.File(label="Answers with sources", interactive=False, visible=False,
                  elem_id="bk-batch-out", height=80)
    table = gr.Dataframe(headers=["ID", "Question", "Answer", "Sources", "Status"], wrap=True,
                         interactive=False, visible=False, elem_id="bk-batch-table",
                         column_widths=["7%", "20%", "43%", "20%", "10%"])
    file.upload(app.batch_format, file, fmt, queue=False, **_PRIVATE)
    run.click(app.run_batch, [file, pasted, fmt], [status, table, out], concurrency_id="batch",
              concurrency_limit=1, **_PRIVATE)


def _eval_tab(app: _App) -> None:
    gr.Markdown("### Measure answer quality\nRun a labelled question set through the bot: how "
                "often it states the expected facts, cites the right passages and refuses what "
                "the guides don't cover. Format: `evals/datasets/FORMAT.md`; ragas, promptfoo "
                "and DeepEval files are converted (the page says how).")
    choices = _dataset_choices()
    with gr.Row():
        dataset = gr.Dropdown(choices, value="dev.jsonl" if "dev.jsonl" in choices else None,
                              label="Dataset", elem_id="bk-eval-dataset", scale=2)
        upload = gr.File(label="…or upload one (.jsonl, .csv, .json)",
                         file_types=[".jsonl", ".csv", ".json"], height=110, type="filepath",
                         elem_id="bk-eval-file", scale=2)
        with gr.Column(scale=1, min_width=200):
            limit = gr.Number(label="First N items (0 = all)", value=0, precision=0,
                              elem_id="bk-eval-limit")
            run = gr.Button("Run evaluation", variant="primary", elem_id="bk-eval-run")
    status = gr.Markdown(elem_id="bk-eval-status")
    metrics = gr.Dataframe(headers=["Metric", "Means", "Value", "Baseline", "Change"],
                           interactive=False, visible=False, elem_id="bk-eval-metrics",
                           wrap=True, max_height=900,
                           column_widths=["16%", "34%", "14%", "14%", "22%"])
    chart = gr.Image(type="filepath", interactive=False, visible=False, show_label=False,
                     elem_id="bk-eval-chart", buttons=["download"])
    with gr.Row(visible=False, equal_height=True) as details:
        gr.Markdown("#### Items")
        show = gr.Radio(["Failing", "Passing", "All"], value="Failing", show_label=False,
                        container=False, elem_id="bk-eval-show")
    items = gr.Dataframe(headers=["ID", "Category", "Result", "Question", "Problem"], wrap=True,
                         interactive=False, visible=False, elem_id="bk-eval-failing",
                         column_widths=["8%", "14%", "8%", "36%", "34%"])
    files = gr.File(label="Report files (report.html is self-contained and lists every item)",
                    visible=False, file_count="multiple", interactive=False,
                    elem_id="bk-eval-files")
    rows = gr.State([])
    run.click(app.run_eval, [dataset, upload, limit, show],
              [status, metrics, chart, items, files, details, rows], concurrency_id="eval",
              concurrency_limit=1, **_PRIVATE)
    show.change(app.shown_items, [show, rows], items, queue=False, **_PRIVATE)


def _documents_tab(app: _App, header: gr.HTML) -> None:
    summary, rows = app.documents()
    docs_summary = gr.Markdown(summary, elem_id="bk-docs-summary")
    table = gr.Dataframe(value=rows, headers=["Title", "Publisher", "Passages", "Ingested",
                                              "File"],
                         interactive=False, wrap=True, elem_id="bk-docs-table",
                         column_widths=["30%", "28%", "9%", "15%", "18%"])
    with gr.Row(elem_id="bk-docs-actions"):
        reingest = gr.Button("Re-ingest documents", elem_id="bk-reingest", scale=0,
                             min_width=260)
        status = gr.Markdown(elem_id="bk-docs-status")
    outputs = [status, docs_summary, table, header]
    reingest.click(app.reingest, None, outputs, concurrency_id="ingest", concurrency_limit=1,
                   **_PRIVATE)
    if app.settings.allow_upload:
        files = gr.File(label="Add documents (.md, .txt, .html, .pdf)", file_count="multiple",
                        type="filepath", file_types=sorted(SUPPORTED_SUFFIXES),
                        elem_id="bk-doc-upload")
        add = gr.Button("Add to the library", variant="primary", elem_id="bk-doc-add")
        add.click(app.upload_documents, files, [*outputs, files], concurrency_id="ingest",
                  concurrency_limit=1, **_PRIVATE)
    else:
        gr.Markdown("Uploading documents from this page is off; an administrator can turn it "
                    "on with `BPO_KB_ALLOW_UPLOAD=true`.", elem_classes=["bk-muted"])


def build(bot: Bot, settings: Settings) -> gr.Blocks:
    """The Gradio app (not launched)."""
    app = _App(bot, settings)
    with gr.Blocks(title="BPO Knowledge Base", analytics_enabled=False) as demo:
        header = gr.HTML(app.header(), padding=False)
        with gr.Tabs(elem_id="bk-tabs"):
            with gr.Tab("Ask", id="ask"):
                _ask_tab(app)
            with gr.Tab("Batch", id="batch"):
                _batch_tab(app)
            with gr.Tab("Evaluate", id="evaluate"):
                _eval_tab(app)
            with gr.Tab("Documents", id="documents"):
                _documents_tab(app, header)
        gr.api(app.api_ask, api_name="ask", concurrency_limit=settings.concurrency,
               concurrency_id="answer")
    return demo


_CSS = render.CSS + """
.gradio-container { max-width: 1320px !important; margin: 0 auto !important; }
footer { opacity: .6; }
.bk-header { display: flex; justify-content: space-between; align-items: center; gap: 16px;
  flex-wrap: wrap; padding: 18px 22px; background: #0f2a5a; color: #fff; border-radius: 12px; }
.bk-brand { display: flex; gap: 14px; align-items: center; flex: 1 1 420px; }
.bk-logo { width: 44px; height: 44px; border-radius: 10px; background: #2f6fed; display: grid;
  place-items: center; font-weight: 700; letter-spacing: .5px; color: #fff; flex: none; }
.bk-header h1 { margin: 0; font-size: 1.35rem; color: #fff; font-weight: 700; }
.bk-header p { margin: 2px 0 0; color: #c9d6f2; font-size: .92rem; }
.bk-stats { display: flex; gap: 8px; flex-wrap: wrap; }
.bk-stats b { color: #fff; font-weight: 700; }
#bk-toolbar { align-items: center; gap: 6px 8px; flex-wrap: wrap; }
#bk-toolbar > div:first-child { flex: 1 0 0%; min-width: max-content; }
#bk-toolbar button { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important;
  white-space: nowrap; }
#bk-question textarea::placeholder { color: #64748b; }
#bk-chat .options::before { content: "Try asking:"; flex-basis: 100%; font-size: .82rem;
  color: #475569; font-weight: 600; }
@media (max-width: 640px) {  /* a phone: the question box in the first screen */
  .bk-header { padding: 12px 14px; gap: 10px; }
  .bk-header p { display: none; }
  .bk-header h1 { font-size: 1.15rem; }
  .bk-brand { flex-basis: auto; }
  .bk-logo { width: 36px; height: 36px; }
  #bk-toolbar > div:first-child { flex-basis: 100%; }
  #bk-chat { height: min(520px, 50vh) !important; }
  #bk-chat .examples { gap: 6px; }
  .bk-placeholder h2 { display: none; }
  .bk-placeholder p { margin: 0; font-size: .9rem; }
  #bk-chat .example { padding: 8px 12px; }
  #bk-ask { min-width: 64px !important; }
  #bk-chat .options { padding: 0 12px 12px; }
}
#bk-chat button[aria-label="Clear"] { display: none; }
#bk-input-row { background: #fff; border: 1px solid #dbe2ee; border-radius: 12px;
  padding: 8px; align-items: stretch; }
#bk-question textarea { border: none !important; box-shadow: none !important;
  font-size: 1rem; }
.bk-stats span { background: rgba(255,255,255,.12); border-radius: 999px; padding: 4px 12px;
  font-size: .82rem; color: #e6edfb; }
#bk-chat { border-radius: 12px; }
.bk-placeholder { text-align: center; color: #475569; }
.bk-placeholder h2 { margin-bottom: 4px; color: #0f2a5a; }
#bk-sources-col { position: sticky; top: 8px; }
.bk-panel-title { margin: 4px 2px 8px; font-size: 1rem; color: #0f2a5a; }
#bk-sources-panel { max-height: 640px; overflow-y: auto !important; padding-right: 4px; }
.bk-muted { color: #64748b; }
#bk-batch-status { min-height: 64px; }  /* room for the progress bar while answering */
#bk-eval-chart img { max-width: 960px; margin: 0 auto; display: block; }
#bk-chat .options { display: flex; flex-wrap: wrap; justify-content: flex-start; gap: 8px;
  margin-left: 0; max-width: none; padding: 0 24px 12px; }
#bk-chat .option { flex: 0 1 auto; width: auto; max-width: 100%; display: block;
  border: 1px solid #bfd0f5 !important; background: #f3f7ff; color: #1d4ed8;
  border-radius: 999px; padding: 6px 14px; font-size: .9rem; text-align: left; }
#bk-chat .option:hover { background: #1d4ed8; color: #fff; }
.gradio-container [id^="bk-"] :is(.virtual-row, .virtual-row *) { font-family: var(--font) !important; }
"""

_COPY_JS = """async (text) => {
  if (!text) { return ['empty']; }
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return ['copied']; } catch (e) { }
  }
  const area = document.createElement('textarea');
  area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed';
  area.style.opacity = '0'; document.body.appendChild(area); area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
  document.body.removeChild(area);
  return [ok ? 'copied' : 'blocked'];
}"""
"""Copies in the browser and hands `_App.copied` the outcome: copied, empty or blocked."""

_CHAT_TO_END = """() => {
  const log = document.querySelector('#bk-chat .panel-wrap');
  if (log) { log.scrollTop = log.scrollHeight; }
}"""
"""A question just sent shows with its answer even if the user had scrolled up the chat (to
click a marker): Gradio follows a growing answer only when the chat is at its end."""

_REASON_INTO_VIEW = """() => {
  const box = document.querySelector('#bk-reason-box');
  if (!box || !box.offsetParent) { return; }
  box.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  const text = box.querySelector('textarea');
  if (text) { text.focus({preventScroll: true}); }
}"""
"""After a 👎 the reason box opens below the chat, out of sight on a laptop screen: bring it
into view and put the cursor in it."""
_REASON_QUESTION_CHARS = 80
"""The reason box names the question it is about, cut to this many characters."""

_HEAD = """<script>
document.addEventListener('click', function (event) {
  var link = event.target && event.target.closest ? event.target.closest('a.cite') : null;
  if (!link) { return; }
  var target = document.getElementById((link.getAttribute('href') || '').slice(1));
  event.preventDefault();
  if (!target) { return; }
  var box = target.closest('details');
  if (box) { box.open = true; }
  // scroll the sources panel, then the window to the panel: scrollIntoView also scrolled
  // Gradio's overflow-hidden wrappers, which hid the chat with no way back
  var panel = target.closest('#bk-sources-panel');
  if (panel) {
    var off = target.getBoundingClientRect().top - panel.getBoundingClientRect().top;
    panel.scrollTo({top: panel.scrollTop + off - 8, behavior: 'smooth'});
    var at = panel.getBoundingClientRect().top;
    if (at < 0 || at > window.innerHeight - 120) {
      window.scrollBy({top: at - 8, behavior: 'smooth'});
    }
  } else {
    target.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  }
  target.classList.remove('bk-flash'); void target.offsetWidth; target.classList.add('bk-flash');
}, true);
// Gradio labels each chat message for screen readers with its raw content, which is our
// HTML ("bot's message: <div class=...>"): relabel with the text a reader sees
(function () {
  var SAYS = "'s message: ", pending = false;
  function relabel() {
    pending = false;
    document.querySelectorAll('[aria-label*="' + SAYS + '<"]').forEach(function (el) {
      var label = el.getAttribute('aria-label');
      var text = (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
      if (!text) { return; }  // not rendered yet: the next change comes back to it
      el.setAttribute('aria-label', label.slice(0, label.indexOf(SAYS) + SAYS.length)
                      + text.replace(/</g, ''));
    });
  }
  new MutationObserver(function () {
    if (!pending) { pending = true; setTimeout(relabel, 50); }
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                        attributes: true, attributeFilter: ['aria-label']});
})();
</script>"""


def theme() -> gr.themes.Base:
    font = ["Segoe UI", "system-ui", "-apple-system", "Helvetica Neue", "Arial",
            "Liberation Sans", "sans-serif"]  # system fonts: nothing to download
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", radius_size="md",
                             font=font, font_mono=["ui-monospace", "Consolas",
                                                   "Liberation Mono", "monospace"]).set(
        body_background_fill="#f5f7fb", block_border_width="1px", block_shadow="none",
        button_primary_background_fill="#1d4ed8", button_primary_background_fill_hover="#1e40af")


def _patient_url_ok(url: str) -> bool:
    """Gradio's launch self-check gives up after one 3 s timeout and then refuses to start;
    a busy 2-core machine (an index just built, other jobs) can need longer. Keep asking."""
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.head(url, timeout=10).status_code in (200, 401, 301, 302, 303, 307, 308):
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def launch(bot: Bot, settings: Settings, *, block: bool = True) -> gr.Blocks:
    """Serve the app on settings.host:settings.port until interrupted (or, with
    `block=False`, in the background: the caller stops it with `.close()`)."""
    from gradio import networking

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    networking.url_ok = _patient_url_ok
    demo = build(bot, settings)
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name=settings.host, server_port=settings.port, auth=_auth(settings.auth),
                auth_message="Sign in to the BPO Knowledge Base.", footer_links=["api"],
                max_file_size=f"{int(settings.max_file_mb)}mb", show_error=False,
                theme=theme(), css=_CSS, head=f"{_HEAD}<style>{render.HEAD_STYLE}</style>",
                quiet=not block,
                prevent_thread_lock=not block)
    return demo
