"""Batch answering: rows of questions from a .csv/.jsonl/.xlsx file -> rows of answers, and back.

Shared by `bpo-kb batch` and the UI's Batch tab so both produce the same rows: `id` plus
`Answer.to_dict()` (the `ask --json` contract), or `id` + `error` for a row that failed, plus
the input's other columns passed through. The .csv and .xlsx files add three columns a person
reads (`status`, `answer_text` without the [n] markers, `sources` as "[1] Title — Section"
lines); the JSONL keeps the machine contract only.

    batch = read_batch(Path("prospects.csv"))     # headers any case, delimiter sniffed
    results = [merge_row(row, answer_row(bot, row, n)) for n, row in enumerate(batch.rows, 1)]
    write_rows(Path("answers.xlsx"), results)
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpo_kb import BpoKbError, ConfigError

from .xlsx import read_xlsx, write_xlsx

__all__ = ["CSV_FIELDS", "INPUT_SUFFIXES", "OUTPUT_SUFFIXES", "READABLE_FIELDS", "Batch",
           "answer_row", "answer_text", "merge_row", "pasted_batch", "plural", "read_batch",
           "read_rows", "sources_text", "status_of", "summary_line", "table_row", "write_rows"]

CSV_FIELDS = ["id", "question", "answer", "abstained", "citations", "retrieval_query",
              "latency_ms", "backend", "suggestions", "answerability", "notice", "error"]
"""The contract's columns of a .csv/.xlsx answers file, in this order (never removed or renamed)."""
READABLE_FIELDS = ["status", "answer_text", "sources"]
"""Columns for people, after CSV_FIELDS: answered / not covered / error, the answer without
its [n] markers, and one "[n] Title — Section" line per source."""
INPUT_SUFFIXES = (".csv", ".jsonl", ".xlsx")
OUTPUT_SUFFIXES = (".csv", ".jsonl", ".xlsx")
_INPUT_KEYS = ("id", "question", "history")
"""Input columns the batch reads (matched case-insensitively); every other column passes through."""
_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_MARKER = re.compile(r"[ \t]*\[\d+\]")
_LIST_MARK = re.compile(r"^(?:[-*\u2022\u00b7\u2013]|\(?(?:q|Q)?\d{1,4}[.):])(?:\s+|$)")
"""A pasted line's bullet or numbering ("- ", "• ", "3. ", "(3) ", "Q3: "), not part of the question."""


@dataclass
class Batch:
    """The rows of a questions file, with what was found in it."""

    rows: list[dict[str, Any]]
    """One dict per row: `id`, `question`, `history` under those names, other columns as named
    in the file; a JSONL line that is not an object is `{"id": "line-N", "_error": "..."}`."""
    columns: list[str] = field(default_factory=list)
    """The file's own column names (CSV/XLSX header, or the JSONL keys in order of appearance)."""
    delimiter: str | None = None
    """The CSV delimiter used (None for JSONL/XLSX)."""
    passthrough: list[str] = field(default_factory=list)
    """Input columns copied to the output, as named there (`input_<name>` where an input column
    has the name of an output column)."""


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 error`, `2 errors`, `0 questions` (`many` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


# -- reading ------------------------------------------------------------------------------------
def read_batch(path: Path) -> Batch:
    """Read a questions file (.csv, .jsonl or .xlsx): headers in any letter case, the CSV
    delimiter sniffed. Raises `ConfigError` for an unsupported file, an empty one, or one in
    which no row has a question (naming the columns it found)."""
    suffix = path.suffix.lower()
    delimiter: str | None = None
    if suffix == ".jsonl":
        raw = _jsonl_rows(path)
        columns = list(dict.fromkeys(k for r in raw if "_error" not in r for k in r))
        rows = [_canonical(r) for r in raw]
    elif suffix == ".csv":
        rows, columns, delimiter = _csv_rows(path)
    elif suffix == ".xlsx":
        rows, columns = _table(*read_xlsx(path))
    else:
        raise ConfigError(f"Unsupported batch input {str(path)!r}; use a .csv, .jsonl or .xlsx "
                          "file with a 'question' column (optional: id, history)")
    if not rows:
        raise ConfigError(f"{path.name} has no rows; it needs a header with a 'question' column "
                          "(any letter case; optional: id, history) and one row per question")
    if not any(_has_question(r) for r in rows):
        found = ", ".join(repr(c) for c in columns) or "none"
        how = f" (read as {_DELIMITER_NAMES[delimiter]}-separated)" if delimiter else ""
        first_error = next((r["_error"] for r in rows if "_error" in r), None)
        raise ConfigError(
            f"No row of {path.name} has a question{how}; columns found: {found}. The file needs "
            "a 'question' column (any letter case; optional: id, history)"
            + (f". First problem: {first_error}" if first_error else ""))
    taken = {c.lower() for c in CSV_FIELDS + READABLE_FIELDS}
    passthrough = [_output_name(c, taken) for c in columns if c.lower() not in _INPUT_KEYS]
    return Batch(rows=rows, columns=columns, delimiter=delimiter, passthrough=passthrough)


def pasted_batch(text: str) -> Batch:
    """Questions pasted one per line (the Batch tab's text box): blank lines skipped, a
    bullet or number in front of a line dropped, a first line that is only the header
    "question" dropped. Rows are numbered `q1`, `q2`, ... in the order pasted. Raises
    `ConfigError` when no line has a question."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [_LIST_MARK.sub("", _LIST_MARK.sub("", ln, count=1), count=1).strip()
             for ln in lines if ln]  # twice: "- Q3: ..." is a bullet and a number
    if lines and lines[0].strip(" :").lower() in ("question", "questions"):
        lines = lines[1:]
    rows = [{"id": f"q{n}", "question": q} for n, q in enumerate((q for q in lines if q), 1)]
    if not rows:
        raise ConfigError("No question was pasted; put one question on each line")
    return Batch(rows=rows, columns=["id", "question"])


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a questions file as `read_batch` reads them (no check for a question)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from (_canonical(r) for r in _jsonl_rows(path))
    elif suffix == ".csv":
        yield from _csv_rows(path)[0]
    elif suffix == ".xlsx":
        yield from _table(*read_xlsx(path))[0]
    else:
        raise ConfigError(f"Unsupported batch input {str(path)!r}; use a .csv, .jsonl or .xlsx "
                          "file with a 'question' column (optional: id, history)")


def _has_question(row: dict[str, Any]) -> bool:
    q = row.get("question")
    return q is not None and not (isinstance(q, str) and not q.strip())


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    """`id`, `question`, `history` under their own names whatever their letter case."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        key = k.strip().lstrip("\ufeff").lower() if isinstance(k, str) else k
        if key in _INPUT_KEYS and key not in out:
            out[key] = v
        elif k not in out:
            out[k] = v
    return out


def _output_name(column: str, taken: set[str]) -> str:
    return f"input_{column}" if column.lower() in taken else column


def _jsonl_rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # errors="replace": one undecodable byte shows as U+FFFD in its row instead of
    # aborting the whole file
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                rows.append({"id": f"line-{n}", "_error": f"line {n} is not valid JSON: {e}"})
                continue
            if not isinstance(row, dict):
                rows.append({"id": f"line-{n}", "_error": f"line {n} is not a JSON object"})
                continue
            rows.append(row)
    return rows


def _csv_rows(path: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    # a pasted document in one cell may exceed csv's 128 KB default field limit; the
    # question length rule then rejects that row alone
    csv.field_size_limit(max(csv.field_size_limit(), 256 * 1024 * 1024))
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
        fh.seek(0)
        first = fh.readline()
        delimiter: str | None = None
        if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
            delimiter = first.strip()[4]  # Excel's "sep=;" hint line
            sample = sample[len(first):]
        else:
            fh.seek(0)
        delimiter = delimiter or _sniff(sample)
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return [], [], delimiter
        rows, columns = _table(header, reader)
    return rows, columns, delimiter


def _table(header: Sequence[str], body: Iterable[Sequence[str]]
           ) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows (dicts) and column names of a header and its rows of cells (CSV or worksheet)."""
    columns = [h.strip().lstrip("\ufeff") for h in header]
    names = _header_names(columns)
    rows = []
    for cells in body:
        if not any(c.strip() for c in cells):
            continue  # a blank line of a spreadsheet is not a question
        row: dict[str, Any] = {}
        for name, value in zip(names, cells, strict=False):
            if name is not None and name not in row:
                row[name] = value
        for name in names[len(cells):]:  # a short row: its missing cells are absent
            if name is not None and name not in _INPUT_KEYS:
                row.setdefault(name, "")
        rows.append(row)
    return rows, [c for c in columns if c]


def _header_names(columns: Sequence[str]) -> list[str | None]:
    """Row keys for the header cells: `id`/`question`/`history` in any case -> lower case,
    the others as written; an empty or repeated header cell -> None (its cells are dropped)."""
    names: list[str | None] = []
    seen: set[str] = set()
    for c in columns:
        name = c.lower() if c.lower() in _INPUT_KEYS else c
        names.append(None if not name or name in seen else name)
        seen.add(name)
    return names


def _sniff(sample: str) -> str:
    """The delimiter of a CSV: the one whose header has a 'question' cell, else csv.Sniffer's
    guess among comma, semicolon, tab and pipe, else a comma."""
    lines = sample.splitlines()
    head = lines[0] if lines else ""
    for d in _DELIMITERS:
        cells = next(csv.reader([head], delimiter=d), [])
        if any(c.strip().lstrip("\ufeff").lower() == "question" for c in cells):
            return d
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        counts = {d: head.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


# -- answering ----------------------------------------------------------------------------------
def answer_row(bot: Any, row: dict[str, Any], n: int) -> dict[str, Any]:
    """Answer one input row (`n` is its 1-based position, the id when the row has none):
    `id` + the answer's contract fields, or `id` + `error`."""
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


def merge_row(row: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The output row of one input row: its result, the question as asked when it failed, and
    the row's other columns (`input_<name>` where a column has the name of an output column)."""
    out = dict(result)
    if "error" in out and "question" not in out and isinstance(row.get("question"), str):
        out["question"] = row["question"]
    taken = {c.lower() for c in CSV_FIELDS + READABLE_FIELDS}
    for k, v in row.items():
        if not isinstance(k, str) or k in _INPUT_KEYS or k == "_error":
            continue
        name = _output_name(k, taken)
        out.setdefault(name, v)
    return out


def status_of(result: dict[str, Any]) -> str:
    """`error`, `not covered` (the guides don't answer it) or `answered`."""
    if result.get("error"):
        return "error"
    return "not covered" if result.get("abstained") else "answered"


def answer_text(result: dict[str, Any]) -> str:
    """The answer without its [n] markers (the error message for a failed row)."""
    if result.get("error"):
        return str(result["error"])
    text = _MARKER.sub("", str(result.get("answer") or ""))
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def sources_text(result: dict[str, Any]) -> str:
    """One "[n] Title — Section" line per cited passage ("" for a refusal: its passages are
    only the closest ones, not sources)."""
    if result.get("error") or result.get("abstained"):
        return ""
    lines = []
    for c in result.get("citations") or []:
        line = f"[{c.get('marker')}] {c.get('title') or c.get('doc')}"
        if c.get("section"):
            line += f" — {c['section']}"
        lines.append(line)
    return "\n".join(lines)


def summary_line(results: Sequence[dict[str, Any]], seconds: float | None = None) -> str:
    """"Answered 14 of 15 questions (1 error) in 2.1 s; 2 not covered by the guides"."""
    errors = sum(1 for r in results if r.get("error"))
    refused = sum(1 for r in results if not r.get("error") and r.get("abstained"))
    n = len(results)
    line = f"Answered {n - errors:,} of {plural(n, 'question')} ({plural(errors, 'error')})"
    if seconds is not None:
        line += f" in {seconds:.1f} s"
    if refused:
        line += f"; {refused:,} not covered by the guides"
    return line


def table_row(row: dict[str, Any], result: dict[str, Any]) -> list[str]:
    """The UI table's row of one result: the same id, question, answer_text, sources and status
    as the downloaded file."""
    question = result.get("question", row.get("question"))
    return [str(result["id"]), "" if question is None else str(question), answer_text(result),
            sources_text(result), status_of(result)]


# -- writing ------------------------------------------------------------------------------------
def write_rows(path: Path, rows: list[dict[str, Any]], passthrough: Sequence[str] = ()) -> None:
    """Write answer rows as .csv or .xlsx (the contract's columns, then the readable ones, then
    the input's passed-through columns in `passthrough` order, then any other keys sorted;
    lists/dicts as JSON text) or .jsonl (one object per row), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with tmp.open("w", encoding="utf-8", errors="replace") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        tmp.replace(path)
        return
    columns = _columns(rows, passthrough)
    table = [[_cell(c, r) for c in columns] for r in rows]
    if suffix == ".xlsx":
        write_xlsx(tmp, columns, table)
    else:
        # errors="replace": a lone surrogate (e.g. in an id) must not abort the whole file
        with tmp.open("w", encoding="utf-8", errors="replace", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            w.writerows(table)
    tmp.replace(path)


def _columns(rows: Sequence[dict[str, Any]], passthrough: Sequence[str]) -> list[str]:
    fixed = CSV_FIELDS + READABLE_FIELDS
    keys = {k for r in rows for k in r}
    through = [c for c in dict.fromkeys(passthrough) if c not in fixed]
    rest = sorted(keys - set(fixed) - set(through))
    return fixed + through + rest


def _cell(column: str, row: dict[str, Any]) -> Any:
    if column == "status":
        return status_of(row)
    if column == "answer_text":
        return answer_text(row)
    if column == "sources":
        return sources_text(row)
    v = row.get(column)
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else v
