"""The runner: one loaded `Bot` answers every item of a dataset; each answer is scored.

An item whose question raises an error is recorded as a failure (with the error) and the run
goes on. The ranked passages of each answer (`Answer.ranked`, before composition) are kept as
texts for the retrieval metrics, and the answerability score for the refusal operating curve.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .dataset import Item
from .metrics import by_category, refusal_auc, refusal_curve, score_item, summarize

__all__ = ["Run", "build_summary", "dataset_digest", "run"]

log = logging.getLogger(__name__)


@dataclass
class Run:
    """The outcome of running a dataset: per-item results and the summary of metrics."""

    results: list[dict[str, Any]]
    """One dict per item, in dataset order (what results.jsonl holds)."""
    summary: dict[str, Any]
    """`overall` and per-`categories` metrics, the refusal curve and what was run."""
    items: list[Item] = field(default_factory=list)
    """The items that were run."""


def run(bot: Any, items: Sequence[Item], *, progress: Callable[[int, int], None] | None = None,
        dataset: str | None = None) -> Run:
    """Answer every item with `bot.ask(question, history)` and score the answers.

    `progress(done, total)` is called after each item. `dataset` names the set in the summary.
    """
    results: list[dict[str, Any]] = []
    total = len(items)
    t_start = time.perf_counter()
    for n, item in enumerate(items, 1):
        results.append(_run_item(bot, item))
        if progress is not None:
            progress(n, total)
    seconds = time.perf_counter() - t_start
    return Run(results=results, summary=build_summary(bot, results, dataset=dataset,
                                                      seconds=seconds), items=list(items))


def build_summary(bot: Any, results: Sequence[dict[str, Any]], *, dataset: str | None = None,
                  seconds: float | None = None) -> dict[str, Any]:
    """The summary of a run's results (also what `--write-baseline` stores)."""
    settings = getattr(bot, "settings", None)
    top_k = getattr(settings, "top_k", None)
    gen = getattr(bot, "generation", None)
    return {
        "dataset": dataset,
        "dataset_digest": dataset_digest(results),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": None if seconds is None else round(seconds, 2),
        "bot": {
            "backend": getattr(settings, "llm", None),
            "embedder": getattr(settings, "embedder", None),
            "top_k": top_k,
            "candidates": getattr(settings, "candidates", None),
            "max_answer_sentences": getattr(settings, "max_answer_sentences", None),
            "abstain_threshold": getattr(settings, "abstain_threshold", None),
            "index_generation": getattr(gen, "name", None),
            "chunks": len(getattr(gen, "chunks", ()) or ()),
        },
        "overall": summarize(results, top_k=top_k),
        "categories": by_category(results, top_k=top_k),
        "refusal_auc": refusal_auc(results),
        "refusal_curve": refusal_curve(results),
    }


def dataset_digest(results: Sequence[dict[str, Any]]) -> str:
    """A short hash of the items' ids, questions and histories: two runs with the same digest
    answered the same questions (what a baseline comparison needs)."""
    h = hashlib.sha256()
    for r in results:
        h.update(json.dumps([r.get("id"), r.get("question"), r.get("history") or []],
                            ensure_ascii=False).encode("utf-8", "replace"))
    return h.hexdigest()[:16]


def _run_item(bot: Any, item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.id, "category": item.category, "question": item.question,
        "answerable": item.answerable,
    }
    if item.history:
        out["history"] = [dict(t) for t in item.history]
    t0 = time.perf_counter()
    try:
        ans = bot.ask(item.question, [dict(t) for t in item.history])
    except Exception as e:  # one failing item must not stop the run
        log.warning("item %s failed: %s: %s", item.id, type(e).__name__, e)
        error = f"{type(e).__name__}: {e}"
        out.update({"answer": None, "abstained": False, "citations": [], "ranked": [],
                    "answerability": None, "latency_ms": None, "error": error})
        out.update(score_item(item, answer=None, abstained=False, citation_texts=(),
                              ranked_texts=(), error=error))
        out["sources"] = [{"doc": s.doc, "quote": s.quote} for s in item.sources]
        return out
    ms = (time.perf_counter() - t0) * 1000
    citations = [{"marker": c.marker, "doc": c.doc, "section": c.section, "text": c.text,
                  "start": c.start, "end": c.end} for c in ans.citations]
    ranked = list(getattr(ans, "ranked", ()) or ())
    out.update({
        "answer": ans.answer, "abstained": bool(ans.abstained), "citations": citations,
        "retrieval_query": ans.retrieval_query, "ranked": ranked,
        "answerability": ans.answerability, "latency_ms": round(ms, 1),
        "backend": ans.backend, "error": None,
    })
    out.update(score_item(item, answer=ans.answer, abstained=bool(ans.abstained),
                          citation_texts=[c.text for c in ans.citations],
                          ranked_texts=_passage_texts(bot, ranked)))
    out["sources"] = [{"doc": s.doc, "quote": s.quote} for s in item.sources]
    return out


def _passage_texts(bot: Any, chunk_ids: Sequence[str]) -> list[str]:
    """Texts of the ranked chunks, best first ("" for an id the current generation lacks)."""
    gen = bot.generation
    texts = []
    for cid in chunk_ids:
        i = gen.by_id.get(cid)
        if i is None:
            log.warning("ranked chunk %r is not in index generation %s", cid,
                        getattr(gen, "name", "?"))
            texts.append("")
            continue
        texts.append(gen.chunks[i].text)
    return texts
