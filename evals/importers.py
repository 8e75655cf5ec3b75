"""Datasets of other evaluation tools, converted to bpo-kb's format, saying how.

Recognised by their fields (`detect_format`):

| tool      | files              | question               | expected answer       | gold passages        |
|-----------|--------------------|------------------------|-----------------------|----------------------|
| ragas     | .jsonl .json .csv  | `user_input` (text, or | `reference`           | `reference_contexts` |
|           |                    | a list of messages)    | (`ground_truth` 0.1)  |                      |
| promptfoo | .csv               | the `question` var     | `__expected` columns  | -                    |
| DeepEval  | .json .jsonl .csv  | `input`                | `expected_output`     | `context`            |

What each becomes (see `Converted.mapping` for a run's own account):
- A gold passage becomes a source when the corpus holds it (normalised text; or, failing
  that, its sentences that it holds), in the document that contains it. A passage longer than
  400 characters is cut to its sentence sharing most words with the expected answer, since
  `cite_hit` asks a cited passage to hold 60% of a quote's words. A passage the corpus does not
  hold is dropped and named.
- A free-text expected answer has no `must_include` facts. Up to three key phrases of it -
  figures, names and acronyms, multi-word terms - become facts, but only those the item's gold
  passages contain (the corpus, for an item without any) and the question does not: a fact
  the guides never state could only measure paraphrase. An item left without facts is scored
  on its citations and on refusal. An expected answer (or a promptfoo rubric) saying the
  question can't be answered, with no gold passage, makes the item unanswerable.
- promptfoo `contains`/`icontains` become a fact each, `contains-any` one fact with
  alternatives, `contains-all` a fact per value; `equals`, `similar`, `factuality`,
  `starts-with` and plain text are expected answers (above). Negated, regex, code and
  LLM-graded assertions have no counterpart and are listed as not mapped.
- What the evaluated system produced (`response`, `actual_output`, `retrieved_contexts`...) is
  not used: bpo-kb answers and retrieves itself.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .metrics import content_words
from .phrases import MAX_FACTS, key_phrases

if TYPE_CHECKING:
    from .corpus import Corpus

__all__ = ["FORMATS", "Converted", "convert", "detect_format", "key_phrases"]

FORMATS = {"ragas": "ragas", "promptfoo": "promptfoo", "deepeval": "DeepEval"}
"""Importable formats -> their display names."""
LONG_CONTEXT = 400
"""A gold passage longer than this (characters) is cut to its best sentence."""

_NOT_USED = {
    "response": "the evaluated system's answer; bpo-kb answers each question itself",
    "answer": "the evaluated system's answer; bpo-kb answers each question itself",
    "actual_output": "the evaluated system's answer; bpo-kb answers each question itself",
    "multi_responses": "the evaluated system's answers; bpo-kb answers each question itself",
    "retrieved_contexts": "what the evaluated system retrieved; bpo-kb retrieves its own passages",
    "retrieval_context": "what the evaluated system retrieved; bpo-kb retrieves its own passages",
    "contexts": "(ragas 0.1) what the evaluated system retrieved; bpo-kb retrieves its own",
    "rubrics": "needs an LLM judge; bpo-kb's metrics are deterministic",
    "reference_tool_calls": "tool calls; bpo-kb calls no tools",
    "tools_called": "tool calls; bpo-kb calls no tools",
    "expected_tools": "tool calls; bpo-kb calls no tools",
    "reference_context_ids": "ids in another index; bpo-kb places each context by its text",
    "retrieved_context_ids": "ids in another index; bpo-kb retrieves its own passages",
}
_PROMPTFOO_META = ("__prefix", "__suffix", "__description", "__providerOutput", "__metric",
                   "__threshold")
_QUESTION_VARS = ("question", "query", "input", "prompt", "user_input", "text", "q")
_PF_TYPES = {
    "contains", "icontains", "contains-any", "icontains-any", "contains-all", "icontains-all",
    "equals", "starts-with", "regex", "similar", "factuality", "levenshtein", "rouge-n",
    "llm-rubric", "model-graded-closedqa", "model-graded-factuality", "answer-relevance",
    "context-faithfulness", "context-recall", "context-relevance", "is-json", "contains-json",
    "is-valid-openai-function-call", "is-valid-openai-tools-call", "cost", "latency",
    "perplexity", "perplexity-score", "classifier", "javascript", "python", "webhook", "bleu",
    "g-eval", "moderation", "is-refusal", "select-best", "human", "word-count",
}
_PF_ASSERTION = re.compile(r"^(not-)?([a-z][a-z0-9-]*)(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$")
_NO_ANSWER = re.compile(
    r"\b(not (?:covered|mentioned|addressed|discussed|stated|included|specified|provided|"
    r"available)|no (?:relevant )?information|(?:don't|do not|does not|doesn't|cannot|can't|"
    r"can not) (?:cover|know|answer|contain|mention|say|provide|find)|unanswerable|"
    r"out of scope|outside (?:the )?scope)\b", re.I)
"""An expected answer that says there is no answer."""
_REFUSAL_RUBRIC = re.compile(
    r"\b(declin\w*|refus\w*|says? (?:it|they) (?:doesn't|does not|don't|do not|can't|cannot)"
    r" (?:know|answer)|admits?|not covered|don't cover|do not cover|no information)\b", re.I)
"""A grading rubric that asks for a refusal."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class Converted:
    """Rows in bpo-kb's format (with the line each came from), per-row errors, the mapping."""

    rows: list[tuple[int, dict[str, Any]]]
    errors: list[str] = field(default_factory=list)
    mapping: list[str] = field(default_factory=list)


@dataclass
class _Parsed:
    """What one foreign row says, before it becomes one of our items."""

    id: Any = None
    question: Any = None
    history: list[dict[str, str]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)
    expects_refusal: bool = False
    answerable: Any = None
    category: Any = None
    error: str | None = None


@dataclass
class _Stats:
    items: int = 0
    facts: int = 0
    with_facts: int = 0
    derived: int = 0
    contexts: int = 0
    placed: int = 0
    dropped: list[str] = field(default_factory=list)
    unanswerable: int = 0
    unused: Counter[str] = field(default_factory=Counter)
    assertions: Counter[str] = field(default_factory=Counter)


def detect_format(rows: Sequence[Mapping[str, Any]]) -> str:
    """`bpo-kb`, `ragas`, `promptfoo` or `deepeval`, from the fields of the rows."""
    keys: set[str] = set()
    for r in rows[:500]:
        keys.update(k for k in r if isinstance(k, str))
    if "answerable" in keys:
        return "bpo-kb"
    if keys & {"user_input", "reference_contexts", "ground_truth", "ground_truths"}:
        return "ragas"
    if any(k.startswith("__expected") for k in keys):
        return "promptfoo"
    if "input" in keys and keys & {"expected_output", "context", "retrieval_context",
                                   "actual_output"}:
        return "deepeval"
    return "bpo-kb"


def convert(fmt: str, rows: Sequence[tuple[int, Mapping[str, Any]]], corpus: Corpus | None,
            *, source: str = "the file") -> Converted:
    """Our rows from a `fmt` file's rows (line, object), and the account of the mapping."""
    from .dataset import DatasetError

    if corpus is None:
        raise DatasetError(f"Converting a {FORMATS[fmt]} dataset needs the corpus, to place its "
                           "gold passages; pass corpus=evals.Corpus.load(settings)")
    parse = {"ragas": _ragas, "promptfoo": _promptfoo, "deepeval": _deepeval}[fmt]
    stats = _Stats()
    out = Converted(rows=[])
    question_var = _promptfoo_question(rows) if fmt == "promptfoo" else None
    for n, (line, row) in enumerate(rows, 1):
        parsed = parse(row, stats, question_var)
        if parsed.error:
            out.errors.append(f"line {line}: {parsed.error}")
            continue
        out.rows.append((line, _ours(parsed, n, corpus, stats)))
    stats.items = len(out.rows)
    out.mapping = _mapping(fmt, source, stats, question_var)
    return out


# -- reading each format ---------------------------------------------------------------------
def _ragas(row: Mapping[str, Any], stats: _Stats, _: str | None) -> _Parsed:
    p = _Parsed(id=row.get("id"), category=row.get("category") or row.get("synthesizer_name"))
    user_input = _maybe_list(row.get("user_input", row.get("question")))
    if isinstance(user_input, list):  # a multi-turn sample: messages with type human/ai/tool
        turns = []
        for m in user_input:
            if not isinstance(m, Mapping):
                continue
            kind = str(m.get("type") or m.get("role") or "").lower()
            role = {"human": "user", "user": "user", "ai": "assistant",
                    "assistant": "assistant"}.get(kind)
            if role and isinstance(m.get("content"), str):
                turns.append({"role": role, "content": m["content"]})
        last = max((i for i, t in enumerate(turns) if t["role"] == "user"), default=None)
        if last is None:
            p.error = "field 'user_input': a list of messages without a human message"
            return p
        p.question, p.history = turns[last]["content"], turns[:last]
    else:
        p.question = user_input
    for key in ("reference", "ground_truth"):
        if isinstance(row.get(key), str) and row[key].strip():
            p.references.append(row[key])
    truths = _maybe_list(row.get("ground_truths"))
    if isinstance(truths, list):
        p.references += [t for t in truths if isinstance(t, str) and t.strip()]
    contexts = _maybe_list(row.get("reference_contexts"))
    if isinstance(contexts, list):
        p.contexts = [c for c in contexts if isinstance(c, str) and c.strip()]
    elif isinstance(contexts, str) and contexts.strip():
        p.contexts = [contexts]
    p.answerable = row.get("answerable")
    used = {"id", "category", "synthesizer_name", "user_input", "question", "reference",
            "ground_truth", "ground_truths", "reference_contexts"}
    stats.unused.update(k for k, v in row.items() if k not in used and v not in (None, ""))
    return p


def _deepeval(row: Mapping[str, Any], stats: _Stats, _: str | None) -> _Parsed:
    meta = _maybe_dict(row.get("additional_metadata"))
    p = _Parsed(id=row.get("id", meta.get("id")), question=row.get("input"),
                category=meta.get("category") or row.get("category"))
    if row.get("turns") is not None or row.get("scenario") is not None:
        p.error = ("a conversational golden (turns/scenario) is not supported; give each "
                   "question as its own golden with 'input'")
        return p
    if isinstance(row.get("expected_output"), str) and row["expected_output"].strip():
        p.references.append(row["expected_output"])
    contexts = _maybe_list(row.get("context"))
    if isinstance(contexts, list):
        p.contexts = [c for c in contexts if isinstance(c, str) and c.strip()]
    elif isinstance(contexts, str) and contexts.strip():
        p.contexts = [contexts]
    p.answerable = meta.get("answerable", row.get("answerable"))
    used = {"id", "input", "expected_output", "context", "additional_metadata", "category"}
    stats.unused.update(k for k, v in row.items() if k not in used and v not in (None, "", []))
    return p


def _promptfoo_question(rows: Sequence[tuple[int, Mapping[str, Any]]]) -> str:
    keys: list[str] = []
    for _, r in rows[:1]:
        keys = [k for k in r if isinstance(k, str) and not k.startswith("__")]
    for name in _QUESTION_VARS:
        for k in keys:
            if k.strip().lower() == name:
                return k
    if len(keys) == 1:
        return keys[0]
    from .dataset import DatasetError

    raise DatasetError(f"A promptfoo CSV needs a var column holding the question, named one of "
                       f"{', '.join(_QUESTION_VARS)}; found vars: "
                       f"{', '.join(repr(k) for k in keys) or 'none'}")


def _promptfoo(row: Mapping[str, Any], stats: _Stats, question_var: str | None) -> _Parsed:
    p = _Parsed(question=row.get(question_var or "question"))
    for key, value in row.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        low = key.lower()
        if key.startswith("__expected"):
            if value.strip():
                _assertion(value.strip(), p, stats)
        elif low in ("__metadata:category", "category"):
            p.category = value
        elif low in ("__metadata:id", "id"):
            p.id = value
        elif low in ("__metadata:answerable", "answerable"):
            p.answerable = value
        elif key != question_var and value.strip():
            stats.unused[key] += 1
    return p


def _assertion(text: str, p: _Parsed, stats: _Stats) -> None:
    """One `__expected` cell (promptfoo's assertion syntax) into facts, a reference or nothing."""
    low = text.lower()
    if low.startswith(("javascript:", "fn:", "eval:", "python:", "file://")):
        stats.assertions["code (javascript/python)"] += 1
        return
    if low.startswith(("grade:", "llm-rubric:")):
        rubric = text.split(":", 1)[1]
        if _REFUSAL_RUBRIC.search(rubric):
            p.expects_refusal = True
        else:
            stats.assertions["llm-rubric"] += 1
        return
    m = _PF_ASSERTION.match(text)
    kind, negated, value = "equals", False, text
    if m and m.group(2) in _PF_TYPES:
        negated, kind, value = bool(m.group(1)), m.group(2), m.group(4) or ""
    if negated:
        stats.assertions[f"not-{kind}"] += 1
    elif kind in ("contains", "icontains"):
        p.facts.append([value])
    elif kind in ("contains-any", "icontains-any"):
        p.facts.append([v.strip() for v in value.split(",") if v.strip()])
    elif kind in ("contains-all", "icontains-all"):
        p.facts += [[v.strip()] for v in value.split(",") if v.strip()]
    elif kind in ("equals", "starts-with", "similar", "factuality", "levenshtein", "rouge-n",
                  "model-graded-factuality", "bleu"):
        p.references.append(value)
    elif kind == "is-refusal":
        p.expects_refusal = True
    else:
        stats.assertions[kind] += 1


def _maybe_list(v: Any) -> Any:
    """A list from a CSV cell that holds one (JSON, or Python's repr as pandas writes it)."""
    if isinstance(v, str) and v.strip().startswith("["):
        for parse in (json.loads, ast.literal_eval):
            try:
                out = parse(v)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(out, list):
                return out
    return v


def _maybe_dict(v: Any) -> Mapping[str, Any]:
    if isinstance(v, str) and v.strip().startswith("{"):
        try:
            v = json.loads(v)
        except ValueError:
            return {}
    return v if isinstance(v, Mapping) else {}


# -- building our item -----------------------------------------------------------------------
def _ours(p: _Parsed, n: int, corpus: Corpus, stats: _Stats) -> dict[str, Any]:
    reference = " ".join(p.references)
    question = p.question
    rid = str(p.id).strip() if p.id not in (None, "") else str(n)
    sources: list[dict[str, str]] = []
    placed: list[str] = []
    for ctx in p.contexts:
        stats.contexts += 1
        found = _place(ctx, reference or str(question or ""), corpus)
        if found is None:
            stats.dropped.append(rid)
            continue
        stats.placed += 1
        text, doc, quote = found
        placed.append(text)
        if not any(s["quote"] == quote for s in sources):
            sources.append({"doc": doc, "quote": quote})
    facts = [f for f in p.facts if f]
    answerable = _answerable(p.answerable)
    if answerable is None:
        says_none = (p.expects_refusal or bool(reference) and len(reference) < 400
                     and _NO_ANSWER.search(reference) is not None)
        answerable = not (says_none and not sources and not facts)
    if not answerable:
        stats.unanswerable += 1
        facts, sources = [], []
    elif reference and not facts:
        facts = key_phrases(reference, str(question or ""), corpus, placed)
        stats.derived += len(facts)
    stats.facts += len(facts)
    stats.with_facts += bool(facts)
    row: dict[str, Any] = {"id": rid, "question": question, "answerable": answerable,
                           "must_include": facts, "sources": sources}
    if isinstance(p.category, str) and p.category.strip():
        row["category"] = p.category.strip()
    if p.history:
        row["history"] = p.history
    return row


def _answerable(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return v.strip().lower() in ("true", "yes", "1")
    return None


def _place(context: str, reference: str, corpus: Corpus) -> tuple[str, str, str] | None:
    """(the text the corpus holds, its document, the quote) for a gold passage, or None."""
    docs = corpus.docs_with(context)
    text = context
    if not docs:  # not verbatim as a whole: keep the sentences the corpus holds
        held = [s for s in _sentences(context) if len(content_words(s)) >= 3
                and corpus.anywhere(s)]
        if not held:
            return None
        text = " ".join(held)
    quote = text if len(text) <= LONG_CONTEXT else _best_sentence(text, reference, corpus)
    where = corpus.docs_with(quote)
    if not where:
        return None
    return text, where[0], quote.strip()


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _best_sentence(text: str, reference: str, corpus: Corpus) -> str:
    ref = set(content_words(reference))
    best, best_score = "", -1.0
    for s in _sentences(text):
        words = set(content_words(s))
        if len(words) < 3 or not corpus.anywhere(s):
            continue
        score = len(words & ref) + len(words & ref) / (len(words) + 1)
        if score > best_score:
            best, best_score = s, score
    return best or text[:LONG_CONTEXT]


def _mapping(fmt: str, source: str, s: _Stats, question_var: str | None) -> list[str]:
    name = FORMATS[fmt]
    lines = [f"Read {source} as a {name} dataset ({s.items} item{'s' if s.items != 1 else ''}), "
             "mapped to bpo-kb's format:"]
    q_field = {"ragas": "user_input", "deepeval": "input",
               "promptfoo": question_var or "question"}[fmt]
    ref_field = {"ragas": "reference", "deepeval": "expected_output",
                 "promptfoo": "__expected"}[fmt]
    lines.append(f"  {q_field} -> question" + (
        " (a list of messages: the last human turn is the question, earlier turns the history)"
        if fmt == "ragas" else ""))
    if fmt == "promptfoo":
        lines.append("  __expected contains/icontains -> a must_include fact each; contains-any "
                     "-> one fact with alternatives; contains-all -> a fact per value")
        lines.append("  __expected equals/similar/factuality/plain text -> an expected answer, "
                     "as below")
    no_facts = s.items - s.unanswerable - s.with_facts
    lines.append(
        f"  {ref_field} (free text) -> must_include: up to {MAX_FACTS} key phrases (figures, "
        "names, multi-word terms) that the item's gold passages (or, without any, the corpus) "
        f"contain and the question doesn't: {s.derived} fact{'s' if s.derived != 1 else ''}"
        + (f"; {no_facts} answerable item{'s' if no_facts != 1 else ''} without facts are "
           "scored on citations and refusal only" if no_facts else ""))
    lines.append(f"  {ref_field} saying the guides can't answer (no gold passage) -> "
                 f"answerable: false ({s.unanswerable} item{'s' if s.unanswerable != 1 else ''})"
                 "; any other item -> answerable: true")
    ctx_field = {"ragas": "reference_contexts", "deepeval": "context", "promptfoo": None}[fmt]
    if ctx_field:
        line = (f"  {ctx_field} -> sources: each passage placed in the document holding it, "
                f"cut to its best sentence past {LONG_CONTEXT} characters; {s.placed} of "
                f"{s.contexts} found in the corpus")
        if s.dropped:
            ids = ", ".join(dict.fromkeys(s.dropped))
            n = len(s.dropped)
            line += (f"; {n} not in the corpus, dropped (item{'s' if len(set(s.dropped)) != 1 else ''}"
                     f" {ids[:200]})")
        lines.append(line)
    cat = {"ragas": "category or synthesizer_name", "deepeval": "additional_metadata.category",
           "promptfoo": "__metadata:category or a category var"}[fmt]
    lines.append(f"  {cat} -> category; id -> id (else the item's position)")
    unused = [f"{k} ({_NOT_USED.get(k, 'no counterpart in bpo-kb; ignored')})"
              for k in sorted(s.unused)]
    unused += [f"__expected {k} x{n} (no counterpart: bpo-kb checks facts an answer states, "
               "citations and refusals)" for k, n in sorted(s.assertions.items())]
    if unused:
        lines.append("  not mapped: " + "; ".join(unused))
    return lines
