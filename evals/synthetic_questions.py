"""Training questions generated from the index itself, for fitting the answer models.

    python -m evals.synthetic_questions -o evals/training/synthetic.jsonl [--paraphrase qwen-1.5b]

Every passage with a question of its own gives one: a FAQ passage its question (the gold:
the sentences that answer it), any other passage its heading phrased as a question by
general English (`bot.suggest.as_question`: "How to Choose a BPO Provider: A Checklist" ->
"How do I choose a BPO provider?"; the gold: its first sentences, or every item of its list).
With `--paraphrase`, an LLM backend (`BPO_KB_LLM` syntax; the in-process Qwen2.5 1.5B
here) reads each passage and writes three more questions it answers, as a person would
type them - other words than the heading, one casual and short - so that the models do not
learn to match headings word for word.

The items are in the eval format (evals/datasets/FORMAT.md) with empty `must_include`:
they teach the re-ranker, the unit ranker and the list model which passages and units
answer, never the refusal model (they are all answerable). Nothing is written by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["main", "questions"]

GOLD_SENTENCES = 2
"""A heading's gold: the first this many sentences under it (or every item of its list)."""


def questions(bot: Any) -> list[dict[str, Any]]:
    """One training item per passage that has a question of its own."""
    from bot.suggest import as_question, topic_of
    from ingest.units import units_of

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for chunk in bot.generation.chunks:
        units = [u for u in units_of(chunk) if not u.about_document]
        if not units:
            continue
        faq = re.sub(r"^\s*\d{1,2}[.)]\s+", "", units[0].context) \
            if units[0].context.endswith("?") else ""
        question = faq or as_question(topic_of(chunk))
        if not question or question.lower() in seen:
            continue
        seen.add(question.lower())
        items = [u for u in units if u.kind in ("item", "row")]
        if faq:
            gold = [u for u in units if u.context.endswith(faq)][:GOLD_SENTENCES + 1]
        elif len(items) >= 3:
            gold = items
        else:
            gold = units[:GOLD_SENTENCES]
        out.append({"id": f"s{len(out) + 1:04d}", "question": question, "category": "synthetic",
                    "answerable": True, "must_include": [],
                    "sources": [{"doc": chunk.doc_id, "quote": chunk.text[u.start:u.end]}
                                for u in gold],
                    "origin": {"chunk": chunk.chunk_id, "from": "faq" if faq else "heading",
                               "list": len(items) >= 3 and not faq}})
    return out


PARAPHRASE_PROMPT = (
    "Here is a passage from a guide.\n\nHeading: {heading}\nPassage: {passage}\n\n"
    "Write {n} different questions that a busy business owner might type into a chat box "
    "and that this passage answers. Use your own words, not the heading's: one short and "
    "casual, the others full sentences. Reply with the questions only, one per line.")


def paraphrase(items: list[dict[str, Any]], spec: str, settings: Any, n: int = 3
               ) -> list[dict[str, Any]]:
    """Each item plus `n` questions on its passage written by the LLM `spec`."""
    import threading

    from generate import make_backend
    from generate.prompting import Prompt

    backend = make_backend(spec, settings)
    out = []
    for k, it in enumerate(items):
        out.append(it)
        passage = " ".join(s["quote"] for s in it["sources"])[:500]
        prompt = Prompt(system="You write questions.", history=(),
                        user=PARAPHRASE_PROMPT.format(n=n, heading=it["question"],
                                                      passage=passage),
                        completion="", passages=())
        text = "".join(backend.stream(prompt, max_tokens=40 * n, cancel=threading.Event()))
        lines = [re.sub(r"^\s*(?:\d+[.)]|[-*])\s*", "", ln).strip().strip('"')
                 for ln in text.splitlines()]
        for j, ln in enumerate(x for x in lines if x.endswith("?") and 3 <= len(x.split()) <= 30):
            if j >= n:
                break
            out.append({**it, "id": f"{it['id']}p{j + 1}", "question": ln,
                        "origin": {**it["origin"], "paraphrase_of": it["id"]}})
        print(f"paraphrased {k + 1}/{len(items)}", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    from bot import Bot
    from bpo_kb import Settings

    p = argparse.ArgumentParser(prog="python -m evals.synthetic_questions", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--paraphrase", default=None,
                   help="an LLM backend (BPO_KB_LLM value) that writes three more questions "
                        "per passage")
    args = p.parse_args(argv)
    settings = Settings()
    items = questions(Bot.open(settings))
    if args.paraphrase:
        items = paraphrase(items, args.paraphrase, settings)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} questions to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
