"""Ablation: what each part of the answer pipeline is worth, measured on eval datasets.

    python -m evals.ablation evals/datasets/dev.jsonl evals/datasets/blind.jsonl

Each variant switches one part off, opens a fresh Bot on the index in `BPO_KB_DATA_DIR` (build
it first: `bpo-kb ingest`) and runs the datasets:

- `full`: the shipped pipeline;
- `no_vocabulary`: no vocabulary file (corpus/vocab.toml) - the acronyms the documents spell
  out themselves are still found;
- `no_shape_rules`: no question-shape rules - every question is "other" (no definition,
  comparison or list strategy);
- `no_<shape>_shape` (definition, comparison, list): questions of that one
  shape are read as "other" (which shape strategies pay);
- `no_spelling`: question words are not corrected against the index's words;
- `no_list_model`: the list model's hand-set weights instead of the fitted ones;
- `hand_reranker` / `hand_unit_ranker`: the passage re-ranker's / unit ranker's hand-set
  weights instead of the fitted ones;
- `no_name_model`: words the documents never use are never read as names;
- `no_cross_encoder`: no cross-encoder (`BPO_KB_CROSS_ENCODER=none`): the first-stage unit
  ranker alone and the refusal model fitted without the cross-encoder's feature;
- `similarity_refusal`: refusal by the best unit similarity alone; reported as the share of
  unanswerable items refused at the threshold that refuses at most 3% / 5% of answerable ones.

Every variant runs in its own process, so a switched-off part cannot leak into the next.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SHAPES = ("definition", "comparison", "list")
VARIANTS = ("full", "no_vocabulary", "no_shape_rules",
            *(f"no_{shape}_shape" for shape in SHAPES), "no_spelling", "no_list_model",
            "hand_reranker", "hand_unit_ranker", "no_name_model", "no_cross_encoder",
            "similarity_refusal")
METRICS = ("fact_recall", "cite_hit", "recall@5", "mrr", "false_abstain", "oos_refusal",
           "median_words")


def _run_variant(variant: str, datasets: list[str]) -> list[dict[str, Any]]:
    """Run the datasets with one part switched off (inside this process)."""
    import bot.abstention as abstention
    import bot.chatbot as chatbot
    import bot.compose.listing as listing
    import bot.names as names
    import bot.question as question
    import bot.ranking as ranking
    import bot.retrieval as retrieval
    from bot import Bot
    from bpo_kb import Settings

    from .dataset import load_dataset
    from .runner import run

    missing = Path("/nonexistent/model.json")  # no fitted file: the hand-set weights
    settings = Settings()
    shapes = True
    if variant == "no_vocabulary":
        settings = settings.model_copy(update={"vocab": "none"})
    elif variant == "no_shape_rules":
        shapes = False
    elif variant.endswith("_shape"):
        off, shape_of = variant[3:-6], question.shape_of

        def one_off(text: str, english: Any = None) -> tuple[str, tuple[str, ...], str]:
            shape, sides, subject = shape_of(text, english)
            return ("other", (), "") if shape == off else (shape, sides, subject)

        question.shape_of = one_off  # type: ignore[assignment]
    elif variant == "no_spelling":
        chatbot.Speller = None  # type: ignore[assignment,misc]
    elif variant == "no_list_model":
        listing.MODEL_PATH = missing
    elif variant == "hand_reranker":
        retrieval.MODEL_PATH = missing
    elif variant == "hand_unit_ranker":
        ranking.MODEL_PATH = missing
    elif variant == "no_name_model":
        names.MODEL_PATH = missing
    elif variant == "no_cross_encoder":
        settings = settings.model_copy(update={"cross_encoder": "none"})
    elif variant == "similarity_refusal":
        sim = abstention.FEATURES.index("unit_sim")
        weights = tuple(10.0 if i == sim else 0.0 for i in range(len(abstention.FEATURES)))
        model = abstention.AbstentionModel(weights, -5.0, 0.0)  # never refuses by itself
        abstention.AbstentionModel.default = classmethod(  # type: ignore[method-assign]
            lambda cls, **_: model)
    bot = Bot.open(settings)
    if not shapes:
        bot = Bot(settings, bot.generation, shapes=False)
    rows = []
    for path in datasets:
        result = run(bot, load_dataset(path), dataset=Path(path).name)
        overall = result.summary["overall"]
        row: dict[str, Any] = {"variant": variant, "dataset": Path(path).name,
                               **{m: overall.get(m) for m in METRICS}}
        if variant == "similarity_refusal":
            answerable = sorted(r["answerability"] for r in result.results if r["answerable"])
            unanswerable = [r["answerability"] for r in result.results if not r["answerable"]]
            for fa in (0.03, 0.05):
                threshold = answerable[int(len(answerable) * fa)]
                row["oos_refusal"] = None
                row[f"oos_at_fa_{fa}"] = (sum(v < threshold for v in unanswerable)
                                          / max(1, len(unanswerable)))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.ablation", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+", help="eval datasets (JSONL or CSV)")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, from {', '.join(VARIANTS)}")
    ap.add_argument("--only", help=argparse.SUPPRESS)  # one variant, in this process
    args = ap.parse_args(argv)
    if args.only:
        print(json.dumps(_run_variant(args.only, args.datasets)))
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    header = ["variant", "dataset", *METRICS, "oos_at_fa_0.03", "oos_at_fa_0.05"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for variant in variants:
        out = subprocess.run([sys.executable, "-m", "evals.ablation", "--only", variant,
                              *args.datasets], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{variant}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            return 1
        for row in json.loads(out.stdout.strip().splitlines()[-1]):
            cells = [row.get(h) for h in header]
            print("| " + " | ".join(f"{c:.3f}" if isinstance(c, float) else
                                    ("-" if c is None else str(c)) for c in cells) + " |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
