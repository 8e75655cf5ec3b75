"""Leave-one-guide-out: questions only one document answers must be refused without it.

    python -m evals.leave_one_out evals/datasets/loo.jsonl [--json out/loo.json]

The dataset's items carry `only_doc`: the one corpus document that answers them. For each
document named, an index is built from the corpus without it (in a temporary data dir, the
corpus folder's other files and manifest copied beside it) and that document's items are
asked there as unanswerable: a refusal passes. Every item is also asked against the whole
corpus, where it is answerable (fact recall, cite hit, false refusals). Nothing here is
specific to the BPO guides: any corpus and any items with `only_doc` work.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

__all__ = ["bot_without", "main", "run_leave_one_out"]


def _corpus_without(corpus: Path, doc: str, into: Path) -> Path:
    """A copy of the corpus folder without `doc` (other files and the manifest kept)."""
    out = into / "corpus"
    shutil.copytree(corpus, out, ignore=shutil.ignore_patterns(doc))
    return out


@contextmanager
def bot_without(settings: Any, doc: str, prefix: str = "bpo-kb-loo-") -> Iterator[Any]:
    """A `Bot` on an index built, in a temporary data dir, from the corpus folder without
    document `doc`; the folder and index are removed on exit."""
    from bot import Bot
    from ingest import ingest

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        corpus = _corpus_without(settings.corpus_dir, doc, Path(tmp))
        s = settings.model_copy(update={"data_dir": Path(tmp) / "data", "corpus_dir": corpus})
        ingest(s)
        yield Bot.open(s)


def run_leave_one_out(dataset: Path, settings: Any, echo: Any = print) -> dict[str, Any]:
    """Per left-out document: refusal rate of its items without it; overall: refusal rate
    and, against the full corpus, the usual answer metrics of the same items."""
    from bot import Bot

    from .dataset import load_dataset
    from .runner import run

    items = load_dataset(dataset)
    by_doc: dict[str, list[Any]] = {}
    for it in items:
        doc = it.extra.get("only_doc")
        if not doc:
            raise SystemExit(f"item {it.id} has no only_doc; every item of {dataset} must name "
                             "the one document that answers it")
        by_doc.setdefault(str(doc), []).append(it)
    out: dict[str, Any] = {"dataset": str(dataset), "documents": {}}
    refused_all = 0
    for doc, its in sorted(by_doc.items()):
        with bot_without(settings, doc) as bot:
            flipped = [replace(it, answerable=False, must_include=(), sources=()) for it in its]
            r = run(bot, flipped, dataset=f"{dataset.name} without {doc}")
        refused = sum(1 for x in r.results if x["abstained"] and not x.get("error"))
        refused_all += refused
        answered = [x["id"] for x in r.results if not x["abstained"]]
        out["documents"][doc] = {"items": len(its), "refused": refused,
                                 "oos_refusal": round(refused / len(its), 4),
                                 "answered": answered}
        echo(f"without {doc}: {refused}/{len(its)} refused"
             + (f" (answered: {', '.join(answered)})" if answered else ""))
    out["oos_refusal"] = round(refused_all / len(items), 4)
    full = run(Bot.open(settings), items, dataset=dataset.name)
    out["full_corpus"] = {k: full.summary["overall"].get(k) for k in
                          ("fact_recall", "cite_hit", "false_abstain", "median_words")}
    echo(f"leave-one-out oos_refusal {out['oos_refusal']:.3f} ({refused_all}/{len(items)}); "
         f"with every guide: fact {out['full_corpus']['fact_recall']:.3f}, cite "
         f"{out['full_corpus']['cite_hit']:.3f}, false_abstain "
         f"{out['full_corpus']['false_abstain']:.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    from bpo_kb import Settings

    p = argparse.ArgumentParser(prog="python -m evals.leave_one_out", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", type=Path)
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    args = p.parse_args(argv)
    result = run_leave_one_out(args.dataset, Settings())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
