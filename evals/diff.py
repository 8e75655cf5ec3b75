"""Two runs side by side: each metric before and after, and what happened to each item.

An item is `fixed` (failed before, passes now), `broken` (passed before, fails now),
`changed` (same verdict, but a different answer, refusal, facts found, citation hit or gold
passage rank), `same`, `new` (only in this run) or `gone` (only in the previous one). Items
are matched by id; the previous run is a report folder (`bpo-kb eval ... --report DIR`), or
its summary.json with results.jsonl beside it.

    previous = load_run(Path("out/previous"))
    d = diff_runs(previous, run.summary, run.results)
    d["counts"]["fixed"], d["items"][0]["change"], d["metrics"][0]["delta"]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import ConfigError

from .gate import compare

__all__ = ["CHANGES", "PreviousRun", "diff_runs", "load_run"]

CHANGES = ("fixed", "broken", "changed", "same", "new", "gone")
"""Kinds of item change, in the order reports list them."""


@dataclass
class PreviousRun:
    """An earlier run read back from its report files."""

    path: Path
    """The report folder."""
    summary: dict[str, Any]
    results: list[dict[str, Any]]


def load_run(path: Path) -> PreviousRun:
    """An earlier run from its report folder (or its summary.json); raises `ConfigError` saying
    which file is missing or unreadable."""
    p = Path(path)
    folder = p.parent if p.is_file() else p
    summary_path, results_path = folder / "summary.json", folder / "results.jsonl"
    hint = ("pass the folder an earlier `bpo-kb eval ... --report DIR` wrote (it holds "
            "summary.json and results.jsonl)")
    if not summary_path.is_file() or not results_path.is_file():
        missing = [f.name for f in (summary_path, results_path) if not f.is_file()]
        raise ConfigError(f"Cannot compare with {str(p)!r}: no {' or '.join(missing)} in "
                          f"{folder}; {hint}")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        results = [json.loads(line) for line in
                   results_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as e:
        raise ConfigError(f"Cannot read the run in {folder}: {e}; {hint}") from e
    if not isinstance(summary, dict) or not isinstance(summary.get("overall"), dict) or not all(
            isinstance(r, dict) and "id" in r for r in results):
        raise ConfigError(f"{folder} does not hold an eval run (summary.json without 'overall' "
                          f"or results.jsonl rows without 'id'); {hint}")
    return PreviousRun(path=folder, summary=summary, results=results)


def diff_runs(previous: PreviousRun, summary: Mapping[str, Any],
              results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per metric (previous, this run, delta, verdict) and per item (its change and what
    differs), with counts of each kind of change."""
    gate = compare(summary, previous.summary)
    before = {str(r["id"]): r for r in previous.results}
    after = {str(r["id"]): r for r in results}
    items: list[dict[str, Any]] = []
    for rid, r in after.items():
        b = before.get(rid)
        if b is None:
            items.append(_entry(rid, None, r, "new", ["only in this run"]))
            continue
        what = _differences(b, r)
        if bool(b.get("passed")) != bool(r.get("passed")):
            change = "fixed" if r.get("passed") else "broken"
            problems = (b if change == "fixed" else r).get("problems") or []
            if problems:
                what.insert(0, ("was: " if change == "fixed" else "now: ") + "; ".join(problems))
        else:
            change = "changed" if what else "same"
        items.append(_entry(rid, b, r, change, what))
    for rid, b in before.items():
        if rid not in after:
            items.append(_entry(rid, b, None, "gone", ["only in the previous run"]))
    order = {c: i for i, c in enumerate(CHANGES)}
    items.sort(key=lambda e: order[e["change"]])
    counts = {c: sum(1 for e in items if e["change"] == c) for c in CHANGES}
    return {"previous": str(previous.path), "previous_dataset": previous.summary.get("dataset"),
            "previous_created": previous.summary.get("created"), "metrics": gate["metrics"],
            "notes": gate["notes"], "counts": counts, "items": items}


def _entry(rid: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
           change: str, what: list[str]) -> dict[str, Any]:
    r = after or before or {}
    return {"id": rid, "category": r.get("category"), "question": r.get("question"),
            "change": change, "what": what,
            "before": _brief(before) if before is not None else None,
            "after": _brief(after) if after is not None else None}


def _brief(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"passed": bool(r.get("passed")), "abstained": bool(r.get("abstained")),
            "answer": r.get("answer"), "problems": list(r.get("problems") or []),
            "fact_recall": r.get("fact_recall"), "cite_hit": r.get("cite_hit"),
            "gold_rank": r.get("gold_rank")}


def _differences(b: Mapping[str, Any], a: Mapping[str, Any]) -> list[str]:
    out = []
    if bool(b.get("abstained")) != bool(a.get("abstained")):
        out.append("answered -> refused" if a.get("abstained") else "refused -> answered")
    if bool(b.get("error")) != bool(a.get("error")):
        out.append("now fails with an error" if a.get("error") else "no longer fails")
    for key, name in (("fact_recall", "fact recall"), ("cite_hit", "cite hit"),
                      ("gold_rank", "gold passage rank")):
        if b.get(key) != a.get(key):
            out.append(f"{name} {_show(b.get(key))} -> {_show(a.get(key))}")
    if (b.get("answer") or "") != (a.get("answer") or ""):
        out.append("answer text changed")
    return out


def _show(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)
