"""Precision and recall of the claim verifier on hand-made (sentence, passage) pairs.

    python -m evals.verify_bench                      # the tuning pairs
    python -m evals.verify_bench --sweep              # plus a threshold sweep (calibration)
    python -m evals.verify_bench evals/verify_pairs/heldout.jsonl
    python -m evals.verify_bench evals/verify_pairs/qwen_tuning.jsonl    # a real model's sentences
    python -m evals.verify_bench evals/verify_pairs/qwen_heldout.jsonl
    python -m evals.verify_bench my-pairs.jsonl --json

Pairs (evals/verify_pairs/*.jsonl): `sentence`, `passage` (exact corpus lines; `doc` and
`lines` say where from), `supported` (the truth), `kind` (exact, paraphrase, subset | number,
entity, negation, unrelated, comparison, heading), optionally `heading` (the passage's title
and section) and `reason` (why the label). "Positive" = the verifier keeps the sentence:
precision = kept sentences that are truly supported; recall = supported sentences kept.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

PAIRS = Path(__file__).resolve().parent / "verify_pairs" / "tuning.jsonl"
"""The pairs the weights and rules were tuned on."""
HELDOUT = PAIRS.with_name("heldout.jsonl")
"""Pairs written after tuning and run once before the last fixes (see the report)."""
QWEN_TUNING = PAIRS.with_name("qwen_tuning.jsonl")
QWEN_HELDOUT = PAIRS.with_name("qwen_heldout.jsonl")
"""Sentences Qwen2.5-Coder-1.5B-Instruct wrote for dev questions, each with a passage of its
prompt (the one it cited, or the verifier's best, and the best other one), labelled by
reading the passage (`reason` says why); split by question, a third held out. The weights and
threshold were fitted on tuning.jsonl + qwen_tuning.jsonl."""

__all__ = ["HELDOUT", "PAIRS", "QWEN_HELDOUT", "QWEN_TUNING", "load_pairs", "run", "score"]


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        for key in ("sentence", "passage", "supported"):
            if key not in row:
                raise ValueError(f"{path}:{n}: pair has no {key!r}; see evals/verify_bench.py")
        rows.append(row)
    return rows


def score(truth: Sequence[bool], kept: Sequence[bool]) -> dict[str, float]:
    """Precision/recall of keeping supported sentences, and of removing unsupported ones."""
    tp = sum(t and k for t, k in zip(truth, kept, strict=True))
    fp = sum(k and not t for t, k in zip(truth, kept, strict=True))
    fn = sum(t and not k for t, k in zip(truth, kept, strict=True))
    tn = sum(not t and not k for t, k in zip(truth, kept, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"pairs": len(truth), "supported": tp + fn, "unsupported": tn + fp,
            "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "unsupported_removed": tn / (tn + fp) if tn + fp else 0.0,
            "accuracy": (tp + tn) / len(truth) if truth else 0.0}


def run(pairs: Sequence[dict[str, Any]], *, embedder_spec: str | None = None,
        threshold: float | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Verify every pair; the summary and the per-pair verdicts."""
    from bpo_kb import Settings
    from generate.verify import THRESHOLD, Passage, Verifier, windows
    from ingest import make_embedder

    spec = embedder_spec or Settings(_env_file=None).embedder
    verifier = Verifier(make_embedder(spec), threshold=THRESHOLD if threshold is None
                        else threshold)
    texts: list[str] = []
    for p in pairs:
        texts.append(p["sentence"])
        texts += [p["passage"][a:b] for a, b in windows(p["passage"])]
    verifier.prefetch(texts)
    rows = []
    for p in pairs:
        s = verifier.support(p["sentence"], Passage(1, p["passage"], p.get("heading", "")))
        rows.append({"id": p.get("id"), "kind": p.get("kind", ""), "truth": bool(p["supported"]),
                     "kept": s.supported, "score": round(s.score, 3),
                     "similarity": round(s.similarity, 3), "overlap": round(s.overlap, 3),
                     "reason": s.reason, "sentence": p["sentence"],
                     "_support": s})
    summary = score([r["truth"] for r in rows], [r["kept"] for r in rows])
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    summary["by_kind"] = {k: {"n": len(v), "correct": sum(r["truth"] == r["kept"] for r in v)}
                          for k, v in sorted(by_kind.items())}
    summary["threshold"] = verifier.threshold
    return summary, rows


def _sweep(rows: list[dict[str, Any]]) -> list[tuple[float, dict[str, float]]]:
    from generate.verify import MIN_OVERLAP

    out = []
    for i in range(40, 86, 2):
        t = i / 100
        kept = []
        for r in rows:
            s = r["_support"]
            hard = (s.overlap >= MIN_OVERLAP and not s.missing_figures and not s.missing_names and not s.unstated and not s.not_a_claim
                    and not s.negation and not s.swapped)
            kept.append(hard and s.score >= t)
        out.append((t, score([r["truth"] for r in rows], kept)))
    return out


@click.command()
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path))
@click.option("--threshold", type=float, default=None, help="Override the support threshold.")
@click.option("--sweep", is_flag=True, help="Also print precision/recall per threshold.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def main(path: Path | None, threshold: float | None, sweep: bool, as_json: bool) -> None:
    """Score the claim verifier on (sentence, passage) pairs."""
    pairs = load_pairs(path or PAIRS)
    summary, rows = run(pairs, threshold=threshold)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{summary['pairs']} pairs ({summary['supported']} supported, "
               f"{summary['unsupported']} not), threshold {summary['threshold']:.2f}")
    click.echo(f"precision {summary['precision']:.3f}  recall {summary['recall']:.3f}  "
               f"f1 {summary['f1']:.3f}  unsupported removed {summary['unsupported_removed']:.3f}"
               f"  accuracy {summary['accuracy']:.3f}")
    for kind, v in summary["by_kind"].items():
        click.echo(f"  {kind:<11} {v['correct']}/{v['n']}")
    wrong = [r for r in rows if r["truth"] != r["kept"]]
    if wrong:
        click.echo("errors:")
        for r in wrong:
            what = "kept unsupported" if r["kept"] else "removed supported"
            click.echo(f"  {r['id']} {r['kind']:<10} {what}: score {r['score']} (sim "
                       f"{r['similarity']}, overlap {r['overlap']}) {r['reason']} | "
                       f"{r['sentence'][:90]}")
    if sweep:
        click.echo("threshold  precision  recall  f1")
        for t, s in _sweep(rows):
            click.echo(f"  {t:.2f}      {s['precision']:.3f}     {s['recall']:.3f}   {s['f1']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
