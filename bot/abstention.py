"""Calibrated abstention: does the documents' text actually answer *this* question?

Topic similarity alone cannot tell "what does offshore support cost?" (answered) from "what
does offshore support cost in Vietnam?" (not answered): both retrieve the same passages.
Most questions the documents don't answer are on-topic and ask for one specific they lack.
So the decision checks the question's own words against the retrieved units (sentences,
list items, table rows), each unit with its neighbours in the same paragraph, its heading
and its label - all in lower case: letter case and punctuation never move the decision.

- `req_cov`: the share of what the question requires - its names (words the documents
  write as names, "Accenture", "GDPR", and unknown words the name model reads as names,
  "Vietnam", "PIPEDA": `bot.names`) and what a figure is asked of ("employees", "revenue", "attrition":
  `bot.figures.asked_about`) - found together in one unit ("Teleperformance" and "revenue"
  both occur in the guides, never in the same bullet); `names_cov` the same for the names.
  Only what is asked counts: the asker's account of their own situation ("We're in
  Germany.", "we run a group of clinics", `Question.asks`) names nothing required;
- `key_cov`: the share (idf-weighted) of the question's *key* words - those in fewer than
  `COMMON` of the passages - found together in one unit;
- `all_cov`: the same over all of its content words;
- `rarest`, `rarest2`: whether its rarest key word is in such a unit, and its two rarest
  together (a word the documents never use is the rarest, and never found);
- `figure`: when a figure is asked ("how much", "how many", "how long"), whether a unit
  holding everything it requires gives one of the asked kind (and, for a price asked "per call",
  one given per call);
- `unknown`: how many of its words the documents never use (after spelling correction;
  synonyms and acronyms of `bot.vocab` count as known), and `unknown_rare` the same for
  words that are not everyday English;
- `unit_sim`, `tokens`: best similarity and token recall of a unit (off-topic questions
  score low);
- `heading`: how much of the question a retrieved passage's heading covers ("whats the
  catch? risks?" against "Risks - and how to manage them");
- `domain`: how specific to the documents' subject its most specific word is (how much more
  often they use it than English at large does, from wordfreq's bundled lists): a recipe or
  a football question has no such word;
- `best_unit`: the unit ranker's probability for the best unit (how answer-like it is);
- `cross`: the cross-encoder's best logit over the units it read (`bot.cross_encoder`; /10:
  the best unit, the six best for a list question), when one is configured: a model trained
  to tell a passage that answers a question from one that is only about its topic.

Boosted regression trees over these features give an answerability score in [0, 1]; the
bot refuses below a threshold. The score moves with each feature in the direction its
meaning says, whatever the others (`LOWERS`: only the unknown-word counts may lower it;
`FREE`: two ranking signals in either direction; every other feature only raises it), so
the trees can combine features ("every required word is in one unit, but the cross-encoder
reads it as not answering") without learning a meaning no feature has. Trees and threshold
are fitted on labelled questions (`python -m evals.calibrate abstention ...`) and stored in
`bot/abstention.json`, with a second model fitted without `cross` for a bot without a
cross-encoder. Until one is fitted, a hand-set logistic model scores the features.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import LexicalIndex
from ingest.terms import Terms
from ingest.text import STOPWORDS, normalize, stem, stems, words

from .figures import asked_about, kinds_in
from .question import Question
from .ranking import Candidate
from .retrieval import Hit
from .vocab import Vocabulary, everyday_word

__all__ = ["FEATURES", "FREE", "LOWERS", "AbstentionModel", "Features", "features"]

MODEL_PATH = Path(__file__).with_name("abstention.json")

FEATURES = ("req_cov", "names_cov", "key_cov", "all_cov", "rarest", "rarest2", "figure",
            "unknown", "unknown_rare", "unit_sim", "tokens", "heading", "domain", "best_unit",
            "cross")
PLAIN = FEATURES[:-1]
"""The features of the model for a bot without a cross-encoder."""
LOWERS = frozenset({"unknown", "unknown_rare"})
"""Features that can only lower the answerability score when fitted (words the documents
never use); every other feature can only raise it. The fit keeps each weight on its
meaning's side or at 0: unconstrained, `unknown` took a positive weight from casual phrasing
in answerable questions, and "how do i fix a flat bike tyre" was answered."""
FREE = frozenset({"best_unit", "tokens"})
"""Features the score may follow either way. A unit that repeats the question's words
closely (high token recall, a high unit-ranker probability) is as often the question's topic
echoed ("what's a good average handle time for live chat?" against a list of metrics that
names handle time) as its answer; constrained to raise the score, the trees refused 3 points
fewer unanswerable questions of the eight dev sets left out in turn (0.816 -> 0.848 at the
same 3% false refusals)."""
CROSS_FLOOR = -1.2
"""`cross` when the cross-encoder read no unit (its logits run from about -11 to +11, /10)."""
NAME_ZIPF = 4.5
"""A word the documents always capitalise but only at the start of a sentence is a name
only if English uses it less often than this (Zipf): "However", "Beware" are not names."""
COMMON = 0.3
"""A word in this share of passages or more is not a key word (in the guides: BPO,
outsourcing, business...)."""
DOMAIN_FLOOR = 1e-4
"""`domain` of a question without a single word the documents use (log10 -> -4)."""
FIGURE_UNITS = 12
"""Without key words, a figure of the asked kind must be in one of this many best units."""


def _common(lexical: LexicalIndex, s: str) -> bool:
    """Is stem `s` in `COMMON` of the passages or more - and in two at least: in a corpus of
    a few passages, a word that only one of them uses still tells them apart."""
    return lexical.doc_freq.get(s, 0) >= max(2.0, COMMON * lexical.n_docs)


@dataclass(frozen=True)
class Features:
    """Answerability signals of one question against its retrieved passages."""

    req_cov: float
    names_cov: float
    key_cov: float
    all_cov: float
    rarest: float
    rarest2: float
    figure: float
    unknown: float
    unknown_rare: float
    unit_sim: float
    tokens: float
    heading: float
    domain: float
    best_unit: float = 0.0
    cross: float = CROSS_FLOOR
    missing: tuple[str, ...] = ()
    """The question's words the documents never use (for explanations)."""

    def vector(self, names: Sequence[str] = FEATURES) -> list[float]:
        return [float(getattr(self, f)) for f in names]


def domain_specificity(text: str, lexical: LexicalIndex) -> float:
    """log10 of max over the words of `text` of df_ratio(word) / 10^(zipf(word) - 4): a word
    the documents use in 20% of passages but English uses 3 times per million (zipf 3.5)
    scores 0.2 / 10^-0.5 = 0.63; "good" (zipf 6, in 4% of passages) scores 0.0004."""
    from wordfreq import zipf_frequency

    best = DOMAIN_FLOOR
    for w in words(text):
        if w in STOPWORDS:
            continue
        df = lexical.df_ratio(stem(w))
        if df > 0:
            best = max(best, df / 10 ** (zipf_frequency(w, "en") - 4))
    return math.log10(best)


_PER = re.compile(r"\bper\s+((?:[a-z][\w-]*\s+){0,1}[a-z][\w-]*)", re.I)
_PRICE_PER = re.compile(
    r"[$\u20ac\u00a3]\s?\d[\d.,]*(?:\s?(?:[kmb]n?|million|billion)\b)?"
    r"(?:\s?(?:-|to)\s?[$\u20ac\u00a3]?\s?\d[\d.,]*(?:\s?(?:[kmb]n?|million|billion)\b)?)?"
    r"\s*(?:/|per\s|an?\s|each\s)\s*((?:[a-z][\w-]*\s+){0,1}[a-z][\w-]*)", re.I)


def _asked_rate(text: str) -> frozenset[str]:
    """The unit a price is asked per ("per inbound call" -> {inbound, call}), if any."""
    m = _PER.search(text)
    return frozenset(t for t in stems(m.group(1)) if t not in STOPWORDS) if m else frozenset()


def _rate_given(text: str, rate: frozenset[str]) -> bool:
    """Does the text price something per that unit ("$0.50-$2.00 per invoice")? A price
    per invoice does not answer a question about the price per call."""
    return any(rate & set(stems(m.group(1))) for m in _PRICE_PER.finditer(normalize(text)))


def _same_line(a: Candidate, b: Candidate) -> bool:
    text = a.unit.chunk.text
    lo, hi = (a.unit.end, b.unit.start) if a.unit.start < b.unit.start else \
        (b.unit.end, a.unit.start)
    return "\n" not in text[min(lo, hi):max(lo, hi)]


def _unknown_words(q: Question, lexical: LexicalIndex, vocab: Vocabulary) -> list[str]:
    """The question's own content words the index never uses (nor the vocabulary), outside
    the asker's account of their own situation."""
    out: list[str] = []
    for w in words(q.asks or q.content or q.text):
        if w in STOPWORDS or len(w) < 2 or w[0].isdigit() or w in out:
            continue
        if vocab.expansion(w) or any(lexical.knows(x) for x in vocab.synonyms_of(stem(w))):
            continue
        out.append(w)
    return out


def names_of(q: Question, lexical: LexicalIndex, terms: Terms,
             unknown_name: Callable[[str], bool] | None = None) -> list[str]:
    """Stems of the question's names, whatever their case in the question (`bot.names`):
    the words the documents write as names ("Accenture", "Poland", "GDPR"), and the words
    they never use that `unknown_name` says are names ("Vietnam", "PIPEDA")."""
    out: list[str] = []
    for w in words(q.asks or q.content or q.text):
        if w in STOPWORDS or len(w) < 2 or w[0].isdigit():
            continue
        s = stem(w)
        if s in out or _common(lexical, s):
            continue
        if terms.words.get(w):
            if terms.capitalised(w) and (terms.inside.get(w, 0) > 0 or
                                         not _zipf_at_least(w, NAME_ZIPF)):
                out.append(s)
        elif not lexical.knows(s) and len(w) > 2 and unknown_name is not None \
                and unknown_name(w):
            out.append(s)
    return out


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")  # "FY2024" names 2024 too
_NAMED_NUMBER = re.compile(r"\b([A-Za-z][\w&-]*)\s+(\d{1,6})\b")


def _numbers(text: str, names: Sequence[str]) -> list[str]:
    """Years and numbers that are part of a name ("ISO 27701", "SOC 2": a number right
    after one of the question's names) a question names: an answer must state them too."""
    out = _YEAR.findall(text) + [m.group(2) for m in _NAMED_NUMBER.finditer(text)
                                 if stem(m.group(1).lower()) in names
                                 and not _YEAR.fullmatch(m.group(2))]
    return list(dict.fromkeys(out))


def _zipf_at_least(word: str, zipf: float) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= zipf


def features(q: Question, hits: Sequence[Hit], ranked: Sequence[Candidate],
             lexical: LexicalIndex, vocab: Vocabulary, terms: Terms | None = None,
             unknown_name: Callable[[str], bool] | None = None) -> Features:
    """Answerability features of a parsed question, its passages and their ranked units
    (`unknown_name`: is a word the documents never use a name? see `bot.names`)."""
    text = q.content or q.text  # standalone, without acronym expansions or how-to-answer words
    asked = set(stems(text))
    base = {t: w for t, w in q.terms.items() if t in asked} or dict(q.terms)
    key = {t: w for t, w in base.items() if not _common(lexical, t)}
    rarest = sorted(key, key=lambda t: -base[t])[:2]  # unknown words weigh most: never found
    names = names_of(q, lexical, terms, unknown_name) if terms is not None else []
    asks = q.asks or text  # the asker's own situation ("we're in Germany") is not required
    about = [s for w in asked_about(asks) for s in stems(w)
             if not _common(lexical, s) and s not in names]
    required = list(dict.fromkeys(names + about + _numbers(asks, names)))
    key_total = sum(key.values())
    all_total = sum(base.values()) or 1.0
    by_pos = {(c.unit.chunk.chunk_id, c.unit.position): c for c in ranked}
    # a follow-up's words from the earlier turn name its topic: a unit need not repeat them
    # if its passage states them ("how much cheaper would that be?" after "nearshore options
    # inside the EU?": the cheaper-by unit, in a passage on nearshore Europe)
    topic = asked - q.own if q.follow_up else set()
    passage_bags: dict[str, frozenset[str]] = {}
    best_key = best_all = has_rarest = has_two = best_req = best_names = 0.0
    holding: list[tuple[float, str]] = []
    for c in ranked:
        around = [n for d in (-1, 1)
                  if (n := by_pos.get((c.unit.chunk.chunk_id, c.unit.position + d))) is not None
                  and _same_line(c, n)]
        bag = vocab.widen(c.unit.stems | c.unit.label_stems
                          | frozenset().union(*(n.unit.stems for n in around)))
        if topic:
            ch = c.unit.chunk
            if ch.chunk_id not in passage_bags:
                passage_bags[ch.chunk_id] = vocab.widen(frozenset(
                    stems(f"{ch.section} {ch.context} {ch.text}")))
            bag = bag | (passage_bags[ch.chunk_id] & topic)
        kc = sum(w for t, w in key.items() if t in bag) / key_total if key_total else 1.0
        rc = sum(1 for t in required if t in bag) / len(required) if required else 1.0
        nc = sum(1 for t in names if t in bag) / len(names) if names else 1.0
        best_req, best_names = max(best_req, rc), max(best_names, nc)
        ac = sum(w for t, w in base.items() if t in bag) / all_total
        best_key, best_all = max(best_key, kc), max(best_all, ac)
        if rarest and rarest[0] in bag:
            has_rarest = 1.0
            if all(t in bag for t in rarest):
                has_two = 1.0
        holding.append((rc, " ".join([c.unit.text, *(n.unit.text for n in around)])))
    figure = 1.0
    wants = q.figures - {"number"}
    if q.figures:
        figure = 0.0
        for i, (rc, text) in enumerate(holding):
            if rc >= 1.0 - 1e-9 if required else i < FIGURE_UNITS:
                if (kinds_in(text) & wants) if wants else re.search(r"\d", text):
                    figure = 1.0
                    break
        rate = _asked_rate(q.text) if "money" in q.figures else frozenset()
        if rate and not any(_rate_given(text, rate) for _, text in holding):
            figure = 0.0  # a price asked per call; the passages price per hour, per invoice
    unknown = _unknown_words(q, lexical, vocab)
    heading = 0.0
    for h in hits:
        hs = vocab.widen(frozenset(stems(f"{h.chunk.section} {h.chunk.context}")))
        heading = max(heading, sum(w for t, w in base.items() if t in hs) / all_total)
    unit_sim = max((c.features[0] for c in ranked), default=0.0)
    tokens = max((t for h in hits for t in h.unit_tokens), default=0.0)
    cross = max((c.cross / 10.0 for c in ranked if c.cross is not None), default=CROSS_FLOOR)
    return Features(req_cov=best_req, names_cov=best_names, key_cov=best_key, all_cov=best_all, rarest=has_rarest if rarest else 1.0,
                    rarest2=has_two if rarest else 1.0, figure=figure,
                    unknown=float(len(unknown)),
                    unknown_rare=float(sum(1 for w in unknown if not everyday_word(w))),
                    unit_sim=unit_sim, tokens=tokens, heading=heading,
                    domain=domain_specificity(q.query, lexical),
                    best_unit=ranked[0].score if ranked else 0.0, cross=cross,
                    missing=tuple(unknown))


Tree = tuple[tuple[int, float, int, int, float], ...]
"""A regression tree: its nodes, the root first, each (feature index, or -1 for a leaf;
threshold; left child; right child; leaf value): x[feature] <= threshold goes left."""


def _tree_value(tree: Tree, x: Sequence[float]) -> float:
    i = 0
    while True:
        f, t, left, right, value = tree[i]
        if f < 0:
            return value
        i = left if x[f] <= t else right


@dataclass(frozen=True)
class AbstentionModel:
    """Answerability model: score = sigmoid(bias + the trees' values) over `features`, or
    sigmoid(bias + w . x) for a model without trees (the hand-set one); refuse below
    `threshold`."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    features: tuple[str, ...] = FEATURES
    trees: tuple[Tree, ...] = ()

    @classmethod
    def default(cls, *, cross: bool = True) -> AbstentionModel:
        """The fitted model (`cross`: for a bot with a cross-encoder, else the one without)."""
        want = FEATURES if cross else PLAIN
        if MODEL_PATH.exists():
            data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
            for d in (data, data.get("without_cross_encoder") or {}):
                if tuple(d.get("features", ())) == want:
                    return cls._from(d)
        # hand-set starting point, used until a model is fitted
        hand = {"key_cov": 4.0, "figure": 2.0, "unknown_rare": -2.0, "unit_sim": 5.0,
                "all_cov": 2.0, "domain": 1.0}
        return cls(weights=tuple(hand.get(f, 0.0) for f in want), bias=-6.0, threshold=0.5,
                   features=want)

    @classmethod
    def _from(cls, d: dict[str, Any]) -> AbstentionModel:
        names = tuple(str(f) for f in d["features"])
        if not set(names) <= set(FEATURES):
            raise ValueError(f"{MODEL_PATH} was fitted on features {names}, this code uses "
                             f"{FEATURES}; re-fit with `python -m evals.calibrate abstention`")
        trees = tuple(tuple((int(n[0]), float(n[1]), int(n[2]), int(n[3]), float(n[4]))
                            for n in tree) for tree in d.get("trees") or ())
        return cls(tuple(float(w) for w in d.get("weights") or ()), float(d["bias"]),
                   float(d["threshold"]), names, trees)

    def as_dict(self, **extra: object) -> dict[str, object]:
        body: dict[str, object] = {"trees": [[list(n) for n in t] for t in self.trees]} \
            if self.trees else {"weights": list(self.weights)}
        return {"features": self.features, "bias": self.bias, "threshold": self.threshold,
                **body, **extra}

    def raw(self, x: Sequence[float]) -> float:
        """The score before the sigmoid, for a feature vector in `features` order."""
        if self.trees:
            return self.bias + sum(_tree_value(t, x) for t in self.trees)
        return self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))

    def probability(self, x: Sequence[float]) -> float:
        """The answerability score in [0, 1] of a feature vector in `features` order."""
        z = self.raw(x)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def score(self, f: Features) -> float:
        return self.probability(f.vector(self.features))
