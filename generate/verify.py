"""Claim-level verification: is every sentence of a generated answer supported by a passage?

A generated answer is split into claims (sentences, list items), each with the `[n]` markers
the model wrote. A claim is *supported* by a passage when

    score = SIM_WEIGHT * similarity + (1 - SIM_WEIGHT) * overlap  >=  threshold

and none of the hard checks (bot/evidence.py: figures, names, acronyms, negation, comparisons)
fails, where

- similarity: cosine of the claim and the best-matching window of the passage (a sentence,
  a clause, or two adjacent sentences), embedded with the bot's own embedder;
- overlap: share of the claim's content words (stems) found in that window or the passage
  heading.

A sentence that only restates the question or a heading states nothing and is not supported.
Claims come from bot/claims.py.

`Verifier.verify` checks the passages the claim cites first, then every other passage (a
claim without markers may be supported by any retrieved passage); a claim supported only by a
passage it did not cite is *re-pointed* there. The weights and threshold are calibrated on
evals/verify_pairs/tuning.jsonl (`python -m evals.verify_bench`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ingest import Embedder
from ingest.text import sentence_spans, stems

from .claims import Claim, split_claims
from .evidence import (
    NEGATION,
    acronym_mismatch,
    comparison_swapped,
    comparison_unstated,
    missing_figures,
    missing_names,
    negation_mismatch,
)

__all__ = [
    "Claim",
    "Passage",
    "Support",
    "Verification",
    "Verified",
    "Verifier",
    "split_claims",
]

log = logging.getLogger(__name__)

SIM_WEIGHT = 0.6
"""Weight of the embedding similarity in the support score (the rest is word overlap)."""
THRESHOLD = 0.70
"""Support score a claim needs (calibrated on the verifier pairs; see the module docstring)."""
MIN_OVERLAP = 0.4
"""Below this share of its content words found in the passage, a claim is never supported."""

# -- support -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Passage:
    """A numbered passage as the model saw it."""

    marker: int
    """Its number in the prompt (`[n]`)."""
    text: str
    """The passage text (spans refer to it)."""
    heading: str = ""
    """Title and section: its words count for overlap and names, never for spans."""


@dataclass(frozen=True)
class Support:
    """How well one passage supports one claim."""

    score: float
    """SIM_WEIGHT * similarity + (1 - SIM_WEIGHT) * overlap."""
    similarity: float
    """Cosine of the claim and the best window."""
    overlap: float
    """Share of the claim's content stems found in the passage (or its heading)."""
    start: int
    """Start of the best window inside the passage text."""
    end: int
    """End of the best window."""
    missing_figures: tuple[str, ...] = ()
    missing_names: tuple[str, ...] = ()
    negation: bool = False
    """The passage negates what the claim states (or the reverse)."""
    swapped: bool = False
    """The passage makes the claim's comparison the other way round."""
    unstated: bool = False
    """The claim compares on something the passage does not compare on ("more complex")."""
    not_a_claim: str = ""
    """Set when the sentence states nothing to check (a question, a repeated heading)."""
    threshold: float = THRESHOLD

    @property
    def supported(self) -> bool:
        return (self.score >= self.threshold and self.overlap >= MIN_OVERLAP
                and not self.missing_figures and not self.missing_names
                and not self.negation and not self.swapped and not self.unstated
                and not self.not_a_claim)

    @property
    def reason(self) -> str:
        """Why the claim is not supported ("" when it is)."""
        if self.supported:
            return ""
        if self.not_a_claim:
            return self.not_a_claim
        if self.missing_figures:
            return "figures not in the passage: " + ", ".join(self.missing_figures)
        if self.missing_names:
            return "names not in the passage: " + ", ".join(self.missing_names)
        if self.negation:
            return "negation differs from the passage"
        if self.swapped:
            return "comparison reversed"
        if self.unstated:
            return "a comparison the passage does not make"
        if self.overlap < MIN_OVERLAP:
            return f"only {self.overlap:.0%} of its words are in the passage"
        return f"support {self.score:.2f} below {self.threshold:.2f}"


@dataclass(frozen=True)
class Verified:
    """A claim and the verdict on it."""

    claim: Claim
    support: Support | None
    """The best support found (None when there were no passages)."""
    marker: int | None
    """The passage that supports it (None when unsupported)."""
    repointed: bool = False
    """True when the claim cited other passages (or none) and `marker` was found instead."""

    @property
    def supported(self) -> bool:
        return self.marker is not None


@dataclass(frozen=True)
class Verification:
    """The verdicts on every claim of one generated answer."""

    claims: tuple[Verified, ...]
    passages: tuple[Passage, ...] = field(default=(), repr=False)

    @property
    def kept(self) -> list[Verified]:
        return [v for v in self.claims if v.supported]

    @property
    def removed(self) -> list[Verified]:
        return [v for v in self.claims if not v.supported]

    @property
    def repointed(self) -> list[Verified]:
        return [v for v in self.claims if v.supported and v.repointed]


def _quoted(claim: str, text: str) -> tuple[int, int] | None:
    """The span of `text` that states `claim` verbatim (its label "Name: " and end period
    aside), or None."""
    core = claim.strip().rstrip(".").strip()
    for cand in (core, core.split(": ", 1)[-1]):
        if len(cand.split()) >= 4:
            at = text.find(cand)
            if at >= 0:
                return at, at + len(cand)
    return None


class Verifier:
    """Scores claims against passages with the bot's embedder. Thread-safe."""

    def __init__(self, embedder: Embedder, *, threshold: float = THRESHOLD,
                 sim_weight: float = SIM_WEIGHT, cache_size: int = 20_000) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.sim_weight = sim_weight
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # embeddings of short texts, cached (passage windows repeat across questions)
    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            vecs = self.embedder.embed_documents(todo)
            with self._lock:
                for t, v in zip(todo, vecs, strict=True):
                    self._cache[t] = np.asarray(v, dtype=np.float32)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            got = [self._cache.get(t) for t in texts]
        dim = next((v.shape[0] for v in got if v is not None), self.embedder.dim)
        return np.vstack([v if v is not None else np.zeros(dim, np.float32) for v in got])

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed many texts in one batch now (faster than one small batch per claim)."""
        self._embed(list(texts))

    def support(self, claim: str, passage: Passage, *, question: str = "") -> Support:
        """How well `passage` supports `claim` (see the module docstring for the score).

        Every window (sentence, clause, two adjacent sentences) is scored as
        SIM_WEIGHT * cosine + (1 - SIM_WEIGHT) * word overlap, where overlap counts the claim's
        content stems found in the window or the passage heading; the best window wins, and the
        hard checks look at it and its neighbouring sentences. A claim the passage states word
        for word (an extractive sentence) is supported by it outright.
        """
        quoted = _quoted(claim, passage.text)
        if quoted is not None and not claim.rstrip().endswith("?"):
            return Support(score=1.0, similarity=1.0, overlap=1.0, start=quoted[0],
                           end=quoted[1], threshold=self.threshold)
        wins = windows(passage.text) or [(0, len(passage.text))]
        texts = [passage.text[a:b] for a, b in wins]
        vecs = self._embed([claim, *texts])
        sims = np.clip(vecs[1:] @ vecs[0], 0.0, 1.0)
        cs = set(stems(claim))
        head = set(stems(passage.heading))
        overlaps = np.array([len(cs & (set(stems(t)) | head)) / len(cs) if cs else 0.0
                             for t in texts])
        scores = self.sim_weight * sims + (1 - self.sim_weight) * overlaps
        best = int(np.argmax(scores))
        a, b = wins[best]
        near = _neighbourhood(passage.text, a, b)
        context = passage.heading + "\n" + near
        not_a_claim = ""
        if claim.rstrip().endswith("?"):
            not_a_claim = "a question, not a claim"
        elif cs and cs <= head | set(stems(question)) | _FILLER:
            not_a_claim = "repeats the question or a heading"
        elif _is_heading_of(claim, passage.text):
            not_a_claim = "repeats a heading of the passage"
        elif acronym_mismatch(claim):
            not_a_claim = acronym_mismatch(claim)
        return Support(
            score=float(scores[best]), similarity=float(sims[best]),
            overlap=float(overlaps[best]), start=a, end=b,
            missing_figures=tuple(missing_figures(claim, context)),
            missing_names=tuple(missing_names(claim, passage.heading + "\n" + passage.text)),
            negation=negation_mismatch(claim, near) if NEGATION.search(claim + near) else False,
            swapped=comparison_swapped(claim, passage.text) if " than " in claim else False,
            unstated=comparison_unstated(claim, passage.text) if " than " in claim else False,
            not_a_claim=not_a_claim, threshold=self.threshold)

    def verify(self, answer: str | Sequence[Claim], passages: Sequence[Passage], *,
               question: str = "") -> Verification:
        """Check every claim of `answer` against the passages (cited ones first).

        A claim that only restates `question` (or a passage heading) is not supported.
        """
        claims = split_claims(answer) if isinstance(answer, str) else list(answer)
        by_marker = {p.marker: p for p in passages}
        out: list[Verified] = []
        for c in claims:
            cited = [by_marker[m] for m in c.cited if m in by_marker]
            best: tuple[Support, Passage] | None = None
            verdict: Verified | None = None
            for p in cited:
                s = self.support(c.text, p, question=question)
                if best is None or s.score > best[0].score:
                    best = (s, p)
                if s.supported and (verdict is None or s.score > (verdict.support or s).score):
                    verdict = Verified(c, s, p.marker, repointed=False)
            if verdict is None:
                found: tuple[Support, Passage] | None = None
                for p in passages:
                    if p in cited:
                        continue
                    s = self.support(c.text, p, question=question)
                    if best is None or s.score > best[0].score:
                        best = (s, p)
                    if s.supported and (found is None or s.score > found[0].score):
                        found = (s, p)
                if found is not None:
                    verdict = Verified(c, found[0], found[1].marker, repointed=True)
            if verdict is None:
                verdict = Verified(c, best[0] if best else None, None)
            if not verdict.supported:
                log.debug("unsupported claim %r: %s", c.text,
                          verdict.support.reason if verdict.support else "no passages")
            elif verdict.repointed:
                log.debug("claim %r re-pointed from %s to [%d]", c.text, list(c.cited),
                          verdict.marker)
            out.append(verdict)
        return Verification(tuple(out), tuple(passages))


_FILLER = frozenset({"yes", "bpo", "answer", "question", "passag", "guid", "accord"})
"""Stems that add nothing to a restated question or heading ("Yes, BPO is ...")."""


def _squash(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$%]+", text.lower()))


def _is_heading_of(claim: str, text: str) -> bool:
    """True when the claim is one of the passage's heading lines (a short line without end
    punctuation and not a list item; a numbering aside): it names a topic and states
    nothing."""
    key = _squash(claim)
    for line in text.splitlines():
        if re.match(r"^\s*[-*\u2022|]", line):
            continue  # a list item or a table row says something
        line = re.sub(r"^\s*\d{1,2}[.)]\s*", "", line).strip()
        if line and len(line) <= 80 and line[-1] not in ".!?" and _squash(line) == key:
            return True
    return False


def windows(text: str) -> list[tuple[int, int]]:
    """Spans a claim is compared with: sentences, their clauses, and adjacent sentence pairs."""
    sents = list(sentence_spans(text))
    out: list[tuple[int, int]] = list(sents)
    for (a, _), (_, d) in zip(sents, sents[1:], strict=False):
        if d - a <= 600:
            out.append((a, d))
    for a, b in sents:
        if b - a < 160:
            continue
        pos = a
        for m in re.finditer(r"; | \u2014 | - |: |, (?:but|while|whereas|and|so) ", text[a:b]):
            cut = a + m.start()
            if cut - pos >= 40:
                out.append((pos, cut))
            pos = a + m.end()
        if pos > a and b - pos >= 40:
            out.append((pos, b))
    # table rows: the guides keep one row per line; a row reads better with its header
    return list(dict.fromkeys(out))


def _neighbourhood(text: str, start: int, end: int) -> str:
    """The window with the sentence before and after it."""
    sents = list(sentence_spans(text))
    idx = [i for i, (a, b) in enumerate(sents) if a < end and b > start]
    if not idx:
        return text[start:end]
    lo = max(0, idx[0] - 1)
    hi = min(len(sents) - 1, idx[-1] + 1)
    return text[sents[lo][0]:sents[hi][1]]
