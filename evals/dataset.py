"""An eval dataset: items read from JSONL, CSV or JSON and validated, every problem named by line,
item and field.

Format (see datasets/FORMAT.md): one item per line/row with `id`, `question`, `category`,
`answerable`, `must_include` (facts, each a list of acceptable alternatives), `sources`
(`{doc, quote}`) and optional `history` (`{role, content}` turns). In CSV the list columns hold
JSON strings and `answerable` is text (true/false, yes/no, 1/0); in JSON it must be a boolean.
Unknown fields are kept in `Item.extra` and otherwise ignored, except one that looks like a
misspelt field name (`must_inlcude`), which is an error: it would silently drop the labels.

Files of other evaluation tools (ragas, promptfoo, DeepEval) are recognised by their fields and
converted by `evals.importers`; `Dataset.mapping` says how. With a `Corpus`, the gold labels are
also checked against the documents (`evals.labels`).
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import ConfigError

if TYPE_CHECKING:
    from .corpus import Corpus

__all__ = ["SUFFIXES", "Dataset", "DatasetError", "Item", "Source", "load_dataset", "parse_item",
           "read_dataset"]

SUFFIXES = (".jsonl", ".csv", ".json")
_KNOWN = ("id", "question", "category", "answerable", "must_include", "sources", "history")
_LISTS = ("must_include", "sources", "history")
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
    """Line (JSONL), row (CSV, header = line 1) or position (JSON list) the item was read from."""


@dataclass
class Dataset:
    """The items of a dataset file and how they were read."""

    items: list[Item]
    """The valid items, in file order."""
    format: str = "bpo-kb"
    """`bpo-kb` (ours), `ragas`, `promptfoo` or `deepeval`."""
    mapping: list[str] = field(default_factory=list)
    """For an imported file: which field became what, and what could not be mapped."""
    warnings: list[str] = field(default_factory=list)
    """Label problems that do not stop a run (e.g. a fact the corpus never states)."""


def load_dataset(path: str | Path, corpus: Corpus | None = None) -> list[Item]:
    """Read and validate a dataset (`read_dataset(...).items`); raise `DatasetError` listing
    every problem."""
    return read_dataset(path, corpus).items


def read_dataset(path: str | Path, corpus: Corpus | None = None) -> Dataset:
    """Read a `.jsonl`, `.csv` or `.json` dataset (ours, or a ragas, promptfoo or DeepEval file,
    converted) and validate every item; with a `corpus`, check the gold labels against it too.
    Raises `DatasetError` naming each bad item and why."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"Dataset {str(p)!r} does not exist or is not a file; pass a .jsonl, "
                           ".csv or .json file such as evals/datasets/dev.jsonl")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise DatasetError(f"Unsupported dataset type {p.suffix!r} for {p}; use .jsonl (one JSON "
                           "object per line), .csv (lists as JSON strings) or .json (a list of "
                           "objects: ragas, DeepEval)")
    try:
        rows = list(_rows(p, suffix))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DatasetError(f"Could not read dataset {p}: {e}; save it as UTF-8 text") from e
    from .importers import convert, detect_format

    objects = [r for _, r in rows if isinstance(r, dict)]
    fmt = detect_format(objects)
    errors: list[str] = [f"line {line}: {r}" for line, r in rows if isinstance(r, str)]
    mapping: list[str] = []
    csv_row = suffix == ".csv"
    if fmt != "bpo-kb":
        converted = convert(fmt, [(line, r) for line, r in rows if isinstance(r, dict)], corpus,
                            source=p.name)
        mapping = converted.mapping
        rows = list(converted.rows)
        errors += converted.errors
        csv_row = False  # the converter gives every field its JSON type
    elif csv_row and objects:
        missing = {"id", "question", "answerable"} - set(objects[0])
        if missing:
            raise DatasetError(f"Dataset {p}: the CSV header lacks column(s) "
                               f"{', '.join(sorted(missing))} (found: "
                               f"{', '.join(repr(c) for c in objects[0])}); the header needs "
                               "id, question, category, answerable, must_include, sources")
    items: list[Item] = []
    seen: dict[str, int] = {}
    invalid: list[Item] = []  # what a rejected row's sources say, to check them too
    for line, row in rows:
        if isinstance(row, str):
            continue
        try:
            item = parse_item(row, line=line, csv_row=csv_row)
        except DatasetError as e:
            errors += str(e).split("\n")
            invalid.append(_loose_item(row, line, csv_row))
            continue
        if item.id in seen:
            errors.append(f"line {line}, item {item.id!r}, field 'id': duplicate id (first on "
                          f"line {seen[item.id]}); ids must be unique")
            continue
        seen[item.id] = line
        items.append(item)
    warnings: list[str] = []
    if corpus is not None:
        from .labels import check_labels

        label_errors, warnings = check_labels(items + invalid, corpus)
        errors = sorted(errors + label_errors, key=_line_of)
    if errors:
        raise DatasetError(_problems(p, errors, mapping, warnings))
    if not items:
        raise DatasetError(f"Dataset {p} has no items; add one JSON object per line with at "
                           "least id, question and answerable")
    return Dataset(items=items, format=fmt, mapping=mapping, warnings=warnings)


def _line_of(message: str) -> int:
    m = re.match(r"line (\d+)", message)
    return int(m.group(1)) if m else 0


def _loose_item(row: dict[str, Any], line: int, csv_row: bool) -> Item:
    """The well-formed sources of a row that failed validation (its labels are checked too)."""
    raw = row.get("sources")
    if csv_row and isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except ValueError:
            raw = []
    good = [s for s in raw if isinstance(s, dict) and isinstance(s.get("doc"), str)
            and isinstance(s.get("quote"), str) and s["doc"].strip() and s["quote"].strip()
            ] if isinstance(raw, list) else []
    sources = tuple(Source(s["doc"], s["quote"]) for s in good)
    return Item(id=str(row.get("id")), question="", category="", answerable=True,
                sources=sources, line=line, extra={"_invalid": True})


def _problems(path: Path, errors: list[str], mapping: list[str], warnings: list[str]) -> str:
    lines = {m.group(1) for e in errors if (m := re.match(r"line (\d+)", e))}
    bad = len(lines) or len(errors)
    shown = "\n  ".join(errors[:_MAX_ERRORS_SHOWN])
    more = (f"\n  ... and {len(errors) - _MAX_ERRORS_SHOWN} more"
            if len(errors) > _MAX_ERRORS_SHOWN else "")
    head = (f"Dataset {path} has {bad} invalid item{'s' if bad != 1 else ''} "
            f"({len(errors)} problem{'s' if len(errors) != 1 else ''}); fix them (format: "
            f"evals/datasets/FORMAT.md):\n  {shown}{more}")
    if warnings:
        head += "\n  warnings (they do not stop a run):\n  " + "\n  ".join(
            warnings[:_MAX_ERRORS_SHOWN])
    return head + ("\n\n" + "\n".join(mapping) if mapping else "")


def parse_item(row: dict[str, Any], *, line: int = 0, csv_row: bool = False) -> Item:
    """One validated `Item` from a parsed row (CSV rows carry their lists as JSON strings and
    `answerable` as text). Raises `DatasetError` with one line per problem of the item."""
    rid = row.get("id")
    good_id = not isinstance(rid, bool) and isinstance(rid, str | int) and bool(str(rid).strip())
    where = f"line {line}, item {str(rid).strip()!r}" if good_id else f"line {line}"
    problems: list[str] = []

    def fail(name: str, message: str) -> None:
        problems.append(f"{where}, field {name!r}: {message}")

    if not good_id:
        fail("id", f"missing or empty (got {rid!r}); give every item a unique id like 'd001'")
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        fail("question", f"missing or empty (got {_got(question)}); it must be text")
    category = row.get("category")
    if category is None or (isinstance(category, str) and not category.strip()):
        category = "uncategorized"
    if not isinstance(category, str):
        fail("category", f"must be text, got {_got(category)}")
    answerable = _boolean(row.get("answerable"), text_ok=csv_row)
    if answerable is None:
        raw = row.get("answerable")
        hint = ("; write true or false without quotes" if isinstance(raw, str)
                and _boolean(raw, text_ok=True) is not None else "")
        fail("answerable", f"must be true or false (a JSON boolean), got {_got(raw)}{hint}"
             if not csv_row else f"must be true or false, got {_got(raw)}")

    lists: dict[str, list[Any]] = {}
    for name in _LISTS:
        v = row.get(name)
        if csv_row and isinstance(v, str):
            if not v.strip():
                v = []
            else:
                try:
                    v = json.loads(v)
                except ValueError as e:
                    fail(name, f"is not valid JSON ({e}); in CSV, lists are JSON strings such "
                               'as [["$8", "8-25"], ["offshore"]]')
                    continue
        lists[name] = [] if v is None else v

    facts = _facts(lists.get("must_include", []), fail)
    sources = _sources(lists.get("sources", []), fail)
    history = _history(lists.get("history", []), fail)

    if answerable is False and (facts or sources):
        fail("must_include" if facts else "sources",
             f"an unanswerable item (answerable: false) has no facts or sources, but this one "
             f"has {len(facts)} fact(s) and {len(sources)} source(s); remove them or set "
             "answerable to true")
    for k in row:
        if k in _KNOWN or not isinstance(k, str):
            continue
        near = difflib.get_close_matches(k.lower(), [f for f in _KNOWN if f not in row], n=1,
                                         cutoff=0.8)
        if near:
            fail(k, f"unknown field; did you mean {near[0]!r}? (as written its value is "
                    "ignored)")
    if problems:
        raise DatasetError("\n".join(problems))
    assert isinstance(question, str) and isinstance(category, str) and answerable is not None
    extra = {k: v for k, v in row.items() if k not in _KNOWN}
    return Item(id=str(rid).strip(), question=question, category=category.strip(),
                answerable=answerable, must_include=tuple(facts), sources=tuple(sources),
                history=tuple(history), extra=extra, line=line)


def _facts(raw: Any, fail: Any) -> list[tuple[str, ...]]:
    if not isinstance(raw, list):
        fail("must_include", f"must be a list of facts, each a list of alternatives such as "
                             f'[["$8", "8-25"], ["offshore"]], got {_got(raw)}')
        return []
    if raw and all(isinstance(f, str) for f in raw):
        fail("must_include", f"must be a list of facts, each a list of alternative strings: "
                             f"write {json.dumps([[f] for f in raw][:3])[:120]} (one fact per "
                             f"inner list), got {_got(raw)}")
        return []
    facts = []
    for i, fact in enumerate(raw):
        if (not isinstance(fact, list) or not fact
                or not all(isinstance(a, str) and a.strip() for a in fact)):
            fail("must_include", f"fact {i} must be a non-empty list of non-empty alternative "
                                 f'strings like ["$8", "8-25"], got {_got(fact)}')
            continue
        facts.append(tuple(fact))
    return facts


def _sources(raw: Any, fail: Any) -> list[Source]:
    if not isinstance(raw, list):
        fail("sources", f"must be a list of {{doc, quote}} objects, got {_got(raw)}")
        return []
    out = []
    for i, s in enumerate(raw):
        if (not isinstance(s, dict) or not isinstance(s.get("doc"), str)
                or not isinstance(s.get("quote"), str) or not s["doc"].strip()
                or not s["quote"].strip()):
            fail("sources", f"source {i} must be {{\"doc\": \"<corpus file>\", \"quote\": "
                            f"\"<exact text>\"}} with both non-empty, got {str(s)[:120]!r}")
            continue
        out.append(Source(doc=s["doc"], quote=s["quote"]))
    return out


def _history(raw: Any, fail: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        fail("history", f"must be a list of {{role, content}} turns, got {_got(raw)}")
        return []
    out = []
    for i, t in enumerate(raw):
        if (not isinstance(t, dict) or t.get("role") not in _ROLES
                or not isinstance(t.get("content"), str)):
            fail("history", f"turn {i} must be {{\"role\": \"user\"|\"assistant\", "
                            f"\"content\": \"...\"}}, got {str(t)[:120]!r}")
            continue
        out.append({"role": t["role"], "content": t["content"]})
    return out


def _got(v: Any) -> str:
    """A value as an error message shows it, with its type when that is the problem."""
    kind = {str: "the string", int: "the number", float: "the number", list: "the list",
            dict: "the object", bool: "the boolean"}.get(type(v), type(v).__name__)
    text = repr(v) if not isinstance(v, list | dict) else json.dumps(v, ensure_ascii=False)
    return "nothing" if v is None else f"{kind} {text[:120]}"


def _boolean(v: Any, *, text_ok: bool) -> bool | None:
    """A JSON boolean; with `text_ok` (CSV cells) also true/false, yes/no, y/n, 1/0 as text."""
    if isinstance(v, bool):
        return v
    if text_ok and isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "yes", "1", "y"):
            return True
        if s in ("false", "no", "0", "n"):
            return False
    return None


def _rows(path: Path, suffix: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    if suffix == ".jsonl":
        yield from _jsonl_rows(path)
    elif suffix == ".csv":
        yield from _csv_rows(path)
    else:
        yield from _json_rows(path)


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


def _json_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """A JSON file: a list of objects, or an object holding one (`samples`, `goldens`,
    `test_cases`, `examples`, `data`, `items`, `tests`); positions count from 1."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as e:
        yield 1, f"not valid JSON ({e}); a .json dataset is a list of objects"
        return
    if isinstance(data, dict):
        for key in ("samples", "goldens", "test_cases", "examples", "data", "items", "tests"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        yield 1, ("a .json dataset must be a list of objects (or {\"samples\": [...]}); for one "
                  "object per line use .jsonl")
        return
    for n, row in enumerate(data, 1):
        yield n, row if isinstance(row, dict) else f"item {n} is not a JSON object"


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    with path.open(encoding="utf-8-sig", newline="") as fh:
        head = fh.readline()
        fh.seek(0)
        counts = {d: head.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        names = {f: f.strip().lower() if f.strip().lower() in _KNOWN else f.strip()
                 for f in reader.fieldnames or []}
        for row in reader:
            yield reader.line_num, {names.get(k, k): v for k, v in row.items() if k is not None}
