"""Off-topic questions asked in the middle of a conversation, for the refusal model.

    python -m evals.offtopic_followups evals/datasets/offtopic.jsonl \
        --histories evals/datasets/{dev,check,blind,blind2,blind3,blind4,blind5,blind6}.jsonl \
        -o evals/datasets/offtopic_followups.jsonl

Each off-topic question is asked after the history of one of the labelled follow-up items
(taken in turn), opened the way a person carries on a chat ("ok and who won the world
cup?"). A follow-up is searched together with the earlier turn's words, so its coverage
features see the earlier topic: without such items the refusal model never saw an
unanswerable follow-up whose own words the documents never use, and answered about half of
them (a helper in the browser: "who won the world cup?" after two questions on KPO and
LPO was answered from the KPO passages). The items are generated, never written by hand;
all are unanswerable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["OPENINGS", "followups", "main"]

OPENINGS = ("ok and ", "and ", "also, ", "so ", "thanks! ")
"""How a question carries on a chat, taken in turn: four cue words that make it a follow-up,
and one that does not (a new topic mid-conversation)."""


def followups(questions: list[dict[str, Any]], histories: list[list[dict[str, str]]],
              prefix: str = "offfu") -> list[dict[str, Any]]:
    """Each question after one of the histories (in turn), with one of `OPENINGS`."""
    if not histories:
        raise ValueError("no item of the history datasets has a history")
    out = []
    for n, item in enumerate(questions):
        q = item["question"].strip()
        opening = OPENINGS[n % len(OPENINGS)]
        out.append({"id": f"{prefix}-{n + 1:03d}", "question": opening + q[:1].lower() + q[1:],
                    "category": "off_topic", "answerable": False, "must_include": [],
                    "sources": [], "history": histories[(n * 7) % len(histories)]})
    return out


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.offtopic_followups", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", type=Path, help="off-topic questions (eval JSONL)")
    ap.add_argument("--histories", type=Path, nargs="+", required=True,
                    help="eval datasets whose follow-up items lend their histories")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--prefix", default="offfu", help="the items' id prefix (default offfu)")
    args = ap.parse_args(argv)
    histories = [it["history"] for p in args.histories for it in _jsonl(p) if it.get("history")]
    try:
        rows = followups(_jsonl(args.questions), histories, args.prefix)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.output.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                           encoding="utf-8")
    print(f"{len(rows)} items -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
