"""The `Bot`: question (+ history) -> retrieval -> refusal decision -> answer with citations.

One `Bot` holds the index generation, the embedder and the answer backend, loaded once and
shared by every question (CLI batch, UI sessions, evals). It notices a newer index
generation (another process ran `ingest`) and switches to it between questions.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from bpo_kb import IndexCorrupt, IndexMissing, QuestionError, Settings, StoreUnavailable
from ingest import Generation, current_generation, index_is_usable, ingest, pointer_stamp
from ingest.ingestion import Progress

from .abstention import AbstentionModel, Features, features
from .answer import Answer, Citation
from .compose import Composition, compose, rank_units
from .lexicon import asked_figures
from .query import Turn, standalone_query
from .ranking import Candidate
from .retrieval import Hit, HybridRetriever

__all__ = ["Bot", "Generator", "clean_question", "parse_history"]

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")
"""Control and invisible characters, and lone surrogates (undecodable bytes, e.g. from a
mis-encoded terminal or file: the tokenizer and UTF-8 output reject them)."""
_HTML_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,500}>")
REFUSAL = "The guides don't cover this."
RETRY_SECONDS = 1.0
"""A published index generation that failed to open is tried again after this long."""
FIGURE_TOP_K = 10
"""Passages retrieved for questions that ask for a figure (see `Bot.retrieve`)."""


class Generator(Protocol):
    """Rewrites an extractive answer with an LLM, grounded in (and verified against) the
    passages. The `generate` package implements it; entry points hand one to `Bot`."""

    name: str

    def generate(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
                 extractive: Answer) -> Answer: ...

    def stream(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
               extractive: Answer) -> Iterator[str | Answer]: ...


def clean_question(question: object, max_chars: int) -> str:
    """The question with control characters removed, or a `QuestionError` saying what's wrong."""
    if not isinstance(question, str):
        raise QuestionError(f"Question must be text, got {type(question).__name__}")
    q = _CONTROL.sub(" ", question)
    q = _HTML_BLOCK.sub(" ", q)  # pasted markup: keep the words, drop tags and scripts
    q = _HTML_TAG.sub(" ", q)
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        raise QuestionError("Question is empty; type a question about business process "
                            "outsourcing, e.g. 'What is the difference between BPO and BPM?'")
    if len(q) > max_chars:
        raise QuestionError(f"Question is {len(q):,} characters long; the limit is "
                            f"{max_chars:,} (BPO_KB_MAX_QUESTION_CHARS). Ask the question itself, "
                            "without pasted documents.")
    if not re.search(r"\w", q):
        raise QuestionError(f"Question {q[:40]!r} has no words in it; type a question about "
                            "business process outsourcing")
    return q


def parse_history(history: object) -> list[Turn]:
    """Turns from a list of {role, content} dicts (or Turn objects); anything else is an error."""
    if history is None or history == "":
        return []
    if not isinstance(history, list | tuple):
        raise QuestionError(f"history must be a list of {{role, content}} turns, got "
                            f"{type(history).__name__}")
    turns = []
    for i, t in enumerate(history):
        if isinstance(t, Turn):
            turns.append(t)
            continue
        if not isinstance(t, dict) or not isinstance(t.get("content", ""), str):
            raise QuestionError(f"history[{i}] must be {{\"role\": \"user\"|\"assistant\", "
                                f"\"content\": \"...\"}}, got {str(t)[:80]!r}")
        role = str(t.get("role", "user")).lower()
        if role not in ("user", "assistant", "system"):
            raise QuestionError(f"history[{i}].role is {role!r}; use 'user' or 'assistant'")
        turns.append(Turn(role=role, content=_CONTROL.sub(" ", t.get("content") or "")[:8000]))
    return turns[-12:]


class Bot:
    """Answers questions from the index. Thread-safe; build once, ask many times."""

    def __init__(self, settings: Settings, generation: Generation,
                 generator: Generator | None = None) -> None:
        self.settings = settings
        self._gen = generation
        self._retriever = self._retriever_for(generation)
        self._abstention = AbstentionModel.default()
        if settings.abstain_threshold is not None:
            self._abstention = AbstentionModel(self._abstention.weights, self._abstention.bias,
                                               settings.abstain_threshold)
        self._lock = threading.Lock()
        self._pointer = pointer_stamp(self.settings.index_dir)
        self._retry_at = 0.0
        self._generator = generator

    def _retriever_for(self, generation: Generation) -> HybridRetriever:
        return HybridRetriever(generation, self.settings.embedder,
                               candidates=self.settings.candidates,
                               model_cache=self.settings.models_dir)

    # -- lifecycle ---------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, *, progress: Progress | None = None,
             on_build: Callable[[], None] | None = None,
             generator: Generator | None = None) -> Bot:
        """Open the index, building it from the corpus first if there is none (or it is stale).
        `generator`: the LLM answer writer (`generate.make_generator(settings)`), if any."""
        if not index_is_usable(settings):
            if on_build:
                on_build()
            ingest(settings, progress=progress, lock_timeout=600)
        try:
            gen = Generation.open_current(settings.index_dir, embedder_spec=settings.embedder)
        except (IndexMissing, IndexCorrupt) as e:
            log.warning("index unusable (%s); rebuilding", e)
            if on_build:
                on_build()
            ingest(settings, rebuild=True, progress=progress, lock_timeout=600)
            gen = Generation.open_current(settings.index_dir, embedder_spec=settings.embedder)
        return cls(settings, gen, generator)

    @property
    def generation(self) -> Generation:
        return self._gen

    def refresh(self, *, force: bool = False) -> bool:
        """Switch to a newer index generation if one was published. True if it switched.

        Called before every question. It costs one `stat` of the pointer file, which is read
        only when it changed, so no answer comes from a generation an ingest has replaced (a
        once-a-second check answered from a removed document right after a fast ingest). A
        generation that fails to open is tried again at most once per `RETRY_SECONDS`."""
        stamp = pointer_stamp(self.settings.index_dir)
        if not force and (stamp == self._pointer or time.monotonic() < self._retry_at):
            return False
        try:
            name = current_generation(self.settings.index_dir)
        except IndexCorrupt as e:
            log.warning("cannot read the index pointer (%s); still answering from %s", e,
                        self._gen.name)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return False
        if name is None or name == self._gen.name:
            self._pointer = stamp
            return False
        # one request loads the new generation; the others keep answering from the current
        # one instead of queueing behind the load (seconds for a large index)
        if not self._lock.acquire(blocking=force):
            return False
        try:
            if name == self._gen.name:
                self._pointer = stamp
                return False
            try:
                gen = Generation.open(self.settings.index_dir, name,
                                      embedder_spec=self.settings.embedder)
            except (IndexCorrupt, StoreUnavailable) as e:
                log.warning("new index generation %s is unusable (%s); still answering from %s",
                            name, e, self._gen.name)
                self._retry_at = time.monotonic() + RETRY_SECONDS
                return False
            self._gen = gen
            self._retriever = self._retriever_for(gen)
            self._pointer = stamp
            log.info("switched to index generation %s", name)
            return True
        finally:
            self._lock.release()

    # -- answering ---------------------------------------------------------------------------
    def idf(self, s: str) -> float:
        return self._gen.lexical.idf(s)

    def retrieve(self, question: str, history: Sequence[Turn] = ()) -> tuple[str, list[Hit]]:
        """The standalone retrieval query and the ranked passages for it. A question asking
        for a figure looks a little further down the ranking: the guides do not always agree,
        and every passage's figure should be found."""
        query = standalone_query(question, history)
        k = self.settings.top_k
        if asked_figures(question):
            k = max(k, FIGURE_TOP_K)
        return query, self._retriever.search(query, k, question=question)

    def assess(self, question: str, query: str, hits: Sequence[Hit],
               ranked: list[Candidate] | None = None, history: Sequence[Turn] = ()
               ) -> tuple[float, Features]:
        """Answerability score in [0, 1] and the features behind it."""
        if ranked is None:
            ranked = rank_units(question, query, hits, self.idf)
        earlier = [t.content for t in history if t.role == "user"] if query != question else []
        f = features(question, query, hits, ranked, self._gen.lexical, self.idf, earlier)
        return self._abstention.score(f), f

    def ask(self, question: str, history: Sequence[Turn] | Sequence[dict[str, str]] = ()
            ) -> Answer:
        """Answer one question (with optional earlier turns). Raises QuestionError on bad input."""
        t0 = time.perf_counter()
        ans, q, turns, hits = self._extractive(question, history)
        if not ans.abstained:
            ans = self._generate(ans, q, turns, hits)
        ms = (time.perf_counter() - t0) * 1000
        return _with_latency(ans, ms)

    def _extractive(self, question: str, history: Sequence[Turn] | Sequence[dict[str, str]]
                    ) -> tuple[Answer, str, list[Turn], list[Hit]]:
        """The extractive answer (or refusal), with the cleaned question, turns and passages."""
        self.refresh()
        q = clean_question(question, self.settings.max_question_chars)
        turns = parse_history(history)
        query, hits = self.retrieve(q, turns)
        ranked = rank_units(q, query, hits, self.idf)
        score, _features = self.assess(q, query, hits, ranked, turns)
        if not hits or score < self._abstention.threshold:
            ans = self._refusal(q, query, hits, score)
        else:
            comp = compose(q, query, hits, self.idf,
                           max_sentences=self.settings.max_answer_sentences, ranked=ranked)
            if not comp.text:
                ans = self._refusal(q, query, hits, score)
            else:
                ans = self._answer(q, query, hits, comp, score)
        return ans, q, turns, list(hits)

    def stream(self, question: str, history: Sequence[Turn] | Sequence[dict[str, str]] = ()
               ) -> Iterator[str | Answer]:
        """Yield the answer text progressively (growing prefixes), then the final `Answer`.

        With an LLM backend the strings are the model's draft as it streams (not yet
        verified); the final `Answer` holds the verified text, which replaces the draft.
        """
        t0 = time.perf_counter()
        ans, q, turns, hits = self._extractive(question, history)
        if self._generator is not None and not ans.abstained:
            final = ans
            for item in self._generator.stream(q, turns, hits, ans):
                if isinstance(item, Answer):
                    final = item
                else:
                    yield item
            yield _with_latency(final, (time.perf_counter() - t0) * 1000)
            return
        ans = _with_latency(ans, (time.perf_counter() - t0) * 1000)
        text = ans.answer
        pieces = re.findall(r"\S+\s*", text)
        acc = ""
        for i, p in enumerate(pieces):
            acc += p
            if i % 3 == 2 or i == len(pieces) - 1:
                yield acc
        yield ans

    def _answer(self, q: str, query: str, hits: Sequence[Hit], comp: Composition,
                score: float) -> Answer:
        return Answer(question=q, answer=comp.text, abstained=False, citations=comp.citations,
                      retrieval_query=query, backend="extractive", answerability=score,
                      ranked=tuple(h.chunk.chunk_id for h in hits))

    def _refusal(self, q: str, query: str, hits: Sequence[Hit], score: float) -> Answer:
        close = list(hits[:3])
        suggestions = suggest_questions(close)
        text = REFUSAL
        topics = list(dict.fromkeys(t.rstrip("?.:! ") for h in close if (t := _topic_of(h))))
        if topics:
            text += " The closest topics they do cover: " + "; ".join(topics) + "."
        cites = tuple(Citation(marker=i + 1, doc=h.chunk.doc_id, title=h.chunk.title,
                               section=h.chunk.section, text=h.chunk.text, start=None, end=None,
                               score=h.score, chunk_id=h.chunk.chunk_id)
                      for i, h in enumerate(close))
        return Answer(question=q, answer=text, abstained=True, citations=cites,
                      retrieval_query=query, backend="extractive", suggestions=tuple(suggestions),
                      answerability=score, ranked=tuple(h.chunk.chunk_id for h in hits))

    def _generate(self, ans: Answer, q: str, turns: Sequence[Turn], hits: Sequence[Hit]
                  ) -> Answer:
        """Let the configured LLM backend rewrite the extractive answer (if there is one)."""
        if self._generator is None:
            return ans
        return self._generator.generate(q, turns, hits, ans)


def _with_latency(ans: Answer, ms: float) -> Answer:
    from dataclasses import replace

    return replace(ans, latency_ms=ms)


def _clean_heading(text: str) -> str:
    t = re.sub(r"^\s*(?:\d{1,2}[.)]|#\d{1,2})\s+", "", text).strip().rstrip(":")
    return t


def _topic_of(hit: Hit) -> str:
    parts = [p for p in hit.chunk.section.split(" > ") if p]
    if not parts:
        return hit.chunk.title
    last = _clean_heading(parts[-1])
    if re.search(r"frequently asked|faq", last, re.I) and len(parts) > 1:
        last = _clean_heading(parts[-2])
    return last


def suggest_questions(hits: Sequence[Hit]) -> list[str]:
    """Questions on the closest covered topics (a question heading is used as it is)."""
    out: list[str] = []
    for h in hits:
        topic = _topic_of(h)
        if not topic:
            continue
        if topic.endswith("?"):
            q = topic
        else:
            q = f"What do the guides say about {topic[0].lower() + topic[1:] if not topic[:3].isupper() and not topic.split()[0].isupper() else topic}?"
        if q not in out:
            out.append(q)
    return out[:3]
