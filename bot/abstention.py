"""Calibrated abstention: does the guide text actually answer *this* question?

Topic similarity alone cannot tell "what does offshore support cost?" (answered) from "what
does offshore support cost in Vietnam?" (not answered): both retrieve the same passages. Most
questions the guides don't answer are on-topic and ask for one specific they lack - a
country, a law, a vendor's figure, a metric. So the decision checks the question's specific
asks against the retrieved units (sentences, list items, table rows):

- `req_cov`: are the names, acronyms and years the question mentions, and the thing a figure
  is asked about ("revenue", "employees", "attrition rate"), found *together* in one unit
  (with its neighbours in the same paragraph, its heading or label)? "Teleperformance" and
  "revenue" both occur in the guides, but never in the same bullet;
- `req_fig`: when a figure is asked ("how much", "how many", "how long", "what rate"), does
  such a unit give a figure of that kind (money, count, percent, duration, year)? A price
  asked *per* something ("per call", "per hire") must be given per that thing somewhere in
  the passages ("$0.50-$2.00 per invoice" does not price a call);
- `unknown_names`: names the corpus never uses at all (Vietnam, PIPEDA, 2030);
- `unit_sim`: best similarity of the question to a unit (low for off-topic questions);
- `key_cov`: how much of the question's wording (rarer words weigh more) one unit covers;
- `domain`: how specific to the guides' subject the question's most specific word is (how
  much more often the guides use it than English at large does): "vendor", "offshore",
  "KPO" score high; a recipe or a football question has no such word.

A logistic model over these features gives an answerability score in [0, 1]; the bot refuses
below a threshold. Weights and threshold are fitted on the labelled dev set
(`bpo-kb eval evals/datasets/dev.jsonl --fit-abstention`), the threshold being the highest
that refuses at most 3% of its answerable items, and stored in `bot/abstention.json`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest import LexicalIndex
from ingest.text import STOPWORDS, normalize, stem, stems, words

from .lexicon import asked_figures, concept, concepts, figure_kinds
from .query import without_situation
from .ranking import Candidate
from .retrieval import Hit

__all__ = ["FEATURES", "AbstentionModel", "Features", "features"]

MODEL_PATH = Path(__file__).with_name("abstention.json")

FEATURES = ("req_cov", "req_fig", "unknown_names", "unit_sim", "key_cov", "domain")
COMMON = 0.3
PART_OF: dict[str, tuple[str, ...]] = {"ap": ("f&a",), "ar": ("f&a",), "fp&a": ("f&a",)}
"""Sub-functions and the function the guides price or describe them under (accounts payable
is finance & accounting work): a unit about the function covers a question's sub-function.
Trade vocabulary, like `ACRONYMS`."""
"""Words in this share of passages or more are never key words."""


@dataclass(frozen=True)
class Features:
    """Answerability signals of one question against its retrieved passages."""

    req_cov: float
    """Share of the question's required terms - names, acronyms, years and named figures it
    mentions, and the thing a figure is asked about (revenue, employees, attrition rate...) -
    found together in one unit (sentence, list item or table row) with its neighbours in the
    same paragraph, its heading or label (1 when it requires none)."""
    req_fig: float
    """1 when the question asks for no figure, or a unit holding all its required terms gives
    a figure of the asked kind (money, count, percent, duration, year, any number)."""
    unknown_names: float
    """Capitalised words, acronyms and years of the question the corpus never uses."""
    unit_sim: float
    """Best cosine similarity of the question to a unit (low for off-topic questions)."""
    key_cov: float
    """Best share of the question's words (weighted by rarity squared) in one unit."""
    domain: float = 0.0
    """log10 of the largest ratio, over the (standalone) question's words, of the share of
    passages using the word to its frequency in English (Zipf scale, 4 = 10 per million
    words): how specific to the guides' subject the question's most specific word is."""
    missing: tuple[str, ...] = ()
    """The question's words the corpus does not know (for explanations)."""

    def vector(self) -> list[float]:
        return [float(getattr(self, f)) for f in FEATURES]


_NAME = re.compile(r"\b(?:[A-Z][a-zA-Z]+|[A-Z]{2,}[a-z]?s?|\d[\d,.]*)\b")
_NAME_ONLY = re.compile(r"\b(?:[A-Z][a-z]+[A-Z]?\w*|[A-Z]{2,}s?)\b")
_IGNORE_NAMES = {"i", "what", "how", "is", "are", "can", "does", "do", "which", "who", "why",
                 "when", "where", "should", "tell", "give", "list", "explain", "and", "the", "a",
                 "my", "we", "our", "ok", "okay", "so", "hi", "hello", "please", "thanks", "any",
                 "if", "for", "in", "on", "with", "as", "whats", "what's", "us", "it", "its"}


DOMAIN_FLOOR = 1e-4
"""`domain` of a question without a single word the guides use (log10 -> -4)."""


def domain_specificity(text: str, lexical: LexicalIndex) -> float:
    """log10 of max over the words of `text` of df_ratio(word) / 10^(zipf(word) - 4): a word
    the guides use in 20% of passages but English uses 3 times per million (zipf 3.5) scores
    0.2 / 10^-0.5 = 0.63; "good" (zipf 6, in 4% of passages) scores 0.0004."""
    from wordfreq import zipf_frequency

    best = DOMAIN_FLOOR
    for w in words(text):
        if w in STOPWORDS:
            continue
        df = lexical.df_ratio(stem(w))
        if df > 0:
            best = max(best, df / 10 ** (zipf_frequency(w, "en") - 4))
    return math.log10(best)


def _unknown(question: str, lexical: LexicalIndex) -> tuple[list[str], list[str]]:
    names: list[str] = []
    for m in _NAME.finditer(question):
        w = m.group(0)
        low = w.lower()
        if low in _IGNORE_NAMES or low in STOPWORDS:
            continue
        if m.start() == 0 and not w.isupper():
            continue  # a capital at the start of the question is just the first word
        keys = {stem(low), stem(low.rstrip("s")), low.replace(",", "")}
        if not any(lexical.knows(k) for k in keys):
            names.append(w)
    lowered = {n.lower() for n in names}
    plain = [w for w in words(question) if w not in STOPWORDS and len(w) > 2
             and not w[0].isdigit() and w not in lowered and not lexical.knows(stem(w))]
    return names, plain


_ASK_NOUN = re.compile(
    r"\bhow many\s+(?:\w+\s+){0,2}?(?P<a>\w+)\b|\bnumber of\s+(?P<c>\w+)\b|"
    r"\b(?P<b>revenues?|employees|workforce|headcount|salar(?:y|ies)|fines?|penalt(?:y|ies)|"
    r"costs?|prices?|fees?|market size|founded|license|licen[cs]es?)\b", re.I)


_YEAR = re.compile(r"^(?:19|20)\d{2}$")


def _required(question: str, lexical: LexicalIndex, *, names_only: bool = False
              ) -> list[frozenset[str]]:
    """What an answer must mention, each as a set of alternatives: the names and acronyms in
    the question (an acronym is also satisfied by its expansion), years, a number that is part
    of a name ("ISO 27001", "SOC 2"), and what a figure is asked about. Words found in most
    passages (BPO, outsourcing...) are not required."""
    from .query import ACRONYMS

    req: list[frozenset[str]] = []
    tokens = list(_NAME.finditer(question))
    for i, m in enumerate(tokens):
        w = m.group(0)
        low = w.lower()
        if low in _IGNORE_NAMES or low in STOPWORDS or (m.start() == 0 and not w.isupper()):
            continue
        if w[0].isdigit():
            prev = tokens[i - 1].group(0) if i else ""
            joined = i and question[tokens[i - 1].end():m.start()].strip() == ""
            if not (_YEAR.match(w) or (joined and prev[:1].isupper() and not prev[0].isdigit())):
                continue  # "a 10 person startup", "24/7": the asker's situation, not a name
        alts = {concept(t) for t in stems(low)}
        if not alts or all(lexical.df_ratio(t) >= COMMON for t in alts):
            continue
        expansion = ACRONYMS.get(low) or ACRONYMS.get(low.rstrip("s"))
        if expansion:
            alts.add(" ".join(stems(expansion)))
        for broader in PART_OF.get(low, ()):  # a figure for F&A work covers AP work
            alts.update({broader, " ".join(stems(ACRONYMS.get(broader, broader)))})
        req.append(frozenset(alts))
    if names_only:
        return list(dict.fromkeys(req))
    for m in _ASK_NOUN.finditer(question):
        noun = m.group("a") or m.group("b") or m.group("c")
        for t in stems(noun):
            if lexical.df_ratio(t) < COMMON or concept(t) != t:
                req.append(frozenset({concept(t)}))
    for m in _WHICH.finditer(question):  # "which Indian cities", "what countries"
        for t in stems(m.group("noun")):
            if lexical.df_ratio(t) < COMMON:
                req.append(frozenset({concept(t)}))
    for m in _COMPOUND.finditer(question):  # "attrition rate", "handle time", "NPS score"
        mod = m.group("mod").lower()
        if mod in _GENERIC_MODIFIERS or mod in STOPWORDS or mod.rstrip("s") in _ROLES:
            continue
        for t in stems(mod):
            if lexical.df_ratio(t) < COMMON:
                req.append(frozenset({concept(t)}))
    return list(dict.fromkeys(req))


_WHICH = re.compile(r"\b(?:which|what)\s+(?:[A-Za-z-]+\s+)?(?P<noun>cities|countries|companies|"
                    r"vendors|providers|tools|platforms|laws|standards|certifications|hubs|"
                    r"languages|industries|banks|regions|states|firms)\b", re.I)
_COMPOUND = re.compile(r"\b(?P<mod>[A-Za-z][\w-]+)\s+(?:rates?|fees?|scores?|times?|ratios?|"
                       r"levels?|penalt(?:y|ies)|fines?|salar(?:y|ies)|costs?)\b", re.I)
_GENERIC_MODIFIERS = {"average", "typical", "good", "hourly", "monthly", "annual", "yearly",
                      "total", "going", "usual", "normal", "maximum", "minimum", "best", "the",
                      "what", "acceptable", "target", "standard", "market", "current", "real",
                      "overall", "low", "high", "lower", "higher", "hidden", "setup", "fixed",
                      "variable", "per", "same", "right", "fair", "reasonable", "ballpark"}


_ROLES = {"analyst", "agent", "specialist", "developer", "assistant", "accountant", "employee",
          "worker", "representative", "rep", "engineer", "operator", "staff", "fte", "seat"}
"""People a price is for ("KPO analyst cost", "agent salary"): the priced unit, which the
per-unit check (`_asked_rate`) covers, not a specific the guides must name."""


_PER = re.compile(r"\bper\s+((?:[a-z][\w-]*\s+){0,1}[a-z][\w-]*)", re.I)
_PRICE_PER = re.compile(
    r"[$\u20ac\u00a3]\s?\d[\d.,]*(?:\s?(?:[kmb]n?|million|billion)\b)?"
    r"(?:\s?(?:-|to)\s?[$\u20ac\u00a3]?\s?\d[\d.,]*(?:\s?(?:[kmb]n?|million|billion)\b)?)?"
    r"\s*(?:/|per\s|an?\s|each\s)\s*((?:[a-z][\w-]*\s+){0,1}[a-z][\w-]*)", re.I)


def _asked_rate(question: str) -> frozenset[str]:
    """The unit a price is asked per ("per inbound call" -> {inbound, call}), if any."""
    m = _PER.search(question)
    return frozenset(t for t in stems(m.group(1)) if t not in STOPWORDS) if m else frozenset()


def _rate_given(text: str, rate: frozenset[str]) -> bool:
    """Does the text price something per that unit ("$0.50-$2.00 per invoice", "$8-15/hour")?
    A price per invoice does not answer a question about the price per call."""
    return any(rate & set(stems(m.group(1))) for m in _PRICE_PER.finditer(normalize(text)))


def _found(alternatives: frozenset[str], bag: frozenset[str]) -> bool:
    """Is one alternative in the bag (a multi-word expansion needs all of its stems)?"""
    for alt in alternatives:
        parts = alt.split(" ")
        if all(p in bag for p in parts):
            return True
    return False


def _same_line(a: Candidate, b: Candidate) -> bool:
    text = a.unit.chunk.text
    lo, hi = sorted((a.unit.end, b.unit.start)) if a.unit.start < b.unit.start else \
        sorted((b.unit.end, a.unit.start))
    return "\n" not in text[lo:hi]


def features(question: str, query: str, hits: Sequence[Hit], ranked: Sequence[Candidate],
             lexical: LexicalIndex, idf: Callable[[str], float],
             earlier: Sequence[str] = ()) -> Features:
    """Answerability features for a question, its retrieved passages and ranked units.

    `earlier`: the earlier user turns of a follow-up; when the question names nothing itself
    ("what are the penalties under that law?"), the names of the last turn are required."""
    q = normalize(question)
    asked = without_situation(q)  # where the asker is need not be in the guides
    names, plain = _unknown(asked, lexical)
    own = set(stems(q))
    weights: dict[str, float] = {}
    for t in stems(query):
        if t in weights:
            continue
        w = idf(t) ** 2
        weights[t] = w if t in own else 0.5 * w
    total = sum(weights.values()) or 1.0
    by_pos = {(c.unit.chunk.chunk_id, c.unit.position): c for c in ranked}
    figures = asked_figures(q)

    def bag(c: Candidate) -> frozenset[str]:
        return concepts(c.unit.stems | c.unit.label_stems)

    required = _required(asked, lexical)
    if earlier and not _NAME_ONLY.search(asked[1:]):
        required += [r for r in _required(normalize(earlier[-1]), lexical, names_only=True)
                     if r not in required]
    best_cov = best_req = 0.0
    rows: list[tuple[float, str]] = []
    for c in ranked:
        b1 = bag(c)
        around = [n for d in (-1, 1)
                  if (n := by_pos.get((c.unit.chunk.chunk_id, c.unit.position + d))) is not None
                  and _same_line(c, n)]  # neighbours in the same paragraph, bullet or row
        b2 = b1.union(*(bag(n) for n in around))
        best_cov = max(best_cov, sum(w for t, w in weights.items()
                                     if t in b1 or concept(t) in b1) / total)
        r = (sum(1 for alts in required if _found(alts, b2)) / len(required)) if required \
            else 1.0
        best_req = max(best_req, r)
        rows.append((r, c.unit.text + " " + " ".join(n.unit.text for n in around)))
    req_fig = 1.0
    if figures:
        req_fig = 0.0
        for i, (r, text) in enumerate(rows):
            holds = r >= 1.0 - 1e-9 if required else i < 8  # else: among the best units
            if holds and figure_kinds(text) & figures:
                req_fig = 1.0
                break
        rate = _asked_rate(q) if "money" in figures else frozenset()
        if rate and not any(_rate_given(text, rate) for _, text in rows):
            req_fig = 0.0  # a price is asked per call; the passages price per hour, per invoice
    unit_sim = max((c.features[0] for c in ranked), default=0.0)
    return Features(req_cov=best_req, req_fig=req_fig, unknown_names=float(len(names)),
                    unit_sim=unit_sim, key_cov=best_cov,
                    domain=domain_specificity(query, lexical), missing=tuple(names + plain))


@dataclass(frozen=True)
class AbstentionModel:
    """Logistic answerability model: score = sigmoid(w . x + b); refuse below `threshold`."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def default(cls) -> AbstentionModel:
        if MODEL_PATH.exists():
            return cls.load(MODEL_PATH)
        # hand-set starting point, used until a model is fitted on the dev set
        hand = {"req_cov": 4.0, "req_fig": 2.0, "unknown_names": -3.0, "unit_sim": 5.0,
                "key_cov": 2.0, "domain": 1.0}
        return cls(weights=tuple(hand.get(f, 0.0) for f in FEATURES), bias=-4.0, threshold=0.5)

    @classmethod
    def load(cls, path: Path) -> AbstentionModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, "
                             f"this code uses {FEATURES}; re-fit with --fit-abstention")
        return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]))

    def save(self, path: Path, **extra: object) -> None:
        path.write_text(json.dumps({"features": FEATURES, "weights": list(self.weights),
                                    "bias": self.bias, "threshold": self.threshold, **extra},
                                   indent=1) + "\n", encoding="utf-8")

    def score(self, f: Features) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, f.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
