"""The question, parsed once: a frozen `Question` that every later stage reads.

`Reader.read(asked, history)` turns what the user typed into:

1. `text`: chat short forms read as words ("ppl" -> people, `bot/data/english.toml`),
   misspelt words corrected against the index's own words (`bot.spelling`), and a
   follow-up made standalone with the conversation (`bot.followup`);
2. `query`: what is searched - `text` without phrases about how to answer ("in plain
   English"), plus the other form of each acronym (`bot.vocab`); shown as
   `retrieval_query`;
3. the shape of the answer it wants - general English question forms, nothing about any
   corpus: a comparison ("X vs Y", "difference between X and Y", "is X the same as Y"), a
   list ("what are the risks...", "list/give me...", "steps", "walk me through", "how do
   I ..."), a definition ("what is X", "define X", "what does X mean"), a figure
   (`bot.figures.asked_kinds`), a yes/no question, or other;
4. `terms`: its content stems, rarer ones weighing more (expansions half).

Nothing after this module parses the question again.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest.text import STOPWORDS, normalize, stem, stems, words

from .figures import asked_kinds
from .followup import Turn, resolve
from .spelling import Speller
from .vocab import Vocabulary

__all__ = ["COMMON_DF", "ENGLISH_PATH", "SHAPES", "English", "Question", "Reader", "dense_text",
           "situation_of"]

ENGLISH_PATH = Path(__file__).with_name("data") / "english.toml"
SHAPES = ("comparison", "list", "definition", "other")
"""The answer strategies a question's form picks (bot/compose). A figure asked for is
`Question.figures`, whatever the shape; "figure" and "yes/no" shapes were labels no strategy
read (the ablation's no_figure_shape / no_yesno_shape rows changed no answer) and are gone."""
MAX_SIDE_WORDS = 8
MAX_SUBJECT_WORDS = 6


@dataclass(frozen=True)
class Question:
    """One question, parsed (see the module docstring)."""

    asked: str
    """The question as typed (control characters and markup removed)."""
    text: str
    """What is answered: short forms read, typos corrected, standalone."""
    query: str
    """What is searched (`text` without how-to-answer phrases, plus acronym expansions)."""
    dense: str = ""
    """What the embedder reads of `query`: without the words nearly every passage uses
    (`dense_text`); empty when the reader has no index to tell."""
    content: str = ""
    """`text` without the phrases about how to answer ("in plain English", "briefly"): what
    an answer must be about."""
    asks: str = ""
    """`content` without the asker's own situation ("we're a telco, ..."; `situation_of`):
    what the documents must hold for it to be answered."""
    shape: str = "other"
    """comparison, list, definition or other (`SHAPES`)."""
    figures: frozenset[str] = frozenset()
    """Kinds of figure asked for (`bot.figures`)."""
    subject: str = ""
    """For a definition: the thing to define, as written ("business process outsourcing")."""
    sides: tuple[str, ...] = ()
    """For a comparison: the things compared, as written (("BPO", "BPM"))."""
    corrections: tuple[tuple[str, str], ...] = ()
    """(typed, corrected) words."""
    follow_up: bool = False
    previous: str = ""
    """For a follow-up: the (standalone) earlier question it leans on."""
    terms: Mapping[str, float] = field(default_factory=dict, compare=False)
    """Content stems of the query -> weight (idf; expansions and the earlier question's
    words at half weight)."""
    own: frozenset[str] = frozenset()
    """Content stems of the question itself (not of expansions or earlier turns)."""

    @property
    def wants_list(self) -> bool:
        return self.shape == "list"

    def subject_stems(self) -> frozenset[str]:
        return frozenset(stems(self.subject))

    def side_stems(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(stems(s)) for s in self.sides)


@dataclass(frozen=True)
class English:
    """General English the reader needs (`bot/data/english.toml`)."""

    short_forms: Mapping[str, str]
    answer_style: tuple[str, ...]

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> English:
        data = tomllib.loads(ENGLISH_PATH.read_text(encoding="utf-8"))
        return cls({k.lower(): v for k, v in data.get("short_forms", {}).items()},
                   tuple(p.lower() for p in data.get("answer_style", {}).get("phrases", ())))

    def read_short_forms(self, text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            w = m.group(1)
            full = self.short_forms.get(w.lower())
            # the full word takes the place of the abbreviation's dot too ("vs." -> "versus")
            return full if full is not None else m.group(0)
        return re.sub(r"(?<![\w'])([A-Za-z][A-Za-z/]*)(?![\w'])(?:\.(?=\s+\w))?", repl, text)

    @property
    def _style(self) -> re.Pattern[str]:
        return _alternation(self.answer_style)

    def without_style(self, text: str) -> str:
        """`text` without phrases about how to answer ("in plain English")."""
        out = re.sub(r"\s+(?=[?!.,;:])", "", " ".join(self._style.sub(" ", text).split()))
        return out if re.search(r"\w", out) else text  # "what is BPO?", not "what is BPO ?"


@lru_cache(maxsize=8)
def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    if not phrases:
        return re.compile(r"(?!x)x")
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in sorted(phrases, key=len,
                                                                            reverse=True))
                      + r")\b", re.I)


# -- shapes: general English question forms ------------------------------------------------
_COMPARE = [
    re.compile(r"\bdifferen(?:ce|t|ces)\b.*?\bbetween\s+(?P<x>.+?)\s+(?:and|&|vs\.?|versus)\s+"
               r"(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"^(?:what(?:'s| is)\s+)?(?P<x>.+?)\s+(?:vs\.?|versus|compared (?:to|with)|or)\s+"
               r"(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bhow (?:is|are|does|do)\s+(?P<x>.+?)\s+(?:differ|different)\s+(?:from|to|than)"
               r"\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\b(?:is|are)\s+(?P<x>.+?)\s+(?:the same as|same thing as|different from|a type "
               r"of|a kind of|part of|like)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bcompare\s+(?P<x>.+?)\s+(?:and|with|to|vs\.?)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\b(?:is|are)\s+(?P<x>.+?)\s+and\s+(?P<y>.+?)\s+(?:interchangeable|the same"
               r"(?: thing)?|synonyms?|different|distinct|related)\b", re.I),
    re.compile(r"\b(?:choose|pick|prefer|go with|use|select|favou?r)\s+(?P<x>.+?)\s+"
               r"(?:over|rather than|instead of)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bhow (?:does|do|is|are|would|will)\s+(?P<x>.+?)\s+(?:compare|stack up|measure "
               r"up)\s+(?:to|with|against)\s+(?P<y>.+?)[?.!]*$", re.I),
]
_CLAUSE = re.compile(r"\s*[,;:]\s*|\s+[-\u2013\u2014]\s+|(?<=\w)[.?!]\s+")
_SIDE_LEAD = re.compile(r"^(?:with\s+|for\s+)?(?:(?:hiring|using|choosing|picking|getting|going with|working with|"
                        r"signing (?:up )?with|outsourcing to|partnering with|engaging|buying)\s+)?"
                        r"(?:(?:a|an|the|our own|your own|my own)\s+)?", re.I)
_SIDE_TAIL = re.compile(r"(?<=\w)\s+(?:ones?|options?)\s*$", re.I)
_DEFINE = re.compile(
    r"^\s*(?:so\s+|and\s+|ok(?:ay)?,?\s+)?(?:what(?:'s| is| are| does)|define|meaning of|explain|"
    r"who (?:is|are))\b(?:\s+(?:a|an|the))?\s*(?P<x>.+?)(?:\s+(?:stand for|mean|means|refer to|"
    r"exactly|actually|really))?\s*[?.!]*$", re.I)
_DEFINITION_OF = re.compile(r"\b(?:definition of|define|meaning of)\s+(?:a |an |the )?"
                            r"(?P<x>[\w&/ -]{2,60}?)(?:\s+(?:for|to|in|so|that)\b|[?.!,]|$)", re.I)
_SUBJECT_FILLER = re.compile(r"\b(?:exactly|actually|really|basically|precisely)\b|"
                             r"\s(?:for|so|that|because)\s.*$|,.*$", re.I)
_PLURAL = (r"(?!(?:does|was|has|goes|means|makes|takes|gives|works|is)\b)"
           r"[a-z][a-z-]{2,}(?<![su])s\b")
_LIST = re.compile(
    r"^\s*(?:(?:so|and|ok(?:ay)?),?\s+)?(?:"
    r"(?:what|which)\s+(?:are|were)\s+(?:the\s+|some\s+|its\s+|their\s+|your\s+)?"
    r"(?:[\w-]+\s+){0,3}?" + _PLURAL +
    r"|(?:what|which)\s+(?:[\w-]+\s+){0,2}?" + _PLURAL + r"|(?:list|name|give me|tell me|show me|what are)\s+(?:[\w-]+\s+){0,5}?" + _PLURAL +
    r"|what\s+(?:do|does|should|can)\s+(?:\w+\s+){1,4}(?:include|involve|cover|look for|check)"
    r")", re.I)
_STEPS = re.compile(r"\bsteps?\b|\bstep[- ]by[- ]step\b|\bwalk (?:me|us) through\b|"
                    r"\bchecklist\b|\bstages\b|\bphases\b|\bhow (?:does|do) (?:\w+\s+){1,4}work\b|"
                    r"^\s*(?:so\s+|and\s+)?how (?:do|should|can|would) (?:i|we|you|one) "
                    r"(?!\w+ (?:much|many|long)\b)", re.I)

def _side_text(text: str) -> str:
    return _SIDE_TAIL.sub("", _SIDE_LEAD.sub("", text.strip())).strip(" ?.!")


def _comparison(q: str) -> tuple[str, str] | None:
    for pat in _COMPARE:
        m = pat.search(q)
        if not m:
            continue
        # "With a VA vs a BPO, who manages the work?": the sides end at the clause
        x = _side_text(_CLAUSE.split(m.group("x"))[-1])
        y = _side_text(_CLAUSE.split(m.group("y"))[0])
        sx, sy = set(stems(x)), set(stems(y))
        if sx and sy and sx != sy and len(x.split()) <= MAX_SIDE_WORDS \
                and len(y.split()) <= MAX_SIDE_WORDS:
            return x, y
    return None


_SPECIFIC = re.compile(r"^\s*(?:what(?:'s| is| are)|who (?:is|are))\s+the\s+", re.I)
_PREPOSITION = re.compile(r"\s(?:in|of|for|at|on|under|within|from|by|with|to)\s", re.I)


def _definition(q: str) -> str:
    """The subject of "what is X?" / "define X" / "a definition of X": a short noun phrase.
    "What is the refund window in our policy?" and "who is the CEO of X?" ask for a fact
    (an article "the", a phrase with a preposition), not a definition."""
    content = [w for w in words(q) if w not in STOPWORDS]
    m = _DEFINITION_OF.search(q)
    if m is None:
        m = _DEFINE.match(q)
        if m is None or len(content) > MAX_SUBJECT_WORDS or _SPECIFIC.match(q):
            return ""
    subject = " ".join(_SUBJECT_FILLER.sub(" ", m.group("x")).split()).strip(" ?.!")
    if _PREPOSITION.search(f" {subject} "):
        return ""
    return subject if stems(subject) else ""


def shape_of(text: str, english: English | None = None) -> tuple[str, tuple[str, ...], str]:
    """(shape, comparison sides, definition subject) of a standalone question (phrases about
    how to answer left out)."""
    q = (english or English.default()).without_style(normalize(text))
    sides = _comparison(q)
    if sides:
        return "comparison", sides, ""
    figures = asked_kinds(q)
    if re.search(r"\b(?:stand|stands) for\b|\bwhat does\s+\S+\s+mean\b", q, re.I):
        subject = _definition(re.sub(r"\s+(?:stands? for|mean)\b.*$", " stand for?", q,
                                     flags=re.I))
        if subject:
            return "definition", (), subject
    acronyms = re.match(r"^\s*(?i:what are)\s+([A-Z][A-Za-z&]*[A-Z]s)\s*[?.!]*$", q)
    if (_LIST.search(q) or _STEPS.search(q)) and not (figures - {"number"}) and not acronyms:
        return "list", (), ""
    subject = acronyms.group(1) if acronyms else _definition(q) if not figures else ""
    if subject:
        return "definition", (), subject
    return "other", (), ""


COMMON_DF = 0.45
"""Words in at least this share of chunks (in the guides: BPO, outsourcing, business,
process) say nothing about which passage answers; the dense query leaves them out."""
WINDOW_WORDS = 150
"""A question longer than this many words may not fit an embedder's window (the bundled
MiniLM reads 256 word-pieces, about 190 words): only its asked part is searched for."""
MIN_SPECIFIC = 2
"""`dense_text` keeps the common words of a query with fewer specific words than this.
1 (the old rule), 2 and 3 were measured on dev, check and blind..blind6 (BENCHMARKS.md, fifth
pass): 2 raised fact or cite on three sets and lowered one set's fact by 0.003; 3 was worse
than 1 on five sets."""


def dense_text(query: str, df_ratio: Callable[[str], float]) -> str:
    """The query as the embedder should see it: without the words every passage shares (in
    a corpus about one subject every passage is "about" it, and those words swamp the
    vector); the whole query when fewer than `MIN_SPECIFIC` specific words are left (one
    word is no question: "what should a business never outsource?" is not "what should a
    never")."""
    kept: list[str] = []
    specific = 0
    for tok in re.findall(r"\S+", query):
        core = [w for w in words(tok) if w not in STOPWORDS]
        if core and all(df_ratio(stem(w)) >= COMMON_DF for w in core):
            continue
        kept.append(tok)
        specific += len(core)
    return " ".join(kept) if specific >= MIN_SPECIFIC else query


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END = re.compile(r"\s*[,;:]\s+|\s+[-\u2013\u2014]+\s+")
_FIRST_PERSON = re.compile(r"^\W*(?:(?:and|so|but|also|well|ok(?:ay)?)\W+)?(?:i|i'm|i've|i'd|"
                           r"we|we're|we've|we'd|our|my|us|me)\b", re.I)
_ASKING = re.compile(r"\?|\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)


def situation_of(text: str) -> tuple[str, str]:
    """(the asker's situation, what is asked): the sentences and clauses in which the asker
    talks about themselves ("We're in Germany.", "we run a group of clinics,", "i need it
    for a pitch") without asking anything, apart from the rest. Users say where they stand
    before or after the question; a place or a trade they name there is not something the
    documents must hold. A clause that asks nothing and goes on a sentence the asker began
    about themselves is theirs too ("Our team handles 4,000 tickets a month across email,
    chat and phone, with peaks in the holidays."). A question that is all situation is all
    asked."""
    pieces = [(i, p) for i, sentence in enumerate(_SENTENCE_END.split(text))
              for p in _CLAUSE_END.split(sentence) if p and p.strip()]
    parts = [p for _, p in pieces]
    own: list[bool] = []
    theirs = False  # the sentence so far is the asker's own account
    for k, (i, p) in enumerate(pieces):
        if k and pieces[k - 1][0] != i:
            theirs = False  # a new sentence
        # the reader ends every question with "?": the last part's own "?" says nothing
        asking = bool(_ASKING.search(p.rstrip("?") if k == len(pieces) - 1 else p))
        theirs = not asking and (theirs or bool(_FIRST_PERSON.match(p)))
        own.append(theirs)
    if not any(own) or all(own):
        return "", text
    return (" ".join(p for p, o in zip(parts, own, strict=True) if o),
            " ".join(p for p, o in zip(parts, own, strict=True) if not o))


_PLURAL_ACRONYM = re.compile(r"\b([A-Z][A-Z&]*[A-Z])s\b")


class Reader:
    """Reads questions against one index: its words, its vocabulary, its idf."""

    def __init__(self, vocab: Vocabulary, speller: Speller | None,
                 idf: Callable[[str], float],
                 similarity: Callable[[str, list[str]], list[float]] | None = None,
                 english: English | None = None, *, shapes: bool = True,
                 df_ratio: Callable[[str], float] | None = None) -> None:
        self.vocab = vocab
        self.df_ratio = df_ratio
        """Share of the index's passages using a stem (for `Question.dense`)."""
        self.speller = speller
        self.idf = idf
        self.similarity = similarity
        self.english = english or English.default()
        self.shapes = shapes
        """False: every question has shape "other" (the ablation's "no question-shape
        rules")."""

    def read(self, asked: str, history: Sequence[Turn] = ()) -> Question:
        # the end punctuation never moves anything: every question ends with one "?"
        text = re.sub(r"[\s?!.]+$", "", self._read(asked)) + "?"
        corrections: tuple[tuple[str, str], ...] = ()
        if self.speller is not None:
            text, corrections = self.speller.correct(text)
        turns = [Turn(t.role, self._prepare(t.content) if t.role == "user" else t.content)
                 for t in history]
        r = resolve(text, turns, self.similarity)
        standalone = r.text
        shape, sides, subject = shape_of(standalone, self.english) if self.shapes else ("other", (), "")
        figures = asked_kinds(r.asked or standalone)
        content = self.english.without_style(standalone)
        query = self._query(content)
        own = frozenset(stems(self.english.without_style(text)))
        situation, asks = situation_of(content)
        if situation and len(query.split()) > WINDOW_WORDS:
            # a page of the asker's own account around one question: the search reads the
            # question (an embedder reads a few hundred word-pieces, the bundled one 256,
            # and the account's repeated words would outweigh the question's in BM25)
            query = self._query(asks)
        dense = dense_text(query, self.df_ratio) if self.df_ratio is not None else ""
        return Question(asked=asked, text=standalone, query=query, dense=dense, content=content,
                        asks=asks, shape=shape, figures=figures, subject=subject, sides=sides,
                        corrections=corrections, follow_up=r.follow_up, previous=r.previous,
                        terms=self._terms(query, own), own=own)

    def _read(self, text: str) -> str:
        """`text` with its short forms read ("pls" -> "please") and the plural of an acronym
        the documents never write in the plural read as the acronym ("freelance VAs" ->
        "freelance VA": the documents write "VA", and "VAs" would be a word they never use)."""
        def singular(m: re.Match[str]) -> str:
            plural, short = m.group(0), m.group(1)
            if not self.vocab.expansion(short) or self.df_ratio is None or \
                    self.df_ratio(stem(plural.lower())) > 0:
                return plural
            return short

        return _PLURAL_ACRONYM.sub(singular, self.english.read_short_forms(normalize(text)))

    def _prepare(self, text: str) -> str:
        out = self._read(text)
        return self.speller.correct(out)[0] if self.speller is not None else out

    def _query(self, content: str) -> str:
        """What is searched for `content` (the question without how-to-answer phrases)."""
        core = re.sub(r"^\s*(?:define|explain)\s+(?=\S)", "", content, flags=re.I)
        extra = self.vocab.expansions_in(core)
        return core if not extra else f"{core} ({'; '.join(extra)})"

    def _terms(self, query: str, own: frozenset[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in stems(query):
            w = self.idf(s) * (1.0 if s in own else 0.5)
            out[s] = max(out.get(s, 0.0), w)
        return out
