"""The report of a run: results.jsonl, summary.json, report.md and a self-contained report.html.

The HTML embeds its two charts (per-category bars, refusal operating curve) as base64 PNGs, so
the one file can be mailed or attached to a review; report.md links the same PNG files.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .charts import category_chart, refusal_chart
from .listing import (
    LISTING_CSS,
    diff_html,
    diff_markdown,
    format_delta,
    items_html,
    items_markdown,
)
from .runner import Run

__all__ = ["failure_groups", "format_delta", "format_value", "worst_items", "write_report"]

WORST = 12
"""How many failing items of each kind the report lists."""
_TABLE = (("items", "n"), ("fact_recall", "fact"), ("cite_hit", "cite"), ("recall@5", "r@5"),
          ("mrr", "mrr"), ("false_abstain", "f_abst"), ("oos_refusal", "oos"),
          ("median_words", "words"), ("pass_rate", "pass"))
_DEFINITIONS = (
    "fact_recall: share of must_include facts found in the answer (answerable items). "
    "cite_hit: some citation holds >= 60% of a gold quote's content words. "
    "false_abstain: answerable items refused. oos_refusal: unanswerable items refused. "
    "recall@k / mrr: rank of the first retrieved passage covering a gold quote. "
    "median_words: of answers that are not refusals. pass: every fact, a cite hit, "
    "no wrong refusal (unanswerable: refused).")


def write_report(run: Run, dir: str | Path, *, comparison: Mapping[str, Any] | None = None,
                 diff: Mapping[str, Any] | None = None) -> Path:
    """Write the report files into `dir` (created if needed); return the path of report.html.

    `comparison` (from `gate.compare`) adds the baseline to the metrics; `diff` (from
    `diff.diff_runs`) adds a previous run side by side and each item's change."""
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_text(out / "results.jsonl",
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run.results))
    summary = dict(run.summary)
    if comparison is not None:
        summary["comparison"] = dict(comparison)
    if diff is not None:
        summary["previous_run"] = {k: v for k, v in diff.items() if k != "items"}
        _write_text(out / "changes.jsonl", "".join(json.dumps(x, ensure_ascii=False) + "\n"
                                                   for x in diff.get("items") or []))
    _write_text(out / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    s = run.summary
    overall = s.get("overall") or {}
    cat_png = category_chart(s.get("categories") or {}, overall)
    curve_png = refusal_chart(s.get("refusal_curve") or [],
                              false_abstain=overall.get("false_abstain"),
                              oos_refusal=overall.get("oos_refusal"), auc=s.get("refusal_auc"))
    (out / "categories.png").write_bytes(cat_png)
    (out / "refusal_curve.png").write_bytes(curve_png)
    worst = failure_groups(run.results)
    _write_text(out / "report.md", _markdown(s, worst, comparison, diff, run.results))
    path = out / "report.html"
    _write_text(path, _html(s, worst, comparison, cat_png, curve_png, diff, run.results))
    return path


def format_value(name: str, v: Any) -> str:
    """A metric value for tables: rates with 3 decimals, counts and milliseconds as integers."""
    if v is None:
        return "-"
    if name in ("items", "answerable", "unanswerable", "errors"):
        return str(int(v))
    if name.startswith("latency") or name == "median_words":
        return f"{float(v):.0f}"
    return f"{float(v):.3f}"


def worst_items(results: Sequence[Mapping[str, Any]], limit: int = 20
                ) -> list[Mapping[str, Any]]:
    """Failing items, worst first: errors, wrong refusals/answers, then fewest facts found."""
    return [r for _, group in failure_groups(results) for r in group][:limit]


def failure_groups(results: Sequence[Mapping[str, Any]]
                   ) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Failing items by kind of failure (errors, refused answerable, answered unanswerable,
    incomplete answers), each group worst first; empty groups left out."""
    groups: dict[str, list[Mapping[str, Any]]] = {
        "Errors": [], "Refused an answerable question": [],
        "Answered a question the guides don't cover": [], "Incomplete answers": []}
    for r in results:
        if r.get("passed"):
            continue
        if r.get("error"):
            groups["Errors"].append(r)
        elif not r["answerable"]:
            groups["Answered a question the guides don't cover"].append(r)
        elif r.get("abstained"):
            groups["Refused an answerable question"].append(r)
        else:
            groups["Incomplete answers"].append(r)

    def incomplete(r: Mapping[str, Any]) -> tuple[float, int, str]:
        fr = r.get("fact_recall")
        return (1.0 if fr is None else float(fr), 0 if r.get("cite_hit") is False else 1,
                str(r["id"]))

    groups["Incomplete answers"].sort(key=incomplete)
    return [(name, g) for name, g in groups.items() if g]


# -- markdown -------------------------------------------------------------------------------------
def _markdown(s: Mapping[str, Any], worst: Sequence[tuple[str, list[Mapping[str, Any]]]],
              comparison: Mapping[str, Any] | None, diff: Mapping[str, Any] | None,
              results: Sequence[Mapping[str, Any]]) -> str:
    o = s.get("overall") or {}
    bot = s.get("bot") or {}
    lines = [f"# Eval report: {s.get('dataset') or 'dataset'}", "",
             f"{o.get('items')} items ({o.get('answerable')} answerable, "
             f"{o.get('unanswerable')} unanswerable, {o.get('errors')} errors); backend "
             f"`{bot.get('backend')}`, top_k {bot.get('top_k')}; run {s.get('created')}.", "",
             "## Metrics", ""]
    lines += _md_metrics(o, s.get("refusal_auc"), comparison)
    if diff is not None:
        lines += ["", "## Compared with the previous run", ""]
        lines += diff_markdown(diff, format_value)
    lines += ["", "## Per category", "",
              "| category | " + " | ".join(h for _, h in _TABLE) + " |",
              "|---|" + "---:|" * len(_TABLE)]
    for cat, m in [("ALL", o), *(s.get("categories") or {}).items()]:
        lines.append(f"| {cat} | " + " | ".join(format_value(k, m.get(k)) for k, _ in _TABLE)
                     + " |")
    lines += ["", "![per-category metrics](categories.png)", "",
              "## Refusals", "",
              "How often the bot would refuse unanswerable vs answerable items if it refused "
              "every item scoring below a threshold; the dot is this run.", "",
              "![refusal operating curve](refusal_curve.png)", "",
              "## Failing items", ""]
    if not worst:
        lines.append("Every item passed.")
    for name, group in worst:
        lines += [f"### {name}: {len(group)}" + (
            f" (the worst {WORST} shown; all in results.jsonl)" if len(group) > WORST else ""),
            ""]
        lines += _md_items(group[:WORST])
    lines += ["## All items", ""] + items_markdown(results) + [""]
    lines += ["## Definitions", "", _DEFINITIONS, ""]
    return "\n".join(lines)


def _md_items(group: Sequence[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for r in group:
        lines += [f"#### {r['id']} ({r['category']}): {r['question']}", ""]
        if _follows(r):
            lines.append(f"- follow-up to: \"{_clip(_follows(r), 200)}\"")
        lines += [f"- **{p}**" for p in r.get("problems") or []]
        lines.append(f"- answer: {_clip(r.get('answer') or '', 400)}")
        for src in (r.get("sources") or [])[:2]:
            lines.append(f"- expected ({src['doc']}): \"{_clip(src['quote'], 240)}\"")
        lines.append("")
    return lines


def _md_metrics(o: Mapping[str, Any], auc: Any, comparison: Mapping[str, Any] | None
                ) -> list[str]:
    if comparison is None:
        rows = ["| metric | value |", "|---|---:|"]
        for k in ("fact_recall", "cite_hit", "false_abstain", "oos_refusal", "recall@1",
                  "recall@3", "recall@5", "recall@top_k", "mrr", "median_words",
                  "latency_p50_ms", "latency_p95_ms", "pass_rate"):
            rows.append(f"| {k} | {format_value(k, o.get(k))} |")
        rows.append(f"| refusal_auc | {format_value('refusal_auc', auc)} |")
        return rows
    rows = [f"Compared with the baseline of {comparison.get('baseline_created')}: "
            + ("**REGRESSION** in " + ", ".join(comparison["regressions"])
               if comparison.get("regression") else "no regression") + ".", "",
            "| metric | baseline | this run | delta | verdict |", "|---|---:|---:|---:|---|"]
    for m in comparison.get("metrics") or []:
        name = m["metric"] + (" *" if m["headline"] else "")
        rows.append(f"| {name} | {format_value(m['metric'], m['baseline'])} | "
                    f"{format_value(m['metric'], m['current'])} | {_signed(m)} | "
                    f"{m['verdict']} |")
    rows += ["", "\\* headline metric (the regression gate)."]
    rows += [f"Note: {n}." for n in comparison.get("notes") or []]
    return rows


# -- html ------------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0} td,th{padding:3px 9px;border-bottom:1px solid #eee}
th{background:#f6f6f6;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.all td{font-weight:600;background:#fafafa}
.better{color:#17803d;font-weight:600} .worse{color:#c62828;font-weight:600} .same{color:#666}
.regression{background:#fdecea;border:1px solid #c62828;padding:.6em 1em;border-radius:4px}
.ok{background:#e8f5e9;border:1px solid #2e7d32;padding:.6em 1em;border-radius:4px}
.item{border:1px solid #e3e3e3;border-radius:6px;padding:.5em 1em;margin:.8em 0}
.item h4{font-size:1em;margin:.3em 0} .problem{color:#c62828;font-weight:600}
.answer{background:#f8f8f8;padding:.4em .7em;border-radius:4px;white-space:pre-wrap}
.quote{color:#555;font-style:italic} .meta{color:#666;font-size:.92em}
img{max-width:100%;border:1px solid #eee}
"""


def _html(s: Mapping[str, Any], worst: Sequence[tuple[str, list[Mapping[str, Any]]]],
          comparison: Mapping[str, Any] | None, cat_png: bytes, curve_png: bytes,
          diff: Mapping[str, Any] | None, results: Sequence[Mapping[str, Any]]) -> str:
    e = html.escape
    o = s.get("overall") or {}
    bot = s.get("bot") or {}
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<title>Eval report: {e(str(s.get('dataset')))}</title><style>{_CSS}{LISTING_CSS}"
             "</style>"
             f"</head><body><h1>Eval report: {e(str(s.get('dataset') or 'dataset'))}</h1>",
             f"<p class=meta>{o.get('items')} items ({o.get('answerable')} answerable, "
             f"{o.get('unanswerable')} unanswerable, {o.get('errors')} errors) &middot; backend "
             f"<code>{e(str(bot.get('backend')))}</code> &middot; top_k {bot.get('top_k')} "
             f"&middot; index {e(str(bot.get('index_generation')))} &middot; run "
             f"{e(str(s.get('created')))}</p>"]
    if comparison is not None:
        if comparison.get("regression"):
            parts.append("<p class=regression><b>Regression</b> against the baseline of "
                         f"{e(str(comparison.get('baseline_created')))}: "
                         f"{e(', '.join(comparison['regressions']))}.</p>")
        else:
            parts.append("<p class=ok>No regression against the baseline of "
                         f"{e(str(comparison.get('baseline_created')))}.</p>")
        parts += [f"<p class=meta>Note: {e(n)}.</p>" for n in comparison.get("notes") or []]
        parts.append("<h2>Metrics</h2><table><tr><th>metric</th><th>baseline</th>"
                     "<th>this run</th><th>delta</th><th>verdict</th></tr>")
        for m in comparison.get("metrics") or []:
            name = m["metric"] + (" *" if m["headline"] else "")
            parts.append(f"<tr><td>{e(name)}</td><td class=n>"
                         f"{format_value(m['metric'], m['baseline'])}</td><td class=n>"
                         f"{format_value(m['metric'], m['current'])}</td><td class=n>"
                         f"{_signed(m)}</td><td class={m['verdict'].replace('/', '')}>"
                         f"{m['verdict']}</td></tr>")
        parts.append("</table><p class=meta>* headline metric (the regression gate)</p>")
    else:
        parts.append("<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>")
        for k in ("fact_recall", "cite_hit", "false_abstain", "oos_refusal", "recall@1",
                  "recall@3", "recall@5", "recall@top_k", "mrr", "median_words",
                  "latency_p50_ms", "latency_p95_ms", "pass_rate"):
            parts.append(f"<tr><td>{k}</td><td class=n>{format_value(k, o.get(k))}</td></tr>")
        parts.append(f"<tr><td>refusal_auc</td><td class=n>"
                     f"{format_value('refusal_auc', s.get('refusal_auc'))}</td></tr></table>")
    if diff is not None:
        parts.append("<h2>Compared with the previous run</h2>" + diff_html(diff, format_value))
    parts.append("<h2>Per category</h2><table><tr><th>category</th>"
                 + "".join(f"<th>{h}</th>" for _, h in _TABLE) + "</tr>")
    for cat, m in [("ALL", o), *(s.get("categories") or {}).items()]:
        cls = " class=all" if cat == "ALL" else ""
        parts.append(f"<tr{cls}><td>{e(cat)}</td>" + "".join(
            f"<td class=n>{format_value(k, m.get(k))}</td>" for k, _ in _TABLE) + "</tr>")
    parts.append("</table>")
    parts.append(f"<p><img alt='per-category metrics' src='data:image/png;base64,"
                 f"{base64.b64encode(cat_png).decode()}'></p>")
    parts.append("<h2>Refusals</h2><p>How often the bot would refuse unanswerable vs "
                 "answerable items if it refused every item scoring below a threshold; the red "
                 "dot is this run.</p>")
    parts.append(f"<p><img alt='refusal operating curve' src='data:image/png;base64,"
                 f"{base64.b64encode(curve_png).decode()}'></p>")
    parts.append("<h2>Failing items</h2>")
    if not worst:
        parts.append("<p>Every item passed.</p>")
    for name, group in worst:
        more = (f" <span class=meta>(the worst {WORST} shown; all in results.jsonl)</span>"
                if len(group) > WORST else "")
        parts.append(f"<h3>{e(name)}: {len(group)}{more}</h3>")
        parts += _html_items(group[:WORST])
    parts.append(f"<h2 id=all-items>All items</h2>{items_html(results, diff)}")
    parts.append(f"<h2>Definitions</h2><p class=meta>{e(_DEFINITIONS)}</p></body></html>")
    return "\n".join(parts)


def _html_items(group: Sequence[Mapping[str, Any]]) -> list[str]:
    e = html.escape
    parts: list[str] = []
    for r in group:
        parts.append(f"<div class=item><h4>{e(str(r['id']))} <span class=meta>"
                     f"({e(str(r['category']))})</span>: {e(str(r['question']))}</h4>")
        if _follows(r):
            parts.append(f"<div class=meta>follow-up to: &ldquo;{e(_clip(_follows(r), 200))}"
                         "&rdquo;</div>")
        for p in r.get("problems") or []:
            parts.append(f"<div class=problem>{e(p)}</div>")
        parts.append(f"<div class=answer>{e(_clip(r.get('answer') or '(no answer)', 600))}"
                     "</div>")
        for src in (r.get("sources") or [])[:2]:
            parts.append(f"<div class=quote>expected ({e(src['doc'])}): "
                         f"&ldquo;{e(_clip(src['quote'], 300))}&rdquo;</div>")
        parts.append("</div>")
    return parts


def _signed(m: Mapping[str, Any]) -> str:
    return format_delta(m["metric"], m.get("delta"))


def _follows(r: Mapping[str, Any]) -> str:
    """The last user turn before a follow-up question ("" for a first question)."""
    users = [t.get("content", "") for t in r.get("history") or [] if t.get("role") == "user"]
    return users[-1] if users else ""


def _clip(text: str, n: int) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "\u2026"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
