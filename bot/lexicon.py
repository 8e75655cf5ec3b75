"""Domain vocabulary: words that mean the same thing in questions about outsourcing, and the
kinds of figures a question can ask for.

`concept(stem)` maps a stem onto a shared concept ("staff", "workforce", "headcount",
"people" -> PEOPLE) so coverage checks match a question's wording with a guide's. This is
general vocabulary of the trade, not knowledge of any particular answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ingest.text import stem

__all__ = ["FIGURE_PATTERNS", "asked_figures", "concept", "concepts", "figure_kinds"]

_GROUPS: dict[str, tuple[str, ...]] = {
    "PEOPLE": ("employee", "employees", "employ", "employing", "workforce", "staff", "staffing",
               "worker", "workers", "people", "headcount", "personnel", "agent", "agents",
               "professional", "professionals", "fte", "ftes", "talent", "seat", "seats"),
    "COST": ("cost", "costs", "price", "prices", "pricing", "priced", "fee", "fees", "charge",
             "charges", "pay", "paid", "spend", "spending", "expense", "expenses", "rate",
             "rates", "cheap", "cheaper", "cheapest", "expensive", "budget", "dollar", "dollars",
             "afford", "affordable"),
    "REVENUE": ("revenue", "revenues", "sales", "turnover", "earnings"),
    "SIZE": ("size", "sizing", "big", "bigger", "biggest", "large", "larger", "largest",
             "worth", "valued", "value"),
    "PENALTY": ("fine", "fines", "penalty", "penalties", "sanction", "sanctions"),
    "DURATION": ("long", "duration", "timeline", "month", "months", "week", "weeks", "year",
                 "years", "time"),
    "GROWTH": ("grow", "growth", "growing", "cagr", "expand", "expansion", "fast", "faster"),
    "SAVING": ("save", "saving", "savings", "reduce", "reduction", "cut", "cutting", "lower"),
    "RISK": ("risk", "risks", "risky", "danger", "dangers", "pitfall", "pitfalls", "downside",
             "downsides", "challenge", "challenges", "drawback", "drawbacks"),
    "BENEFIT": ("benefit", "benefits", "advantage", "advantages", "upside", "upsides", "pros",
                "perk", "perks"),
    "CENTER": ("center", "centre", "centers", "centres"),
    "COUNTRY": ("country", "countries", "nation", "nations", "location", "locations",
                "destination", "destinations"),
    "COMPANY": ("vendor", "vendors", "provider", "providers", "supplier", "suppliers",
                "partner", "partners", "outsourcer", "outsourcers"),
    "SMALL": ("small", "smb", "smbs", "sme", "smes", "startup", "startups"),
    "ROUND_CLOCK": ("24/7", "clock", "overnight", "around-the-clock"),
    "LABOR": ("labor", "labour"),
    "ORGANIZATION": ("organization", "organisation", "organizations", "organisations"),
    "SPECIALIZED": ("specialized", "specialised", "specialize", "specialise", "specialist"),
    "OPTIMIZE": ("optimize", "optimise", "optimization", "optimisation"),
}
_CONCEPT = {stem(w): name for name, ws in _GROUPS.items() for w in ws}


def concept(s: str) -> str:
    """The concept a stem belongs to, or the stem itself."""
    return _CONCEPT.get(s, s)


@lru_cache(maxsize=100_000)
def concepts(stems: frozenset[str]) -> frozenset[str]:
    """Stems plus the concepts they belong to."""
    return stems | frozenset(_CONCEPT[s] for s in stems if s in _CONCEPT)


_NUMBER_WORDS = (r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
                 r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
                 r"dozen|million|billion)")
FIGURE_PATTERNS: dict[str, re.Pattern[str]] = {
    "money": re.compile(r"\$\s?\d|\d\s?(?:billion|million|bn)\b|\b(?:usd|eur|r\$)\s?\d", re.I),
    "count": re.compile(r"\d[\d,.]*\s?(?:m|k|million|thousand)?\+?\s+(?:[a-z/-]+\s+){0,2}?"
                        r"(?:employees|professionals|people|staff|agents|workers|ftes?|gccs|"
                        r"organizations|companies|customers|countries|users|languages)\b|"
                        r"\d(?:\.\d)?m\b|\d{1,3}(?:,\d{3})+\+?|\bone million\b|\b\d+\s?million\b|"
                        r"\b" + _NUMBER_WORDS + r"\s+(?:[a-z-]+\s+)?[a-z]+s\b", re.I),
    "percent": re.compile(r"\d\s?%|\bpercent\b", re.I),
    "duration": re.compile(r"\d+\s?(?:[-\u2013]|to)?\s?\d*\s?(?:months?|years?|weeks?|days?|hours?|"
                           r"minutes?)\b|\b(?:in|within|takes?) (?:a few |several )?(?:weeks|"
                           r"months|days|hours)\b", re.I),
    "year": re.compile(r"\b(?:19|20)\d{2}\b"),
    "number": re.compile(r"\d|\b" + _NUMBER_WORDS + r"\b", re.I),
}

_ASKS: list[tuple[str, re.Pattern[str]]] = [
    ("money", re.compile(r"\bhow much (?:does|do|did|will|would|is|are|can|should|money|more|less)\b|"
                         r"\bwhat (?:does|do|did|will|would) (?:\w+\s+){1,6}cost\b|"
                         r"\b(?:cost|price|prices|pricing|rates?|fees?) (?:of|for|per)\b|"
                         r"\b(?:salary|salaries|revenue|revenues|valued|fines?|penalt(?:y|ies))\b|"
                         r"\b(?:how much|what)\b.*\bworth\b|\bworth in\b|"
                         r"\bper (?:hour|month|year|seat|call|ticket|invoice|agent)\b|\bhourly\b|"
                         r"\bmarket size\b|\bhow (?:big|large) is\b|\bin dollars\b", re.I)),
    ("count", re.compile(r"\bhow many\b|\bheadcount\b|\bnumber of\b", re.I)),
    ("percent", re.compile(r"\bwhat (?:percentage|share|proportion|percent)\b|\bpercent(?:age)?\b|"
                           r"\b(?:attrition|abandonment|churn|turnover|growth|accuracy|"
                           r"utili[sz]ation|occupancy|resolution) rate\b|\bcagr\b|"
                           r"\bhow fast (?:is|are|will|does|do) (?:\w+\s+){0,3}grow", re.I)),
    ("duration", re.compile(r"\bhow long\b|\bhow quickly\b|\bhow soon\b|\bhow fast\b|"
                            r"\btimeline\b|\bduration\b|\bhow many (?:months|years|weeks|days)\b",
                            re.I)),
    ("year", re.compile(r"\bwhen (?:was|were|did|will)\b.*\b(?:founded|established|created|"
                        r"enacted|introduced|launched|started|begin|began|passed|set up)\b|"
                        r"\bwhat year\b|\bin which year\b|\bsince when\b", re.I)),
    ("number", re.compile(r"\b(?:what|which)\s+(?:\w+\s+){0,4}?(?:score|rate|target|benchmark|"
                          r"number|level|ratio|threshold|minimum|maximum|average)\b|"
                          r"\b(?:minimum|maximum|average) (?:\w+\s+){0,2}?(?:number|size|"
                          r"rate|time|score)\b", re.I)),
]


@lru_cache(maxsize=4096)
def asked_figures(question: str) -> frozenset[str]:
    """Kinds of figure the question asks for (money, count, percent, duration, year)."""
    kinds = {k for k, p in _ASKS if p.search(question)}
    if re.search(r"\bhow (?:big|large)\b", question, re.I):
        kinds |= {"money", "count", "percent"}  # size in dollars, people or market share
    if "money" in kinds and re.search(r"\b(?:save|saving|savings|cheaper|less|reduce|cut)\b",
                                      question, re.I):
        kinds.add("percent")  # "how much can we save" is often answered in percent
    if "duration" in kinds:
        kinds.discard("count")
        kinds.discard("percent")
    return frozenset(kinds)


def figure_kinds(text: str) -> set[str]:
    """Kinds of figure a text gives."""
    return {k for k, p in FIGURE_PATTERNS.items() if p.search(text)}


def canon(stems: Iterable[str]) -> set[str]:
    return {concept(s) for s in stems}
