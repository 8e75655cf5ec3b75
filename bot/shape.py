"""What kind of answer a question wants: a definition, a comparison, a list, a figure..."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.text import STOPWORDS, normalize, stem, stems, words

__all__ = ["Shape", "question_shape", "side_stems"]

_COMPARE = [
    re.compile(r"\bdifferen(?:ce|t|ces)\b.*?\bbetween\s+(?P<x>.+?)\s+(?:and|&|vs\.?|versus)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"^(?:what(?:'s| is)\s+)?(?P<x>.+?)\s+(?:vs\.?|versus|compared (?:to|with)|or)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bhow (?:is|are|does|do)\s+(?P<x>.+?)\s+(?:differ|different)\s+(?:from|to|than)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\b(?:is|are)\s+(?P<x>.+?)\s+(?:the same as|same thing as|different from|a type of|a kind of|part of|like)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bcompare\s+(?P<x>.+?)\s+(?:and|with|to|vs\.?)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\b(?:is|are)\s+(?P<x>.+?)\s+and\s+(?P<y>.+?)\s+(?:interchangeable|the same(?: thing)?|"
               r"synonyms?|different|distinct|related)\b", re.I),
    re.compile(r"\b(?:choose|chose|pick|prefer|go with|use|select|favou?r)\s+(?P<x>.+?)\s+"
               r"(?:over|rather than|instead of)\s+(?P<y>.+?)[?.!]*$", re.I),
    re.compile(r"\bhow (?:does|do|is|are|would|will)\s+(?P<x>.+?)\s+(?:compare|stack up|measure up)"
               r"\s+(?:to|with|against)\s+(?P<y>.+?)[?.!]*$", re.I),
]
_SIDE_LEAD = re.compile(r"^(?:(?:hiring|using|choosing|picking|getting|going with|working with|"
                        r"signing (?:up )?with|outsourcing to|partnering with|engaging|buying)\s+)?"
                        r"(?:(?:a|an|the|our own|your own|my own)\s+)?", re.I)
_SIDE_TAIL = re.compile(r"(?<=\w)\s+(?:providers?|ones?|options?|firms?|compan(?:y|ies)|vendors?|"
                        r"partners?|teams?)\s*$", re.I)
"""How a side is approached ("hiring a virtual assistant", "using a BPO") and what kind of
thing it is ("nearshore providers", "offshore ones") are not the side: the guides label
their rows "Virtual assistant", "BPO", "Nearshore"."""


def _side_text(text: str) -> str:
    return _SIDE_TAIL.sub("", _SIDE_LEAD.sub("", text.strip())).strip()
_CLAUSE = re.compile(r"\s*[,;:]\s*|\s+[-\u2013\u2014]\s+|(?<=\w)[.?!]\s+")
_DEFINE = re.compile(
    r"^\s*(?:so\s+|and\s+|ok(?:ay)?,?\s+)?(?:what(?:'s| is| are| does)|define|meaning of|explain|who (?:is|are))\b"
    r"(?:\s+(?:a|an|the))?\s*(?P<x>.+?)(?:\s+(?:stand for|mean|means|refer to|in simple terms|exactly|actually))?\s*[?.!]*$",
    re.I)
_LIST_NOUNS = (r"(?:types|kinds|categories|forms|flavou?rs|models|steps|stages|phases|benefits|"
               r"advantages|pros|cons|risks|challenges|disadvantages|drawbacks|examples|ways|"
               r"factors|criteria|options|services|functions|tasks|processes|tips|practices|"
               r"trends|metrics|kpis|hubs|destinations|countries|locations|providers|players|"
               r"vendors|companies|firms|standards|frameworks|signals|industries|sectors|"
               r"requirements|regulations|laws|concerns|certifications|pointers|mitigations|"
               r"drivers|reasons|questions|areas|things|elements|roles|personas|platforms|"
               r"tools|channels|segments|checks|obligations|safeguards)")
_LIST = re.compile(
    r"^\s*(?:(?:so|and|ok(?:ay)?),?\s+)?(?:"
    r"(?:what|which)\s+(?:are|were)\s+(?:the\s+|some\s+|its\s+|their\s+)?(?:\w+[\s-]+){0,3}?" + _LIST_NOUNS
    + r"|(?:what|which)\s+(?:\w+[\s-]+){0,2}?" + _LIST_NOUNS
    + r"|(?:list|name|give me|tell me|show me)\s+(?:\w+[\s-]+){0,5}?" + _LIST_NOUNS
    + r"|how many\s+" + _LIST_NOUNS + r"|what\s+(?:do|does|should|can)\s+(?:\w+\s+){1,4}(?:include|involve|cover))\b",
    re.I)
_NUMERIC = re.compile(
    r"\b(how much|how many|how big|how large|how long|how fast|how quickly|what percentage|"
    r"what share|what proportion|cost|costs|price|pricing|rate|rates|per hour|hourly|salary|"
    r"revenue|market size|size of|worth|valued|employees|workforce|headcount|percent|%|"
    r"benchmark|target|typical(?:ly)? (?:runs?|takes?|lasts?)|duration|months|years|fine|fines|"
    r"growth|cagr|share|number of)\b", re.I)
_DURATION = re.compile(r"\b(how long|duration|months|years|weeks|timeline|take to|time to)\b", re.I)
_DEFINITION_OF = re.compile(r"\b(?:definition of|define|meaning of)\s+(?:a |an |the )?(?P<x>[\w&/ -]{2,60}?)"
                            r"(?:\s+(?:for|to|in|so|that)\b|[?.!,]|$)", re.I)
_HOW_TO_CHOOSE = re.compile(r"^\s*(?:so\s+|and\s+)?how (?:do|should|can|would) (?:i|we|you|one) "
                            r"(?:choose|select|pick|evaluate|vet|find|compare|assess)\b", re.I)
_HOW_TO_TERMS = ("checklist", "choos", "criteria", "factor", "practic", "select", "step", "tip")
_WHO_IS_INVOLVED = re.compile(r"^\s*(?:so\s+|and\s+)?who (?:usually |typically |normally |should )?"
                              r"(?:sits?|is|are|gets?|decides?|signs?|needs? to be|should be)\b"
                              r".*\b(?:committee|decision|involved|buying|sign-?off|deal)\b", re.I)
_STEP_BY_STEP = re.compile(r"\bstep[- ]by[- ]step\b|\bwalk me through\b|\bwhat (?:are )?the "
                           r"(?:steps|stages|phases)\b", re.I)
_WHO_TERMS = ("committe", "decid", "persona", "role", "stakehold")
_YESNO = re.compile(r"^\s*(is|are|can|could|does|do|should|would|will|has|have|was|were)\b", re.I)
_SUBJECT_FILLER = re.compile(r"\b(?:exactly|actually|really|basically|precisely)\b|"
                             r"\s(?:for|so|that|because)\s.*$|,.*$", re.I)
_DEFINING_VERB = re.compile(r"\s+(?:is|are|means|refers? to|stands? for|describes?|denotes?|"
                            r"involves?)\s|\s*(?:\u2014|:|\s-)\s", re.I)
_HEAD_EXTRAS = frozenset({"term", "simpli", "simpl", "put", "short", "essenti", "basic",
                          "definit", "word", "acronym", "abbrevi", "label"})
"""Words a definition's head may carry besides the defined term ("Simply put, BPO is...")."""
_MAX_HEAD_WORDS = 10
_MIN_DEFINITION_STEMS = 3
"""A definition says at least this many things (content stems) besides the term itself."""


@dataclass(frozen=True)
class Shape:
    """The answer shape a question asks for."""

    kind: str
    """definition, comparison, list, numeric, yesno or other."""
    sides: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    """For comparisons: the content stems of each side (X, Y)."""
    subject: tuple[str, ...] = ()
    """For definitions: the content stems of the thing to define."""
    wants_number: bool = False
    wants_duration: bool = False
    list_terms: tuple[str, ...] = ()
    """For list questions: stems of the thing listed and its synonyms ("risk", "challeng"...)."""
    subject_text: str = ""
    """For definitions: the thing to define as written, without filler ("business process
    outsourcing" in "I need a one-line definition of business process outsourcing for...")."""

    def sides_labelled(self, labels: list[str]) -> float:
        """For a comparison: the share of its sides that label a row, item or heading among
        `labels` (a table with a "Virtual assistant" row and a "BPO" row answers "VA vs
        BPO?" side by side)."""
        if self.kind != "comparison" or not self.sides:
            return 0.0
        bags = [frozenset(side_stems(lab)) for lab in labels if lab]
        return sum(1.0 for side in self.sides
                   if any(set(side) <= b for b in bags)) / len(self.sides)

    def defined_by(self, text: str, label: str = "") -> bool:
        """Does `text` define this definition question's subject: open with the subject (or
        its acronym/expansion) and a defining verb ("Business process outsourcing (BPO) is
        ...", "BPO means ..."), or carry it as its label ("KTP: a documented process...")?
        Sentences that only mention the subject, or define something wider or narrower
        ("Offshore BPO is...", "Outsourcing means..."), do not."""
        if self.kind != "definition" or not self.subject or text.rstrip().endswith("?"):
            return False
        subject = frozenset(self.subject)
        if len(frozenset(side_stems(text)) - subject - _HEAD_EXTRAS) < _MIN_DEFINITION_STEMS:
            return False  # "BPO stands for business process outsourcing." names, not defines
        heads = list(_definition_heads(text))
        if label:
            heads.append(frozenset(side_stems(label)))
        return any(subject <= h and h - subject <= _HEAD_EXTRAS for h in heads if h)


_LIST_SYNONYMS = [
    {"type", "kind", "categori", "form", "flavour", "flavor", "model"},
    {"benefit", "advantag", "pro", "upsid"},
    {"risk", "challeng", "disadvantag", "drawback", "con", "concern"},
    {"step", "stage", "phase"},
    {"exampl", "servic", "function", "task", "process"},
    {"provid", "player", "vendor", "compani", "firm"},
    {"hub", "destin", "countri", "locat"},
    {"standard", "framework", "certif"},
    {"trend"}, {"metric", "kpi", "sla"}, {"practic", "tip", "pointer"},
    {"factor", "criteria", "criterion", "check", "signal"},
    {"industri", "sector"}, {"regul", "law", "requir", "oblig", "safeguard"},
    {"role", "persona"}, {"platform", "tool"},
]


def _list_terms(noun: str) -> tuple[str, ...]:
    if not noun:
        return ()
    s = stem(noun.lower())
    out = {s}
    for group in _LIST_SYNONYMS:
        if s in group:
            out |= group
    return tuple(sorted(out))


@lru_cache(maxsize=100_000)
def side_stems(text: str) -> tuple[str, ...]:
    from .query import expand_query

    return tuple(dict.fromkeys(stems(expand_query(text))))


@lru_cache(maxsize=100_000)
def _definition_heads(text: str) -> tuple[frozenset[str], ...]:
    """The stems (acronyms expanded) of what `text` opens by defining: the words before its
    first defining verb, whole and split at commas ("Simply put, BPO is...")."""
    t = re.sub(r"^[\s\-*\u2022\d.)\"'\u201c]+", "", normalize(text))
    m = _DEFINING_VERB.search(t[:200])
    if not m:
        return ()
    head = t[:m.start()]
    if not head or len(head.split()) > _MAX_HEAD_WORDS or re.search(r"[.!?;:]", head):
        return ()
    parts = [head] + [p for p in head.split(",") if p.strip()] if "," in head else [head]
    return tuple(frozenset(side_stems(p)) for p in parts)


def _subject_text(text: str) -> str:
    """The thing a definition question asks about, without filler ("in plain English", "for
    a prospect who...")."""
    from .query import content_query

    return " ".join(_SUBJECT_FILLER.sub(" ", content_query(text)).split()) or text


@lru_cache(maxsize=4096)
def question_shape(question: str) -> Shape:
    q = normalize(question).strip()
    wants_number = bool(_NUMERIC.search(q))
    wants_duration = bool(_DURATION.search(q))
    for pat in _COMPARE:
        m = pat.search(q)
        if m:
            # "With a VA vs a BPO, who manages the work?": the sides end at the clause
            xs = _side_text(_CLAUSE.split(m.group("x"))[-1])
            ys = _side_text(_CLAUSE.split(m.group("y"))[0])
            x, y = side_stems(xs), side_stems(ys)
            if x and y and set(x) != set(y) and len(xs.split()) <= 8 and len(ys.split()) <= 8:
                return Shape("comparison", sides=(x, y), wants_number=wants_number,
                             wants_duration=wants_duration)
    content = [w for w in words(q) if w not in STOPWORDS]
    hm = _HOW_TO_CHOOSE.search(q)
    if hm:
        return Shape("list", list_terms=_HOW_TO_TERMS)
    if _STEP_BY_STEP.search(q):
        return Shape("list", list_terms=_list_terms("steps"))
    if _WHO_IS_INVOLVED.search(q):
        return Shape("list", list_terms=_WHO_TERMS)
    lm = _LIST.search(q)
    if lm and not wants_duration:
        noun = re.findall(_LIST_NOUNS, lm.group(0), re.I)
        return Shape("list", wants_number=wants_number,
                     list_terms=_list_terms(noun[-1] if noun else ""))
    m = _DEFINE.match(q) or _DEFINITION_OF.search(q)
    if m and (len(content) <= 6 or _DEFINITION_OF.search(q)) and not wants_number:
        subject_text = _subject_text(m.group("x"))
        subject = side_stems(subject_text)
        if subject:
            return Shape("definition", subject=subject, subject_text=subject_text)
    if wants_number:
        return Shape("numeric", wants_number=True, wants_duration=wants_duration)
    if _YESNO.match(q):
        return Shape("yesno")
    return Shape("other")
