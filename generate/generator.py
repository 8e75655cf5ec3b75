"""`LLMGenerator`: an LLM backend's answer (the backends are listed in generate/__init__.py),
with every sentence verified.

`LLMGenerator` builds the grounded prompt (generate/prompting.py), streams the model's tokens on a
worker thread (so nothing waits longer than `Settings.llm_timeout`), then verifies every
sentence against the numbered passages (generate/verify.py): unsupported sentences are removed (or
marked, with `show_unsupported`), markers are re-pointed to the passage that supports each
sentence and renumbered, and each citation's span is the window that supports it. Any failure
-- server down, timeout, empty or malformed output, a context overflow that trimming cannot fix,
nothing verified -- returns the extractive answer with a visible `notice`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot import Answer, Citation, Hit, Turn
from bpo_kb import GenerationError, Settings
from ingest.text import stems

from .base import Backend, ContextOverflow
from .evidence import missing_figures, missing_names
from .prompting import Prompt, build_prompt, system_prompt
from .verify import Verification, Verified, Verifier

__all__ = ["LLMGenerator"]

log = logging.getLogger(__name__)

UNSUPPORTED_MARK = "(\u26a0 unsupported)"
"""Appended to a sentence kept with `show_unsupported`."""
ANSWER_WORDS = 120
"""Word budget of an answer: generated sentences past it are dropped, and the stream stops
once the draft holds this many words plus a margin (a small model would copy on). An
extractive answer that runs longer (its units are whole sentences and rows) sets the budget
instead (`_budget`): the generated answer may say as much as the answer it replaces."""
STOP_WORDS_MARGIN = 25
COVERED = 0.8
"""An extractive sentence whose content stems are this much in the kept generated sentences
is already said; the others may follow the generated ones, within the word budget. Replayed
on the full dev run of qwen-1.5b: fact recall 0.791 at 0.4, 0.803 at 0.6, 0.815 at 0.8 (a
paraphrase that shares most words with a sentence often drops its figure or its name)."""


@dataclass
class _Run:
    text: str = ""
    error: GenerationError | None = None


class LLMGenerator:
    """Grounded generation with claim-level verification; falls back to the extractive answer."""

    def __init__(self, backend: Backend, settings: Settings, verifier: Verifier) -> None:
        self.backend = backend
        self.name = backend.spec
        self.settings = settings
        self.verifier = verifier

    # -- public ----------------------------------------------------------------------------
    def generate(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
                 extractive: Answer, *, subject: str = "") -> Answer:
        """The verified generated answer (or the extractive one with a notice)."""
        final: Answer = extractive
        for item in self.stream(question, history, hits, extractive, subject=subject):
            if isinstance(item, Answer):
                final = item
        return final

    def stream(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
               extractive: Answer, *, subject: str = "") -> Iterator[str | Answer]:
        """Yield the draft text as it grows (unverified), then the final verified `Answer`.
        `subject`: what the documents are about, named in the system message."""
        deadline = time.monotonic() + self.settings.llm_timeout
        if not hits:
            yield extractive
            return
        run = _Run()
        for attempt in range(2):
            prompt = self._prompt(question, history, hits, extractive, subject)
            run = _Run()
            try:
                for delta in self._tokens(prompt, deadline):
                    run.text += delta
                    yield run.text
                    if len(run.text.split()) > ANSWER_WORDS + STOP_WORDS_MARGIN and \
                            run.text.rstrip()[-1:] in ".!?]":
                        break  # enough for the word budget: stop the model (saves seconds)
            except ContextOverflow as e:
                known = self.backend.context_tokens or 8192
                limit = e.limit if e.limit else known // 2  # size not in the message: halve
                if attempt == 0 and not run.text and 256 <= limit < known:
                    log.info("%s: context is %d tokens; trimming passages", self.name, limit)
                    self.backend.context_tokens = limit
                    continue
                run.error = GenerationError(f"the prompt does not fit {self.name}'s context "
                                            f"window ({e})")
            except GenerationError as e:
                run.error = e
            break
        if run.error is not None:
            log.warning("LLM backend %s failed: %s", self.name, run.error)
            yield self._fallback(extractive, f"The language model ({self.name}) failed: "
                                 f"{run.error}. Showing the extractive answer.")
            return
        if not run.text.strip():
            yield self._fallback(extractive, f"The language model ({self.name}) returned an "
                                 "empty answer. Showing the extractive answer.")
            return
        passages = [p.as_passage() for p in prompt.passages]
        log.debug("%s draft: %r", self.name, run.text)
        try:
            verification = self.verifier.verify(run.text, passages, question=question)
            final = self._answer(extractive, verification, prompt)
        except Exception as e:  # a bug must not cost the user the (correct) extractive answer
            log.exception("verifying the %s answer failed", self.name)
            final = self._fallback(extractive, f"The generated answer could not be checked "
                                   f"({type(e).__name__}). Showing the extractive answer.")
        yield final

    # -- internals -------------------------------------------------------------------------
    def _prompt(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
                extractive: Answer, subject: str = "") -> Prompt:
        b = self.backend
        return build_prompt(question, history, hits, extractive, context_tokens=b.context_tokens,
                            max_tokens=self.settings.llm_max_tokens,
                            count_tokens=b.count_tokens, completion=b.completion,
                            max_passages=b.max_passages, passage_chars=b.passage_chars,
                            system=system_prompt(subject))

    def _tokens(self, prompt: Prompt, deadline: float) -> Iterator[str]:
        """The backend's text deltas, produced on a worker thread, bounded by the deadline."""
        q: queue.Queue[tuple[str, Any]] = queue.Queue()
        cancel = threading.Event()
        max_tokens = self.settings.llm_max_tokens

        def work() -> None:
            try:
                for d in self.backend.stream(prompt, max_tokens=max_tokens, cancel=cancel):
                    q.put(("delta", d))
                    if cancel.is_set():
                        break
                q.put(("done", None))
            except BaseException as e:  # handed to the consumer thread
                q.put(("error", e))

        worker = threading.Thread(target=work, name=f"llm-{self.name}", daemon=True)
        worker.start()
        chunks = 0
        chars = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise queue.Empty
                    kind, value = q.get(timeout=remaining)
                except queue.Empty:
                    raise GenerationError(
                        f"no complete answer within {self.settings.llm_timeout:g} s "
                        "(BPO_KB_LLM_TIMEOUT)") from None
                if kind == "done":
                    return
                if kind == "error":
                    if isinstance(value, GenerationError):
                        raise value
                    raise GenerationError(f"{type(value).__name__}: {value}") from value
                chunks += 1
                chars += len(value)
                yield value
                # a server that ignores max_tokens must not run on: stop at about the limit
                if chunks > max_tokens + 8 or chars > max_tokens * 8:
                    return
        finally:
            cancel.set()

    def _fallback(self, extractive: Answer, notice: str, *,
                  verification: Verification | None = None) -> Answer:
        if verification is None:
            return replace(extractive, notice=notice)
        removed = tuple(_sentence(v.claim.text) for v in verification.claims
                        if not v.supported and v.claim.complete)
        return replace(extractive, notice=notice, verified_sentences=0, removed_sentences=removed)

    def _answer(self, extractive: Answer, v: Verification, prompt: Prompt) -> Answer:
        shown: list[tuple[Verified, bool]] = []  # (claim, supported)
        kept_stems: list[set[str]] = []
        removed: list[str] = []
        for c in v.claims:
            if not c.claim.complete and not c.claim.bullet:
                log.debug("dropping cut-off sentence %r", c.claim.text)
                continue
            if not c.supported:
                removed.append(_sentence(c.claim.text))
                if self.settings.show_unsupported:
                    shown.append((c, False))
                continue
            st = set(stems(c.claim.text))
            if any(len(st & k) >= 0.8 * len(st) for k in kept_stems):
                continue  # repeats an earlier sentence (small models loop)
            kept_stems.append(st)
            shown.append((c, True))
        n_ok = sum(ok for _, ok in shown)
        if n_ok == 0:
            what = (f"None of the {len(removed)} sentence(s) the language model ({self.name}) "
                    "wrote is supported by the guides' passages" if removed else
                    f"The language model ({self.name}) wrote no sentence that could be checked")
            return self._fallback(extractive, f"{what}. Showing the extractive answer.",
                                  verification=v)
        parts: list[str] = []
        cites = _Citations()
        words = 0
        units = _extractive_sentences(extractive)
        budget = _budget(units)
        shown = _within_budget(shown, units, budget)
        said_text = ""
        for c, ok in shown:
            text = _sentence(c.claim.text)
            unit = _fuller(text, units) if ok else None
            if unit is not None:
                if unit[0] in said_text:
                    continue  # two paraphrases of one unit: it is shown once
                text = unit[0]
            n_words = len(text.split())
            if parts and words + n_words > budget:
                break
            words += n_words
            if ok:
                said_text += " " + text
            if unit is not None:
                parts.append(f"{text} [{cites.add_citation(unit[1])}]")
            elif ok and c.marker is not None and c.support is not None:
                hit = next(p.hit for p in prompt.passages if p.marker == c.marker)
                n = cites.add(hit, c.support.start, c.support.end)
                parts.append(f"{text} [{n}]")
            else:
                parts.append(f"{text} {UNSUPPORTED_MARK}")
        added = 0
        for sentence, citation in units:
            n_words = len(sentence.split())
            if not stems(sentence) or words + n_words > budget or _said(sentence, said_text):
                continue
            n = cites.add_citation(citation)
            parts.append(f"{sentence} [{n}]")
            said_text += " " + sentence
            words += n_words
            added += 1
        bullets = sum(c.claim.bullet for c, _ in shown) > len(shown) / 2
        body = "\n".join(f"- {p}" for p in parts) if bullets else " ".join(parts)
        citations = cites.citations()
        if added:
            log.debug("%s: %d extractive sentence(s) added after the generated ones", self.name,
                      added)
        notice = None
        if removed:
            what = "marked \u26a0 unsupported" if self.settings.show_unsupported else "removed"
            notice = (f"{len(removed)} generated sentence(s) {what}: the guides' passages do "
                      "not support them.")
        return replace(extractive, answer=body, citations=tuple(citations), backend=self.name,
                       notice=notice, verified_sentences=n_ok, removed_sentences=tuple(removed))

class _Citations:
    """The answer's citations, numbered 1..k in order of first use, one per passage (its span
    widened to every sentence that cites it)."""

    def __init__(self) -> None:
        self._by_chunk: dict[str, Citation] = {}

    def add(self, hit: Hit, start: int, end: int) -> int:
        c = hit.chunk
        return self.add_citation(Citation(marker=0, doc=c.doc_id, title=c.title,
                                          section=c.section, text=c.text, start=start, end=end,
                                          score=hit.score, chunk_id=c.chunk_id))

    def add_citation(self, cit: Citation) -> int:
        key = cit.chunk_id or cit.text
        old = self._by_chunk.get(key)
        if old is None:
            self._by_chunk[key] = replace(cit, marker=len(self._by_chunk) + 1)
            return len(self._by_chunk)
        spans = [(s, e) for s, e in ((old.start, old.end), (cit.start, cit.end))
                 if s is not None and e is not None]
        if spans:
            self._by_chunk[key] = replace(old, start=min(s for s, _ in spans),
                                          end=max(e for _, e in spans))
        return old.marker

    def citations(self) -> tuple[Citation, ...]:
        return tuple(self._by_chunk.values())


def _extractive_sentences(extractive: Answer) -> list[tuple[str, Citation]]:
    """The extractive answer's units (sentences, list items, table rows) with the citation of
    each. A unit of several sentences carries its marker after the last one only; it stays
    one unit ("Concentrix: Second-largest CX outsourcer - 440,000+ employees. Merged with
    Webhelp (2023)." [1]), so none of its sentences is lost for want of a marker, not even a
    list item's two-word label ("Security & compliance.")."""
    from .claims import split_claims

    by_marker = {c.marker: c for c in extractive.citations}
    out = []
    pending: list[str] = []
    for claim in split_claims(extractive.answer, fragments=True):
        pending.append(_sentence(claim.text))
        cit = next((by_marker[n] for n in claim.cited if n in by_marker), None)
        if cit is not None:
            out.append((" ".join(pending), cit))
            pending = []
    return out


def _budget(units: Sequence[tuple[str, Citation]]) -> int:
    """The answer's word budget: `ANSWER_WORDS`, or the extractive answer's length when it
    runs longer. Capped at 120 words, the generated answer restating the same units in more
    words lost the last of them: dev fact 0.850 against the extractive 0.861, all three
    items lost that way."""
    return max(ANSWER_WORDS, sum(len(u.split()) for u, _ in units))


def _within_budget(shown: list[tuple[Verified, bool]], units: Sequence[tuple[str, Citation]],
                   budget: int = ANSWER_WORDS) -> list[tuple[Verified, bool]]:
    """The generated sentences to show: every verified one that restates an extractive unit,
    and one that adds something else from the passages only while the word budget still has
    room for every extractive unit not yet said. The units are what the fitted ranker picked
    and carry the answer's figures and list items; a sentence the model added ("For example,
    a tech company in California might outsource its support to Texas.") must not push them
    out. Replayed Qwen drafts: dev fact 0.846 -> 0.852, blind5 0.896 -> 0.902 (extractive
    0.861 and 0.896); cite 0.885 -> 0.891 and 0.893 -> 0.893."""
    said, words, added = "", 0, []
    for c, ok in shown:
        if not ok:
            continue
        text = _sentence(c.claim.text)
        unit = _fuller(text, units)
        if unit is not None or _restated(text, units) is not None:
            shown_text = unit[0] if unit is not None else text
            said += " " + shown_text
            words += len(shown_text.split())
        else:
            added.append(c)
    need = sum(len(u.split()) for u, _ in units if stems(u) and not _said(u, said))
    dropped = set()
    for c in added:
        n = len(_sentence(c.claim.text).split())
        if words + n + need <= budget:
            words += n
        else:
            dropped.add(id(c))
    kept = [(c, ok) for c, ok in shown if id(c) not in dropped]
    return _in_rank_order(kept, units, budget)


def _in_rank_order(shown: list[tuple[Verified, bool]], units: Sequence[tuple[str, Citation]],
                   budget: int) -> list[tuple[Verified, bool]]:
    """Drop restatements of lower-ranked units while a higher-ranked unit the model left out
    does not fit: the units come in the fitted ranker's order, and a model that restates the
    fifth unit at length must not push out the third (it then follows as the extractive
    unit, if it still fits)."""
    def as_shown(c: Verified) -> str:  # the unit itself where the answer will show it
        text = _sentence(c.claim.text)
        unit = _fuller(text, units)
        return unit[0] if unit is not None else text

    kept = list(shown)
    while True:
        texts = [as_shown(c) for c, ok in kept if ok]
        said = " ".join(texts)
        words = sum(len(t.split()) for t in texts)
        missing = [i for i, (u, _) in enumerate(units) if stems(u) and not _said(u, said)]
        first: int | None = None  # the first left-out unit the last loop of `_answer` skips
        for i in missing:
            if words + len(units[i][0].split()) > budget:
                first = i
                break
            words += len(units[i][0].split())
        if first is None:
            return kept
        later = [(j, c) for c, ok in kept
                 if ok and (j := _restated(_sentence(c.claim.text), units)) is not None
                 and j > first]
        if not later:
            return kept
        drop = max(later, key=lambda t: t[0])[1]
        kept = [(c, ok) for c, ok in kept if c is not drop]


def _restated(text: str, units: Sequence[tuple[str, Citation]]) -> int | None:
    """The index of the first extractive unit a generated sentence restates (`COVERED` of
    either's content stems in the other), or None for a sentence of its own."""
    return next((i for i, (u, _) in enumerate(units) if _covered(text, u) or _covered(u, text)),
                None)


def _fuller(text: str, units: Sequence[tuple[str, Citation]]) -> tuple[str, Citation] | None:
    """The extractive unit a generated sentence paraphrases (`COVERED` of its content stems
    are the unit's) when the paraphrase dropped one of the unit's figures or names ("SIAM is a
    management framework..." for "SIAM (Service Integration and Management) - A management
    framework..."): the answer shows the unit instead."""
    return next((unit for unit in units
                 if _covered(text, unit[0]) and _drops_facts(unit[0], text)), None)


def _said(sentence: str, said_text: str) -> bool:
    """Has the answer so far (`said_text`) said this extractive sentence: `COVERED` of its
    content stems, and every figure and name it states (a paraphrase that drops "$8-25" or
    "Global Capability Center" has not said it)?"""
    return _covered(sentence, said_text) and not _drops_facts(sentence, said_text)


def _covered(text: str, by: str) -> bool:
    """Are `COVERED` of `text`'s content stems (and at least one) in `by`?"""
    st = set(stems(text))
    return bool(st) and len(st & set(stems(by))) >= COVERED * len(st)


def _drops_facts(unit: str, text: str) -> bool:
    """Does `text` leave out a figure or a name that `unit` states?"""
    return bool(missing_figures(unit, text) or missing_names(unit, text))


def _sentence(text: str) -> str:
    t = text.strip()
    return t if t[-1:] in ".!?:" else t + "."
