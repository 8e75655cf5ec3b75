"""The report's charts as PNG bytes (matplotlib, Agg canvas, no pyplot global state)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["category_chart", "refusal_chart"]

_BARS = (("fact_recall", "fact recall", "#1f77b4"), ("cite_hit", "cite hit", "#2ca02c"),
         ("recall@5", "retrieval recall@5", "#9467bd"),
         ("oos_refusal", "refused (unanswerable)", "#d62728"))


def category_chart(categories: Mapping[str, Mapping[str, Any]],
                   overall: Mapping[str, Any] | None = None) -> bytes:
    """Horizontal grouped bars: per category, the metrics of `_BARS` that apply to it."""
    from matplotlib.figure import Figure

    rows = list(categories.items())
    if overall is not None:
        rows = [("ALL", overall), *rows]
    n = len(rows)
    fig = Figure(figsize=(9.5, 0.62 * n + 1.6), dpi=100)
    ax = fig.add_subplot()
    height = 0.8 / len(_BARS)
    for j, (key, label, color) in enumerate(_BARS):
        ys, xs = [], []
        for i, (_, m) in enumerate(rows):
            v = m.get(key)
            if v is not None:
                ys.append(i - 0.4 + height * (j + 0.5))
                xs.append(float(v))
        if not xs:
            continue
        bars = ax.barh(ys, xs, height=height * 0.92, color=color, label=label)
        ax.bar_label(bars, labels=[f"{x:.2f}" for x in xs], padding=2, fontsize=7,
                     color="#333333")
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{c.replace('_', ' ')}  (n={m.get('items', '?')})" for c, m in rows],
                       fontsize=9)
    for lbl in ax.get_yticklabels()[:1] if overall is not None else []:
        lbl.set_fontweight("bold")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 1.1)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for i in range(1, n):
        ax.axhline(i - 0.5, color="#eeeeee", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Per-category metrics (higher is better)", fontsize=11, loc="left")
    _legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.35 / (0.62 * n + 1.6)),
            ncol=len(_BARS), fontsize=8, frameon=False)
    fig.tight_layout()
    return _png(fig)


def refusal_chart(curve: Sequence[Mapping[str, Any]], *, false_abstain: float | None,
                  oos_refusal: float | None, auc: float | None) -> bytes:
    """Left: the operating curve (refusals of answerable vs unanswerable items as the threshold
    varies) with the run's actual point. Right: both refusal rates against the threshold."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), dpi=100)
    left, right = fig.subplots(1, 2)
    pts = [(p["answerable_refused"], p["unanswerable_refused"], p["threshold"]) for p in curve
           if p.get("answerable_refused") is not None
           and p.get("unanswerable_refused") is not None]
    if pts:
        left.plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", linewidth=1,
                  label="no separation")
        left.plot([p[0] for p in pts], [p[1] for p in pts], color="#1f77b4", linewidth=2,
                  drawstyle="steps-post",
                  label="score threshold varied" + (f" (AUC {auc:.2f})" if auc is not None
                                                    else ""))
    if false_abstain is not None and oos_refusal is not None:
        left.plot([false_abstain], [oos_refusal], "o", color="#d62728", markersize=8,
                  label=f"this run ({false_abstain:.2f}, {oos_refusal:.2f})")
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(-0.02, 1.02)
    left.set_xlabel("answerable items refused (false_abstain)")
    left.set_ylabel("unanswerable items refused (oos_refusal)")
    left.set_title("Refusal operating curve", fontsize=11, loc="left")
    left.grid(color="#eeeeee")
    _legend(left, loc="lower right", fontsize=8)
    xs = [p["threshold"] for p in curve]
    for key, label, color in (("unanswerable_refused", "unanswerable refused", "#d62728"),
                              ("answerable_refused", "answerable refused", "#1f77b4")):
        ys = [p.get(key) for p in curve]
        if any(y is not None for y in ys):
            right.plot(xs, [float("nan") if y is None else y for y in ys], color=color,
                       linewidth=2, label=label)
    right.set_xlim(0, 1)
    right.set_ylim(-0.02, 1.02)
    right.set_xlabel("answerability threshold (refuse below)")
    right.set_ylabel("share refused")
    right.set_title("Refusal rate by threshold", fontsize=11, loc="left")
    right.grid(color="#eeeeee")
    _legend(right, loc="upper left", fontsize=8)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _legend(ax: Any, **kwargs: Any) -> None:
    """A legend only when something is labelled (an empty one warns)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
