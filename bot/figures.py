"""Figures: the one parser of numbers in text and of the kind of figure a question asks for.

`figures_in(text)` finds every figure with its kind and value:

    money      $8, $8-$25, $1.7M, EUR 30, R$50M, 30 dollars
    percent    30%, 12-15%, 30 percent
    duration   3-6 months, 2 years, 48 hours, 90 days
    count      1.7M employees, 1,600+ GCCs, 410,000 people, 3 million (a number with a noun)
    year       2023, 1990s
    number     any other number

`asked_kinds(question)` is what a question asks for, from general English ("how much does
... cost", "how many", "how long", "what percentage", "when was ..."): a set of the kinds
above. "How much annual leave do employees get?" asks for a number (any kind), "How much
does it cost?" for money. Retrieval, the refusal decision, the figure answers and the claim
verifier all use this module, so they agree on what a figure is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.text import normalize

__all__ = ["KINDS", "Figure", "asked_about", "asked_kinds", "figures_in", "kinds_in",
           "values_in"]

KINDS = ("money", "percent", "duration", "count", "year", "number")

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9,
          "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12}
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_FIGURE = re.compile(
    rf"(?P<cur>[$\u20ac\u00a3]|R\$|(?:USD|EUR|GBP|INR|PHP)\s?)?(?<![A-Za-z0-9.,])(?P<n>{_NUM})"
    r"(?:st|nd|rd|th)?(?:\s?(?P<scale>thousand|million|billion|trillion|mn|bn|[kmbt])(?![A-Za-z]))?"
    r"(?P<plus>\+)?"
    rf"(?:\s?(?:-|to|\u2013)\s?(?:[$\u20ac\u00a3]|R\$)?(?P<n2>{_NUM})"
    r"(?:\s?(?P<scale2>thousand|million|billion|trillion|mn|bn|[kmbt])(?![A-Za-z]))?)?"
    r"(?P<pct>\s?%|\s(?:percent|per cent)\b)?"
    r"(?P<unit>\s?(?:months?|years?|weeks?|days?|hours?|minutes?|seconds?|yrs?|hrs?)\b)?"
    r"(?P<dollars>\s(?:dollars|usd|euros?|pounds)\b)?",
    re.I)
_COUNTED = re.compile(r"\s+(?:[a-z/&-]+\s+){0,2}?[a-z]+s\b", re.I)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30,
                 "fifty": 50, "hundred": 100, "dozen": 12}
_SPELLED = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)


@dataclass(frozen=True)
class Figure:
    """One figure found in a text."""

    kind: str
    """money, percent, duration, count, year or number."""
    value: float
    """The (first) number as written, without its scale ("$1.7M" -> 1.7)."""
    scaled: float | None
    """The value times its scale word or letter (1.7e6), None when it has none."""
    text: str
    """The figure as written."""
    start: int
    end: int
    high: float | None = None
    """The upper end of a range ("$8-$25" -> 25)."""


def _scaled(n: float, scale: str | None) -> float | None:
    return n * _SCALE[scale.lower()] if scale else None


@lru_cache(maxsize=50_000)
def figures_in(text: str) -> tuple[Figure, ...]:
    """Every figure of `text` (normalised: curly quotes, dashes), in order."""
    t = normalize(text)
    out: list[Figure] = []
    for m in _FIGURE.finditer(t):
        n = float(m.group("n").replace(",", ""))
        n2 = float(m.group("n2").replace(",", "")) if m.group("n2") else None
        scale = m.group("scale") or (m.group("scale2") if m.group("n2") else None)
        if m.group("cur") or m.group("dollars"):
            kind = "money"
        elif m.group("pct"):
            kind = "percent"
        elif m.group("unit"):
            kind = "duration"
        elif re.fullmatch(r"(?:19|20)\d{2}", m.group("n")) and not scale and n2 is None:
            kind = "year"
        elif scale or _COUNTED.match(t, m.end()) or "," in m.group("n") or m.group("plus"):
            kind = "count"
        else:
            kind = "number"
        out.append(Figure(kind, n, _scaled(n, scale), m.group(0).strip(), m.start(), m.end(),
                          n2))
    for m in _SPELLED.finditer(t):
        v = float(_NUMBER_WORDS[m.group(1).lower()])
        kind = "count" if _COUNTED.match(t, m.end()) else "number"
        out.append(Figure(kind, v, None, m.group(0), m.start(), m.end()))
    out.sort(key=lambda f: f.start)
    return tuple(out)


_WORDED_DURATION = re.compile(r"\b(?:in|within|takes?|under|over) (?:a (?:few|couple of) |"
                              r"several |about |around )?(?:weeks|months|days|hours|years)\b|"
                              r"\b(?:a|one|two|three|four|six) (?:weeks?|months?|years?|days?)\b",
                              re.I)


def kinds_in(text: str) -> frozenset[str]:
    """The kinds of figure a text gives ("in weeks" and "two years" are durations too)."""
    kinds = {f.kind for f in figures_in(text)}
    if _WORDED_DURATION.search(text):
        kinds.add("duration")
    return frozenset(kinds)


def values_in(text: str) -> frozenset[float]:
    """Every value a text states, as written and scaled ("$1.7M" -> {1.7, 1700000.0})."""
    vals: set[float] = set()
    for f in figures_in(text):
        for v in (f.value, f.scaled, f.high, _scaled(f.high, None) if f.high else None):
            if v is not None:
                vals.add(round(v, 6))
    return frozenset(vals)


_MONEY_WORDS = (r"cost|costs|costing|price|prices|priced|pricing|fee|fees|charge|charges|"
                r"charged|pay|paid|spend|spending|salary|salaries|wage|wages|budget|revenue|"
                r"revenues|worth|valued|valuation|expensive|cheap|cheaper|cheapest|afford|"
                r"dollars?|\$|hourly|per hour")
_PRICE_WORDS = r"cost|price|fee|charge|rate|salary|wage"
"""A question asks for money when it asks what something costs ("what does it cost", "the
price of", "the fee for"), not when it names a kind of pricing or cost ("what pricing
models", "which hidden costs")."""
_ASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("money", re.compile(rf"\bhow much\b.*\b(?:{_MONEY_WORDS})(?:\b|$)|"
                         r"\bwhat (?:does|do|did|will|would|might|could|should) (?:\S+\s+){0,6}?"
                         r"(?:cost|charge|pay|spend|earn)\b|"
                         rf"\b(?:{_PRICE_WORDS})s? (?:of|for|per|in|at|with)\b|"
                         r"\b(?:revenue|revenues|salary|salaries|wages?|valuation|fines?|"
                         r"penalty|penalties|profits?|earnings|net income)\b|"
                         r"\b(?:stock|share) price\b|"
                         # "is it worth it?", "worth requiring?" ask whether, not how much
                         r"\bworth\b(?!\s+(?:it\b|[a-z]+ing\b))|"
                         r"\bhow (?:expensive|cheap)\b|\bhourly\b|\brates? (?:for|of)\b|\b(?:day|hourly|billing) rates?\b|"
                         r"\bhow much\b.*\b(?:save|saving|savings)\b|\bper (?:hour|month|year|seat|agent|"
                         r"call|ticket|invoice|transaction|fte)\b|\bmarket size\b|"
                         r"\bsize of (?:the )?(?:[\w&-]+ ){0,3}?(?:market|industry)\b|"
                         r"\bhow (?:big|large) is (?:the )?(?:\w+ )?(?:market|industry)\b",
                         re.I)),
    ("count", re.compile(r"\bhow many\b(?! (?:months|years|weeks|days|hours))|\bnumber of\b|"
                         r"\bheadcount\b", re.I)),
    ("percent", re.compile(r"\bpercent(?:age)?\b|\bwhat (?:share|proportion)\b|%|\bcagr\b|"
                           r"\b(?:growth|attrition|churn|turnover|error|accuracy|abandonment|"
                           r"resolution|utili[sz]ation|occupancy|success|failure) rates?\b|"
                           r"\bhow fast\b.*\bgrow", re.I)),
    ("duration", re.compile(r"\bhow long\b|\bhow (?:soon|quickly)\b|\btimeline\b|"
                            r"\bduration\b|\bhow many (?:months|years|weeks|days|hours)\b|"
                            r"\bhow much time\b", re.I)),
    # "when was it passed?", "when will it be enforced?" ask for a date; "when is it worth
    # it?", "when is it a good time to...?" ask in which case
    ("year", re.compile(r"\bwhen (?:was|were|did)\b|\bwhat year\b|\bin which year\b|"
                        r"\bsince when\b|\bwhen (?:is|are|will)\s+(?:[\w&'-]+\s+){0,5}?"
                        r"(?:[a-z]+ed|[a-z]+en|due)\b", re.I)),
    ("number", re.compile(r"\bhow much\b|\bhow (?:big|large|small)\b|\bat what\b|"
                          r"\b(?:what|which)\b.*\b(?:minimum|maximum|average|typical|target|"
                          r"benchmark|threshold|limit|score|ratio|level)\b", re.I)),
)


_YES_NO = re.compile(r"^\W*(?:(?:ok(?:ay)?|so|and|but|also|then|well)\W+)*(?:is|are|was|were|"
                     r"do|does|did|should|shall|can|could|will|would|may|might|must|has|have|"
                     r"had)\b", re.I)
"""A question opening with an auxiliary verb asks yes or no..."""
_WH = re.compile(r"\b(?:how|what|which|when|where|who|whom|whose|why)\b", re.I)
"""...unless a question word follows ("is it true that ... how much ...", "do you know
what ... costs?")."""


@lru_cache(maxsize=8192)
def asked_kinds(question: str) -> frozenset[str]:
    """The kinds of figure `question` asks for (empty when it asks for none). "number"
    means any figure will do."""
    q = normalize(question)
    if _YES_NO.match(q) and not _WH.search(q):
        return frozenset()  # "should our SLA include penalties?" asks whether, not how much
    kinds = {k for k, p in _ASKS if p.search(q)}
    if "duration" in kinds or "year" in kinds:
        kinds -= {"count", "number"}
    if re.search(r"\bhow (?:big|large)\b", q, re.I):
        kinds |= {"money", "count", "percent"}  # size in dollars, people or market share
    if "money" in kinds:
        kinds.discard("number")
        if re.search(r"\b(?:save|saving|savings|cut|reduce|reduction|lower|cheaper|costlier|"
                     r"(?:more|less) expensive)\b", q, re.I):
            kinds.add("percent")  # "how much can we save?", "how much cheaper?": in percent
    if "percent" in kinds:
        kinds.discard("number")
    return frozenset(kinds)


_ABOUT = re.compile(
    r"\bhow many\s+(?:[a-z][\w&-]*\s+){0,2}?(?P<a>[a-z][\w&-]*?)(?=\s|[?.!,]|$)|"
    r"\bnumber of\s+(?P<b>[a-z][\w&-]*)|"
    r"\b(?P<c>[a-z][\w&-]*)\s+(?P<h>rates?|fees?|costs?|prices?|salar(?:y|ies)|scores?|"
    r"penalt(?:y|ies)|fines?|revenues?|sizes?|times?|ratios?|levels?)\b|"
    r"\b(?P<d>revenues?|salar(?:y|ies)|wages?|fines?|penalt(?:y|ies)|headcount|workforce|"
    r"employees|valuation)\b|"
    r"\bwhen (?:was|were|did|is|are|will)\s+(?:[\w&'-]+\s+){1,5}?(?P<e>[a-z]+ed|[a-z]+en)\b",
    re.I)
_SUBJECT_NOUN = re.compile(r"revenues?|salar(?:y|ies)|fines?|penalt(?:y|ies)", re.I)
_GENERIC_MODIFIERS = frozenset("""average typical good hourly monthly annual yearly daily total
    going usual normal maximum minimum max min best the what acceptable target standard market
    current real overall low high lower higher hidden setup fixed variable per same right fair
    reasonable ballpark expected a an our their your its this that much many one ones each""".split())
"""Words before "rate", "fee", "cost"... that say what kind of figure, not what it is of:
"the average cost" asks a cost, "the attrition rate" asks about attrition."""


@lru_cache(maxsize=8192)
def asked_about(question: str) -> tuple[str, ...]:
    """What a figure question asks the figure of, as words: "how many BPO employees" ->
    ("employees",), "the attrition rate" -> ("attrition",), "Teleperformance's annual
    revenue" -> ("revenue",); "the going rate" names no subject. Empty when no figure is
    asked."""
    if not asked_kinds(question):
        return ()
    out: list[str] = []
    for m in _ABOUT.finditer(normalize(question)):
        w = (m.group("a") or m.group("b") or m.group("c") or m.group("d") or m.group("e")
             or "").lower()
        if m.group("c") and w in _GENERIC_MODIFIERS:
            head = m.group("h").lower()  # "the going rate": the kind of figure, no subject;
            if not _SUBJECT_NOUN.fullmatch(head):  # "annual revenue": revenue is asked
                continue
            w = head
        if w and w not in _GENERIC_MODIFIERS and w not in out and not w.isdigit():
            out.append(w)
        head = (m.group("h") or "").lower()
        if m.group("c") and _SUBJECT_NOUN.fullmatch(head) and head not in out:
            out.append(head)  # "the GDPR fine": a fine, of GDPR
    return tuple(out)
