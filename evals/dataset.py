"""An eval dataset: items read from JSONL or CSV and validated, with errors naming line and field.

Format (see datasets/FORMAT.md): one item per line/row with `id`, `question`, `category`,
`answerable`, `must_include` (facts, each a list of acceptable alternatives), `sources`
(`{doc, quote}`) and optional `history` (`{role, content}` turns). In CSV the list columns hold
JSON strings. Unknown fields are kept in `Item.extra` and otherwise ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import ConfigError

__all__ = ["DatasetError", "Item", "Source", "load_dataset", "parse_item"]

_KNOWN = {"id", "question", "category", "answerable", "must_include", "sources", "history"}
_ROLES = ("user", "assistant", "system")
_MAX_ERRORS_SHOWN = 20


class DatasetError(ConfigError):
    """An eval dataset could not be read, or some of its items are invalid."""


@dataclass(frozen=True)
class Source:
    """A gold passage: an exact quote from one corpus document."""

    doc: str
    """File name of the document in the corpus."""
    quote: str
    """Exact substring of that document that answers the question."""


@dataclass(frozen=True)
class Item:
    """One question of an eval dataset, with what a correct answer must contain."""

    id: str
    """Unique id within the dataset."""
    question: str
    """The question as a user would type it."""
    category: str
    """Topic used for the per-category breakdown."""
    answerable: bool
    """False when the guides do not answer the question (the bot should refuse)."""
    must_include: tuple[tuple[str, ...], ...] = ()
    """Facts a correct answer states; each fact is a tuple of acceptable alternatives."""
    sources: tuple[Source, ...] = ()
    """Gold quotes; any one of them supports the answer."""
    history: tuple[dict[str, str], ...] = ()
    """Earlier turns (`{role, content}`) for follow-up questions, oldest first."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Fields the format does not define, kept as read."""
    line: int = field(default=0, compare=False)
    """Line (JSONL) or row (CSV, header = line 1) the item was read from."""


def load_dataset(path: str | Path) -> list[Item]:
    """Read and validate a `.jsonl` or `.csv` dataset; raise `DatasetError` listing every problem."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"Dataset {str(p)!r} does not exist or is not a file; pass a .jsonl "
                           "or .csv file such as evals/datasets/dev.jsonl")
    suffix = p.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise DatasetError(f"Unsupported dataset type {p.suffix!r} for {p}; use .jsonl "
                           "(one JSON object per line) or .csv (lists as JSON strings)")
    items: list[Item] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    rows = _jsonl_rows(p) if suffix == ".jsonl" else _csv_rows(p)
    try:
        for line, row in rows:
            if isinstance(row, str):
                errors.append(f"line {line}: {row}")
                continue
            try:
                item = parse_item(row, line=line, csv_row=suffix == ".csv")
            except DatasetError as e:
                errors.append(str(e))
                continue
            if item.id in seen:
                errors.append(f"line {line}, field 'id': duplicate id {item.id!r} (first on "
                              f"line {seen[item.id]}); ids must be unique")
                continue
            seen[item.id] = line
            items.append(item)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DatasetError(f"Could not read dataset {p}: {e}; save it as UTF-8 text") from e
    if errors:
        shown = "\n  ".join(errors[:_MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - _MAX_ERRORS_SHOWN} more" if len(
            errors) > _MAX_ERRORS_SHOWN else ""
        raise DatasetError(f"Dataset {p} has {len(errors)} invalid item(s); fix them (format: "
                           f"evals/datasets/FORMAT.md):\n  {shown}{more}")
    if not items:
        raise DatasetError(f"Dataset {p} has no items; add one JSON object per line with at "
                           "least id, question and answerable")
    return items


def parse_item(row: dict[str, Any], *, line: int = 0, csv_row: bool = False) -> Item:
    """One validated `Item` from a parsed row (CSV rows carry their lists as JSON strings)."""

    def fail(name: str, message: str) -> DatasetError:
        return DatasetError(f"line {line}, field {name!r}: {message}")

    def value(name: str) -> Any:
        v = row.get(name)
        if csv_row and name in ("must_include", "sources", "history") and isinstance(v, str):
            if not v.strip():
                return []
            try:
                return json.loads(v)
            except ValueError as e:
                raise fail(name, f"is not valid JSON ({e}); in CSV, lists are JSON strings "
                                 'such as [["$8", "8-25"], ["offshore"]]') from e
        return v

    rid = row.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int) or not str(rid).strip():
        raise fail("id", f"missing or empty (got {rid!r}); give every item a unique id like 'd001'")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise fail("question", f"missing or empty (got {question!r}); it must be text")
    category = row.get("category")
    if category is None or (isinstance(category, str) and not category.strip()):
        category = "uncategorized"
    if not isinstance(category, str):
        raise fail("category", f"must be text, got {category!r}")
    answerable = _boolean(row.get("answerable"))
    if answerable is None:
        raise fail("answerable", f"must be true or false, got {row.get('answerable')!r}")

    facts_raw = value("must_include")
    facts_raw = [] if facts_raw is None else facts_raw
    if not isinstance(facts_raw, list):
        raise fail("must_include", f"must be a list of facts, each a list of alternatives, "
                                   f"got {facts_raw!r}")
    facts: list[tuple[str, ...]] = []
    for i, fact in enumerate(facts_raw):
        if (not isinstance(fact, list) or not fact
                or not all(isinstance(a, str) and a.strip() for a in fact)):
            raise fail("must_include", f"fact {i} must be a non-empty list of non-empty "
                                       f'alternative strings like ["$8", "8-25"], got {fact!r}')
        facts.append(tuple(fact))

    sources_raw = value("sources")
    sources_raw = [] if sources_raw is None else sources_raw
    if not isinstance(sources_raw, list):
        raise fail("sources", f"must be a list of {{doc, quote}} objects, got {sources_raw!r}")
    sources: list[Source] = []
    for i, s in enumerate(sources_raw):
        if (not isinstance(s, dict) or not isinstance(s.get("doc"), str)
                or not isinstance(s.get("quote"), str) or not s["doc"].strip()
                or not s["quote"].strip()):
            raise fail("sources", f"source {i} must be {{\"doc\": \"<corpus file>\", \"quote\": "
                                  f"\"<exact text>\"}} with both non-empty, got {str(s)[:120]!r}")
        sources.append(Source(doc=s["doc"], quote=s["quote"]))

    history_raw = value("history")
    history_raw = [] if history_raw is None else history_raw
    if not isinstance(history_raw, list):
        raise fail("history", f"must be a list of {{role, content}} turns, got {history_raw!r}")
    history: list[dict[str, str]] = []
    for i, t in enumerate(history_raw):
        if (not isinstance(t, dict) or t.get("role") not in _ROLES
                or not isinstance(t.get("content"), str)):
            raise fail("history", f"turn {i} must be {{\"role\": \"user\"|\"assistant\", "
                                  f"\"content\": \"...\"}}, got {str(t)[:120]!r}")
        history.append({"role": t["role"], "content": t["content"]})

    if not answerable and (facts or sources):
        raise fail("must_include" if facts else "sources",
                   f"an unanswerable item (answerable: false) has no facts or sources, but this "
                   f"one has {len(facts)} fact(s) and {len(sources)} source(s); remove them or "
                   "set answerable to true")
    extra = {k: v for k, v in row.items() if k not in _KNOWN}
    return Item(id=str(rid).strip(), question=question, category=category.strip(),
                answerable=answerable, must_include=tuple(facts), sources=tuple(sources),
                history=tuple(history), extra=extra, line=line)


def _boolean(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "yes", "1", "y"):
            return True
        if s in ("false", "no", "0", "n"):
            return False
    return None


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError as e:
                yield n, f"not valid JSON ({e})"
                continue
            yield n, row if isinstance(row, dict) else f"not a JSON object (got {raw[:60]!r})"


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"id", "question", "answerable"} - set(reader.fieldnames or [])
        if missing:
            yield 1, (f"CSV header lacks column(s) {', '.join(sorted(missing))}; the header "
                      "needs id, question, category, answerable, must_include, sources")
            return
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}
