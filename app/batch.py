"""Batch answering: rows of questions from a .csv/.jsonl file -> rows of answers, and back to a file.

Shared by `bpo-kb batch` and the UI's Batch tab so both produce the same rows: `id` plus
`Answer.to_dict()` (the `ask --json` contract), or `id` + `error` for a row that failed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bpo_kb import BpoKbError, ConfigError

__all__ = ["CSV_FIELDS", "answer_row", "read_rows", "table_row", "write_rows"]

CSV_FIELDS = ["id", "question", "answer", "abstained", "citations", "retrieval_query",
              "latency_ms", "backend", "suggestions", "answerability", "notice", "error"]
"""Column order of a .csv answers file (extra keys follow, sorted)."""


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a .jsonl or .csv questions file; a malformed JSONL line becomes an `_error` row."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        # errors="replace": one undecodable byte shows as U+FFFD in its row instead of
        # aborting the whole file
        with path.open(encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    yield {"id": f"line-{n}", "_error": f"line {n} is not valid JSON: {e}"}
                    continue
                if not isinstance(row, dict):
                    yield {"id": f"line-{n}", "_error": f"line {n} is not a JSON object"}
                    continue
                yield row
    elif suffix == ".csv":
        # a pasted document in one cell may exceed csv's 128 KB default field limit; the
        # question length rule then rejects that row alone
        csv.field_size_limit(max(csv.field_size_limit(), 256 * 1024 * 1024))
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                yield dict(row)
    else:
        raise ConfigError(f"Unsupported batch input {str(path)!r}; use a .jsonl or .csv file "
                          "with at least the columns id and question")


def answer_row(bot: Any, row: dict[str, Any], n: int) -> dict[str, Any]:
    """Answer one input row (`n` is its 1-based position, the id when the row has none)."""
    rid = row.get("id")
    rid = str(rid) if rid not in (None, "") else str(n)
    out: dict[str, Any] = {"id": rid}
    if "_error" in row:
        return {**out, "error": row["_error"]}
    history: Any = row.get("history") or []
    try:
        if isinstance(history, str):
            try:
                history = json.loads(history) if history.strip() else []
            except ValueError as e:
                raise ValueError(f"history is not valid JSON ({e}); use a list like "
                                 '[{"role": "user", "content": "..."}]') from e
        question = row.get("question")
        if question is None:
            raise ValueError("row has no 'question' field")
        ans = bot.ask(question, history)
        out.update(ans.to_dict())
    except (BpoKbError, ValueError, TypeError) as e:
        out["error"] = str(e)
    return out


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write answer rows as .csv (lists/dicts as JSON strings) or .jsonl, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() == ".csv":
        extra = sorted({k for r in rows for k in r} - set(CSV_FIELDS))
        # errors="replace": a lone surrogate (e.g. in an id) must not abort the whole file
        with tmp.open("w", encoding="utf-8", errors="replace", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_FIELDS + extra)
            w.writeheader()
            for r in rows:
                w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict)
                            else v for k, v in r.items()})
    else:
        with tmp.open("w", encoding="utf-8", errors="replace") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)


def table_row(row: dict[str, Any], result: dict[str, Any], max_chars: int = 600) -> list[str]:
    """A short display row of one result: id, question, answer (clipped), sources, status."""
    sources = "; ".join(f"[{c['marker']}] {c['title']} - {c['section']}"
                        for c in result.get("citations") or [] if not result.get("abstained"))
    status = "error" if "error" in result else (
        "not covered" if result.get("abstained") else "answered")
    answer = str(result["error"] if "error" in result else result.get("answer", ""))
    if len(answer) > max_chars:
        answer = answer[:max_chars].rstrip() + "…"
    return [str(result["id"]), str(row.get("question") or ""), answer, sources, status]
