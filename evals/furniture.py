"""Page furniture found at ingest, listed per document, to check that no content is lost.

    python -m evals.furniture                 # the corpus folder (BPO_KB_CORPUS_DIR)
    python -m evals.furniture path/to/docs --quotes evals/datasets/*.jsonl

Prints every sentence `ingest.furniture` keeps out of answers, the chunks dropped as all
furniture, and - with `--quotes` - any gold quote of an eval set that overlaps furniture
(there should be none: a gold quote is content).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from bpo_kb import Settings
    from ingest import load_document
    from ingest.furniture import furniture_spans
    from ingest.loaders import discover, read_manifest

    p = argparse.ArgumentParser(prog="python -m evals.furniture", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", nargs="?", type=Path, default=None)
    p.add_argument("--quotes", nargs="*", type=Path, default=[],
                   help="eval datasets whose gold quotes must not be furniture")
    args = p.parse_args(argv)
    corpus = args.corpus or Settings().corpus_dir
    manifest = read_manifest(corpus)
    spans: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    total = 0
    for f in discover([corpus]):
        doc = load_document(f, f.name, manifest=manifest)
        if not hasattr(doc, "text"):
            continue
        found = furniture_spans(doc.text, doc.meta.get("publisher", ""))
        spans[f.name] = (doc.text, found)
        total += len(found)
        print(f"{f.name}: {len(found)} furniture sentences")
        for a, b in found:
            print(f"  - {doc.text[a:b][:160]!r}")
    bad = 0
    for ds in args.quotes:
        for line in ds.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            for s in item.get("sources") or []:
                text, found = spans.get(s["doc"], ("", []))
                at = text.find(s["quote"])
                if at >= 0 and any(a < at + len(s["quote"]) and at < b for a, b in found):
                    bad += 1
                    print(f"GOLD QUOTE IN FURNITURE: {ds.name} {item['id']}: {s['quote'][:100]!r}")
    print(f"{total} furniture sentences in {len(spans)} documents"
          + (f"; {bad} gold quotes overlap furniture" if args.quotes else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
