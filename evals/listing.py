"""The per-item parts of a report: every item (passing ones too) and, against a previous run,
each metric and item side by side. HTML and markdown.

The HTML filters without any script (the report stays one inert file to mail): a row of radio
buttons for the verdict (all, failing, passing; fixed, broken, changed against a previous
run) and one for the category, each hiding the other rows with a CSS `:checked ~` rule.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["LISTING_CSS", "diff_html", "diff_markdown", "format_delta", "items_html",
           "items_markdown"]

LISTING_CSS = """
.filters{margin:.6em 0}
.filters>input{position:absolute;opacity:0;pointer-events:none}
.filters>label{display:inline-block;padding:2px 10px;margin:2px 2px 2px 0;border:1px solid #ccd;
border-radius:12px;cursor:pointer;font-size:.92em;background:#fff}
.filters>input:checked+label{background:#1d4ed8;border-color:#1d4ed8;color:#fff}
.filters>input:focus-visible+label{outline:2px solid #1d4ed8;outline-offset:1px}
.filters .group{display:inline-block;margin:0 .4em 0 .8em;color:#666;font-size:.92em}
table.items{width:100%} table.items td{vertical-align:top}
table.items td.q{max-width:340px} table.items td.a{max-width:420px}
tr.fail td.v{color:#c62828;font-weight:600} tr.pass td.v{color:#17803d;font-weight:600}
table.items details summary{cursor:pointer} .chg{font-size:.85em;color:#555}
.fixed{color:#17803d;font-weight:600} .broken{color:#c62828;font-weight:600}
"""
_VERDICTS = (("all", "all"), ("fail", "failing"), ("pass", "passing"))


def format_delta(name: str, delta: Any) -> str:
    """A change of a metric for people: rates in points with two decimals ("+0.22", "-0.05",
    three when smaller: "+0.004"), words, milliseconds and counts as whole numbers ("+22")."""
    if not isinstance(delta, int | float):
        return "-"
    d = float(delta)
    if name.startswith("latency") or name in ("median_words", "errors", "items"):
        return "0" if round(d) == 0 else f"{d:+.0f}"
    if abs(d) < 0.0005:
        return "0.00"
    text = f"{d:+.3f}"
    return text[:-1] if text.endswith("0") else text


# -- every item ----------------------------------------------------------------------------------
def items_html(results: Sequence[Mapping[str, Any]],
               diff: Mapping[str, Any] | None = None) -> str:
    """The filterable table of every item (with its change against a previous run, if any)."""
    e = html.escape
    cats = sorted({str(r.get("category")) for r in results})
    cat_ids = {c: f"c{i}" for i, c in enumerate(cats)}
    changes = {str(x["id"]): x for x in (diff or {}).get("items") or []}
    counts = {"all": len(results), "fail": sum(1 for r in results if not r.get("passed")),
              "pass": sum(1 for r in results if r.get("passed"))}
    css = ["#st-fail:checked~table tbody tr.pass,#st-pass:checked~table tbody tr.fail"
           "{display:none}"]
    parts = ["<div class=filters><span class=group>show</span>"]
    for key, label in _VERDICTS:
        checked = " checked" if key == "all" else ""
        parts.append(f"<input type=radio name=verdict id=st-{key}{checked}>"
                     f"<label for=st-{key}>{label} ({counts[key]})</label>")
    if diff is not None:
        for kind in ("fixed", "broken", "changed"):
            n = (diff.get("counts") or {}).get(kind, 0)
            parts.append(f"<input type=radio name=verdict id=st-{kind}>"
                         f"<label for=st-{kind}>{kind} ({n})</label>")
            css.append(f"#st-{kind}:checked~table tbody tr:not(.ch-{kind}){{display:none}}")
    if len(cats) > 1:
        parts.append("<span class=group>category</span><input type=radio name=cat id=cat-all "
                     "checked><label for=cat-all>all</label>")
        for c in cats:
            n = sum(1 for r in results if str(r.get("category")) == c)
            parts.append(f"<input type=radio name=cat id=cat-{cat_ids[c]}><label "
                         f"for=cat-{cat_ids[c]}>{e(c)} ({n})</label>")
            css.append(f"#cat-{cat_ids[c]}:checked~table tbody tr:not(.{cat_ids[c]})"
                       "{display:none}")
    head = "<th>change</th>" if diff is not None else ""
    parts.append(f"<table class=items><thead><tr><th>id</th><th>category</th><th>result</th>"
                 f"{head}<th>question</th><th>answer</th><th>problems</th></tr></thead><tbody>")
    for r in results:
        rid = str(r["id"])
        cls = ["pass" if r.get("passed") else "fail", cat_ids[str(r.get("category"))]]
        change_cell = ""
        if diff is not None:
            ch = changes.get(rid)
            kind = ch["change"] if ch else "new"
            cls.append(f"ch-{kind}")
            what = "; ".join(ch["what"]) if ch and ch["what"] else ""
            change_cell = (f"<td><span class={kind}>{kind}</span>"
                           + (f"<div class=chg>{e(what)}</div>" if what else "") + "</td>")
        parts.append(f"<tr class='{' '.join(cls)}' id='item-{e(rid)}'><td>{e(rid)}</td>"
                     f"<td>{e(str(r.get('category')))}</td><td class=v>"
                     f"{'pass' if r.get('passed') else 'fail'}</td>{change_cell}"
                     f"<td class=q>{e(str(r.get('question')))}{_follow_up(r)}</td>"
                     f"<td class=a>{_answer(r)}</td>"
                     f"<td>{'<br>'.join(e(p) for p in r.get('problems') or [])}</td></tr>")
    parts.append("</tbody></table></div>")
    return f"<style>{''.join(css)}</style>" + "".join(parts)


def _follow_up(r: Mapping[str, Any]) -> str:
    users = [t.get("content", "") for t in r.get("history") or [] if t.get("role") == "user"]
    if not users:
        return ""
    return f"<div class=meta>follow-up to: &ldquo;{html.escape(_clip(users[-1], 160))}&rdquo;</div>"


def _answer(r: Mapping[str, Any]) -> str:
    e = html.escape
    answer = r.get("answer") or ("(error)" if r.get("error") else "(no answer)")
    body = [f"<div class=answer>{e(str(answer))}</div>"]
    for c in r.get("citations") or []:
        body.append(f"<div class=meta>[{e(str(c.get('marker')))}] {e(str(c.get('doc')))} "
                    f"&mdash; {e(str(c.get('section') or ''))}</div>")
    for s in r.get("sources") or []:
        body.append(f"<div class=quote>expected ({e(str(s.get('doc')))}): "
                    f"&ldquo;{e(_clip(str(s.get('quote')), 300))}&rdquo;</div>")
    facts = r.get("facts_found") or []
    missed = r.get("missed_facts") or []
    if facts or missed:
        body.append(f"<div class=meta>facts: {len(facts)} of {len(facts) + len(missed)} found"
                    "</div>")
    return (f"<details><summary>{e(_clip(str(answer), 140))}</summary>{''.join(body)}"
            "</details>")


def items_markdown(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """A table of every item: id, category, result, question, problems."""
    lines = ["| id | category | result | question | problems |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {_md(r['id'])} | {_md(r.get('category'))} | "
                     f"{'pass' if r.get('passed') else '**fail**'} | "
                     f"{_md(_clip(str(r.get('question')), 120))} | "
                     f"{_md('; '.join(r.get('problems') or []))} |")
    return lines


# -- against a previous run ----------------------------------------------------------------------
def diff_html(diff: Mapping[str, Any], format_value: Any) -> str:
    """The previous run's metrics next to this run's, then the counts of item changes."""
    e = html.escape
    parts = [f"<p class=meta>Previous run: {e(str(diff.get('previous')))} "
             f"({e(str(diff.get('previous_dataset')))}, {e(str(diff.get('previous_created')))})"
             "</p>"]
    parts += [f"<p class=meta>Note: {e(n)}.</p>" for n in diff.get("notes") or []]
    parts.append("<table><tr><th>metric</th><th>previous</th><th>this run</th><th>change</th>"
                 "<th>verdict</th></tr>")
    for m in diff.get("metrics") or []:
        name = m["metric"]
        parts.append(f"<tr><td>{e(name)}</td><td class=n>{format_value(name, m['baseline'])}"
                     f"</td><td class=n>{format_value(name, m['current'])}</td><td class=n>"
                     f"{format_delta(name, m['delta'])}</td><td class={m['verdict']}>"
                     f"{m['verdict']}</td></tr>")
    parts.append("</table>")
    c = diff.get("counts") or {}
    parts.append(f"<p><b>Items:</b> {_counts(c)}. Pick <i>fixed</i>, <i>broken</i> or "
                 "<i>changed</i> above the item table to see them.</p>")
    return "".join(parts)


def diff_markdown(diff: Mapping[str, Any], format_value: Any) -> list[str]:
    lines = [f"Previous run: {diff.get('previous')} ({diff.get('previous_dataset')}, "
             f"{diff.get('previous_created')}).", ""]
    lines += [f"Note: {n}." for n in diff.get("notes") or []]
    lines += ["| metric | previous | this run | change | verdict |", "|---|---:|---:|---:|---|"]
    for m in diff.get("metrics") or []:
        name = m["metric"]
        lines.append(f"| {name} | {format_value(name, m['baseline'])} | "
                     f"{format_value(name, m['current'])} | {format_delta(name, m['delta'])} | "
                     f"{m['verdict']} |")
    lines += ["", f"Items: {_counts(diff.get('counts') or {})}.", ""]
    for x in diff.get("items") or []:
        if x["change"] in ("fixed", "broken", "changed", "new", "gone"):
            lines.append(f"- **{x['change']}** {_md(x['id'])} ({_md(x.get('category'))}): "
                         f"{_md(_clip(str(x.get('question')), 120))}"
                         + (f" - {_md('; '.join(x['what']))}" if x["what"] else ""))
    return lines + [""]


def _counts(c: Mapping[str, int]) -> str:
    parts = [f"{c.get(k, 0)} {k}" for k in ("fixed", "broken", "changed")]
    parts.append(f"{c.get('same', 0)} the same")
    if c.get("new"):
        parts.append(f"{c['new']} only in this run")
    if c.get("gone"):
        parts.append(f"{c['gone']} only in the previous run")
    return ", ".join(parts)


def _md(v: Any) -> str:
    return " ".join(str(v if v is not None else "").split()).replace("|", "\\|")


def _clip(text: str, n: int) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "\u2026"
