"""The `Bot`: question (+ history) -> retrieval -> refusal decision -> answer with citations.

    question + history --Reader.read--> Question (parsed once: bot/question.py)
    Question --HybridRetriever.search--> passages (Hit) --UnitRanker.rank--> units
    units --features + AbstentionModel--> answerability; below the threshold: a refusal
    units --compose--> the extractive answer; an LLM generator (if any) rewrites it

One `Bot` holds the index generation, the embedder, the vocabulary and the answer backend,
loaded once and shared by every question (CLI batch, UI sessions, evals). It notices a newer
index generation (another process ran `ingest`) and switches to it between questions.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from bpo_kb import (
    ConfigError,
    IndexCorrupt,
    IndexMissing,
    QuestionError,
    Settings,
    StoreUnavailable,
)
from ingest import Chunk, Generation, current_generation, index_is_usable, ingest, pointer_stamp
from ingest.ingestion import Progress

from .abstention import AbstentionModel, Features, features
from .answer import Answer, Citation
from .compose import Composition, ListModel, compose
from .cross_encoder import make_cross_encoder
from .followup import Turn
from .names import NameModel
from .question import Question, Reader
from .ranking import Candidate, UnitRanker
from .retrieval import Hit, HybridRetriever
from .spelling import Speller
from .suggest import suggest, topic_of
from .vocab import Vocabulary

__all__ = ["Bot", "Generator", "clean_question", "is_english", "parse_history"]

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")
"""Control and invisible characters, and lone surrogates (undecodable bytes, e.g. from a
mis-encoded terminal or file: the tokenizer and UTF-8 output reject them)."""
_HTML_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,500}>")
REFUSAL = "The guides don't cover this."
NOT_ENGLISH = ("The guides don't cover this: they are written in English, and this question "
               "is not. Ask it in English to search them.")
ENGLISH_SHARE = 0.5
"""A question is English when at least this share of its words are English words (wordfreq)
or words of the documents."""
RETRY_SECONDS = 1.0
"""A published index generation that failed to open is tried again after this long."""
FIGURE_TOP_K = 10
"""Passages retrieved for questions that ask for a figure (see `Bot.retrieve`)."""


class Generator(Protocol):
    """Rewrites an extractive answer with an LLM, grounded in (and verified against) the
    passages. The `generate` package implements it; entry points hand one to `Bot`."""

    name: str

    def generate(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
                 extractive: Answer, *, subject: str = "") -> Answer: ...

    def stream(self, question: str, history: Sequence[Turn], hits: Sequence[Hit],
               extractive: Answer, *, subject: str = "") -> Iterator[str | Answer]: ...


def is_english(text: str, known: Callable[[str], bool]) -> bool:
    """Are most of the words of `text` English (or the documents' own words)?"""
    from wordfreq import zipf_frequency

    from ingest.text import stem, words

    ws = [w for w in words(text) if w.isalpha() and len(w) > 2]
    if len(ws) < 3:
        return True
    ok = sum(1 for w in ws if known(stem(w)) or zipf_frequency(w, "en") >= 3.0)
    return ok >= ENGLISH_SHARE * len(ws)


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
                 generator: Generator | None = None, *, shapes: bool = True) -> None:
        self.settings = settings
        self._shapes = shapes
        self._ranker = UnitRanker.default()
        self._cross = make_cross_encoder(settings.cross_encoder)
        self._names = NameModel.load(settings.embedder)
        self._lists = ListModel.default()
        self._gen = generation
        self._retriever, self._vocab, self._reader = self._parts_for(generation)
        self._abstention = AbstentionModel.default(cross=self._cross is not None)
        self._plain = AbstentionModel.default(cross=False)  # for rankings without the encoder
        if settings.abstain_threshold is not None:
            self._abstention = replace(self._abstention, threshold=settings.abstain_threshold)
            self._plain = replace(self._plain, threshold=settings.abstain_threshold)
        self._lock = threading.Lock()
        self._pointer = pointer_stamp(self.settings.index_dir)
        self._retry_at = 0.0
        self._generator = generator

    def _parts_for(self, generation: Generation
                   ) -> tuple[HybridRetriever, Vocabulary, Reader]:
        """The retriever, vocabulary and question reader of one index generation."""
        path = self.settings.vocab_file
        if self.settings.vocab not in (None, "", "none") and (path is None or not path.is_file()):
            raise ConfigError(f"BPO_KB_VOCAB={self.settings.vocab!r} is not a file; give the "
                              "path of a vocabulary TOML (like corpus/vocab.toml) or 'none'")
        vocab = Vocabulary.load(path, generation.terms.acronyms)
        retriever = HybridRetriever(generation, self.settings.embedder,
                                    candidates=self.settings.candidates,
                                    model_cache=self.settings.models_dir, vocab=vocab)
        speller = Speller(generation.terms.words, frozenset(vocab.acronyms)) \
            if Speller is not None else None
        reader = Reader(vocab, speller, generation.lexical.idf, self.similarity,
                        shapes=self._shapes, df_ratio=generation.lexical.df_ratio)
        return retriever, vocab, reader

    def _neighbour(self, chunk: Chunk, d: int) -> Chunk | None:
        return self._gen.chunk_at(chunk.doc_id, chunk.ordinal + d)

    def _unknown_name(self, word: str) -> bool:
        """Is a word the documents never use a name (`bot.names`)?"""
        if self._names is None:
            return False
        return self._names.is_name(word, self._retriever.embedder.embed_query)

    def similarity(self, text: str, candidates: list[str]) -> list[float]:
        """Cosine similarity of `text` to each candidate (the bot's embedder, cached)."""
        emb = self._retriever.embedder
        v = emb.embed_query(text)
        return [float(emb.embed_query(c) @ v) for c in candidates]

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
            self._retriever, self._vocab, self._reader = self._parts_for(gen)
            self._pointer = stamp
            log.info("switched to index generation %s", name)
            return True
        finally:
            self._lock.release()

    # -- answering ---------------------------------------------------------------------------
    @property
    def vocab(self) -> Vocabulary:
        return self._vocab

    def read(self, question: str, history: Sequence[Turn] = ()) -> Question:
        """The parsed question (standalone, corrected, with its shape)."""
        return self._reader.read(question, history)

    def retrieve(self, q: Question) -> list[Hit]:
        """The ranked passages for a parsed question. A question asking for a figure looks a
        little further down the ranking: the guides do not always agree, and every passage's
        figure should be found."""
        k = self.settings.top_k
        if q.figures:
            k = max(k, FIGURE_TOP_K)
        return self._retriever.search(q, k)

    def rank(self, q: Question, hits: Sequence[Hit]) -> list[Candidate]:
        """Every unit of the passages, scored for the question, best first."""
        return self._ranker.rank(hits, q, self._vocab, self.similarity, self._cross)

    def assess(self, q: Question, hits: Sequence[Hit], ranked: Sequence[Candidate]
               ) -> tuple[float, Features]:
        """Answerability score in [0, 1] and the features behind it."""
        f = features(q, hits, ranked, self._gen.lexical, self._vocab, self._gen.terms,
                     self._unknown_name)
        return self._refusal_model(ranked).score(f), f

    def _refusal_model(self, ranked: Sequence[Candidate]) -> AbstentionModel:
        """The refusal model for a ranking: with the cross-encoder's feature when it read some
        of its units (always, unless BPO_KB_CROSS_ENCODER=none)."""
        return self._abstention if any(c.cross is not None for c in ranked) else self._plain

    def ask(self, question: str, history: Sequence[Turn] | Sequence[dict[str, str]] = ()
            ) -> Answer:
        """Answer one question (with optional earlier turns). Raises QuestionError on bad input."""
        t0 = time.perf_counter()
        ans, q, turns, hits = self._extractive(question, history)
        if not ans.abstained and self._generator is not None:
            ans = self._generator.generate(q.text, turns, hits, ans,
                                           subject=self._vocab.subject)
        return _with_latency(ans, (time.perf_counter() - t0) * 1000)

    def _extractive(self, question: str, history: Sequence[Turn] | Sequence[dict[str, str]]
                    ) -> tuple[Answer, Question, list[Turn], list[Hit]]:
        """The extractive answer (or refusal), with the parsed question, turns and passages."""
        self.refresh()
        asked = clean_question(question, self.settings.max_question_chars)
        turns = parse_history(history)
        q = self._reader.read(asked, turns)
        if not is_english(q.text, self._gen.lexical.knows):
            hits = self.retrieve(q)
            return self._refusal(q, hits, 0.0, NOT_ENGLISH), q, turns, hits
        hits = self.retrieve(q)
        ranked = self.rank(q, hits)
        score, _features = self.assess(q, hits, ranked)
        ans: Answer | None = None
        if hits and score >= self._refusal_model(ranked).threshold:
            comp = compose(q, ranked, self._vocab, max_units=self.settings.max_answer_sentences,
                           similarity=self.similarity, neighbour=self._neighbour,
                           lists=self._lists)
            if comp.text:
                ans = self._answer(q, hits, comp, score)
        return ans or self._refusal(q, hits, score), q, turns, list(hits)

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
            for item in self._generator.stream(q.text, turns, hits, ans,
                                               subject=self._vocab.subject):
                if isinstance(item, Answer):
                    final = item
                else:
                    yield item
            yield _with_latency(final, (time.perf_counter() - t0) * 1000)
            return
        ans = _with_latency(ans, (time.perf_counter() - t0) * 1000)
        pieces = re.findall(r"\S+\s*", ans.answer)
        acc = ""
        for i, p in enumerate(pieces):
            acc += p
            if i % 3 == 2 or i == len(pieces) - 1:
                yield acc
        yield ans

    def _answer(self, q: Question, hits: Sequence[Hit], comp: Composition, score: float
                ) -> Answer:
        cited = [self._gen.chunks[i] for c in comp.citations
                 if (i := self._gen.by_id.get(c.chunk_id)) is not None]
        return Answer(question=q.asked, answer=comp.text, abstained=False,
                      citations=comp.citations, retrieval_query=q.query, backend="extractive",
                      answerability=score, ranked=tuple(h.chunk.chunk_id for h in hits),
                      suggestions=tuple(suggest(self._gen, cited, q.asked, (q.text,))))

    def _refusal(self, q: Question, hits: Sequence[Hit], score: float,
                 message: str = REFUSAL) -> Answer:
        close = list(hits[:3])
        text = message
        topics = list(dict.fromkeys(t.rstrip("?.:! ") for h in close if (t := topic_of(h.chunk))))
        if topics and message == REFUSAL:
            text += " The closest topics they do cover: " + "; ".join(topics) + "."
        cites = tuple(Citation(marker=i + 1, doc=h.chunk.doc_id, title=h.chunk.title,
                               section=h.chunk.section, text=h.chunk.text, start=None, end=None,
                               score=h.score, chunk_id=h.chunk.chunk_id)
                      for i, h in enumerate(close))
        return Answer(question=q.asked, answer=text, abstained=True, citations=cites,
                      retrieval_query=q.query, backend="extractive",
                      suggestions=tuple(suggest(self._gen, [h.chunk for h in close], q.asked,
                                                (q.text,), include_own=True)),
                      answerability=score, ranked=tuple(h.chunk.chunk_id for h in hits))


def _with_latency(ans: Answer, ms: float) -> Answer:
    return replace(ans, latency_ms=ms)
