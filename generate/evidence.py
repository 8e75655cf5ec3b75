"""The hard checks of claim verification: what a passage must contain for a claim to hold.

- figures: every figure of the claim (bot/figures.py finds them) appears in the passage,
  compared by value ($8-$25 = 8-25; $1.7M = 1.7 million = 1,700,000; a scale word must match);
- names: capitalised words and acronyms of the claim appear in the passage (a sentence's first
  word only with a sign that it is a name);
- acronyms: "ITES stands for Information Technology Outsourcing" is caught by its initials;
- negation: one side negates what the other states about the same words;
- comparisons: "X is cheaper than Y" reversed, or a comparison the passage never makes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.figures import figures_in, values_in
from ingest.text import STOPWORDS, normalize, stem, stems

from .claims import MARKER

__all__ = [
    "NEGATION",
    "acronym_mismatch",
    "comparison_swapped",
    "comparison_unstated",
    "comparisons",
    "missing_figures",
    "missing_names",
    "names",
    "negation_mismatch",
]

def missing_figures(claim: str, passage: str) -> list[str]:
    """Figures of the claim that the passage does not state, compared by value with the
    project's one figure parser (bot/figures.py): both ends of a range, and the scaled value
    when the claim gives a scale ("$1.7M" needs 1.7 million; "1.7" is found in "$1.7M")."""
    have = values_in(MARKER.sub(" ", passage))
    missing = []
    for f in figures_in(MARKER.sub(" ", claim)):
        want = [f.scaled if f.scaled is not None else f.value]
        if f.high is not None:
            want.append(f.high)
        if any(round(v, 6) not in have for v in want):
            missing.append(f.text)
    return missing


_NAME = re.compile(r"\b[A-Z][A-Za-z0-9&'\-]*[A-Za-z0-9]|\b[A-Z]{2,}\b")
_ATTRIBUTION = re.compile(r"\s+(?:reports?|reported|says|said|estimates?|estimated|found|finds|"
                          r"notes?|noted|predicts?|predicted|projects|projected|expects|claims)\b")
_COMMON_CAPS = frozenset({"i", "a", "an", "the", "this", "that", "these", "those", "it", "its",
                          "in", "on", "for", "to", "and", "or", "but", "if", "when", "while",
                          "yes", "no", "also", "however", "overall", "unlike"})


def names(text: str) -> list[str]:
    """Capitalised words and acronyms of a claim. Its first word is capitalised anyway, so it
    counts only with a sign of a name: an acronym, a capitalised word right after it ("Grand
    View Research"), a verb of reporting ("Gartner reports"), or a name it is listed with
    ("India and the Philippines", "Poland, Romania and Ukraine")."""
    t = MARKER.sub(" ", normalize(text))
    out: list[str] = []
    first = re.match(r"\W*([A-Za-z][\w'\-]*)", t)
    first_end = first.end(1) if first else 0
    for m in _NAME.finditer(t):
        w = m.group(0)
        lw = w.lower()
        if (lw in _COMMON_CAPS and not (w.isupper() and len(w) > 1)) or len(w) == 1:
            continue
        if m.start() < first_end and not (w.isupper() and len(w) > 1) \
                and (lw in STOPWORDS or not (_ATTRIBUTION.match(t[m.end():])
                                             or re.match(r" [A-Z][a-z]", t[m.end():])
                                             or _LISTED_WITH_NAME.match(t[m.end():]))):
            continue
        out.append(w)
    return out


_LISTED_WITH_NAME = re.compile(r"(?:,| and| or)(?: the)? [A-Z][a-z]")
"""After a sentence's first word: it is listed with a capitalised word, so it is a name too."""


def _name_key(word: str) -> str:
    w = word.lower().strip("'")
    w = re.sub(r"'s$", "", w)
    return stem(w) if w.isalpha() else w


def _run_initials(tokens: list[str], longest: int = 5) -> set[str]:
    """Initials of every run of 2..`longest` consecutive words (small words skipped)."""
    words = [t for t in tokens if t.lower() not in _SMALL_WORDS and t[:1].isalpha()]
    out = set()
    for i in range(len(words)):
        for n in range(2, longest + 1):
            if i + n <= len(words):
                out.add("".join(w[0] for w in words[i:i + n]).upper())
    return out


def missing_names(claim: str, passage: str) -> list[str]:
    """Names of the claim the passage (case-insensitively, by stem) does not mention; an
    acronym that is also a common word ("IT") must be in capitals. A sentence's capitalised
    first word that the passage never uses at all is checked like a name too ("India has
    1.7M BPO employees" against a passage on the Philippines)."""
    tokens = re.findall(r"[A-Za-z0-9&'\-]*[A-Za-z0-9]", normalize(passage))
    tokens += [p for t in tokens if "-" in t or "'" in t for p in re.split(r"[-']", t) if p]
    have = {_name_key(w) for w in tokens} | {w.lower() for w in tokens}
    caps = {w for w in tokens if w.isupper()}
    initials = _run_initials(tokens)
    out = []
    for n in names(claim):
        parts = [p for p in re.split(r"[-']", n) if p]
        if n.isupper() and n.lower() in STOPWORDS | _COMMON_CAPS:
            # an acronym that spells a common word ("IT", "US") only counts in capitals
            if n not in caps and n not in initials:
                out.append(n)
            continue
        if n.lower() in have or _name_key(n) in have:
            continue
        if n.isupper() and n.upper() in initials:  # "BPO" for "business process outsourcing"
            continue
        if parts and all(p.lower() in have or _name_key(p) in have for p in parts):
            continue
        out.append(n)
    first = re.match(r"\W*([A-Z][a-z][\w'\-]*)", MARKER.sub(" ", normalize(claim)))
    if first:
        w = first.group(1)
        if w.lower() not in STOPWORDS | _COMMON_CAPS and w not in out and \
                w.lower() not in have and _name_key(w) not in have:
            out.append(w)
    return out


_EXPANSION = re.compile(
    r"\b([A-Z][A-Za-z&]*[A-Z]s?)\b\s+(?:stands for|is short for|is an acronym for)\s+"
    r"(?:the\s+)?([A-Za-z][A-Za-z\-&' ]{3,80}?)(?=[.,;:()]|\s+(?:and|which|that|is|are)\b|$)"
    r"|([A-Z][a-z][A-Za-z\-& ]{3,80}?)\s+\(([A-Z][A-Za-z&]*[A-Z]s?)\)")
_SMALL_WORDS = frozenset({"of", "and", "the", "for", "to", "in", "&", "a", "an"})


def _initials(expansion: str) -> str:
    out = []
    for w in re.split(r"[\s\-]+", expansion):
        if not w or w.lower() in _SMALL_WORDS:
            continue
        out.append(w if w.isupper() else w[0])
    return "".join(out).upper()


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def acronym_mismatch(claim: str) -> str:
    """`ITES stands for Information Technology Outsourcing` -> the mismatch, else ""."""
    for m in _EXPANSION.finditer(normalize(claim)):
        acr, exp = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        letters = re.sub(r"[^A-Z]", "", acr.rstrip("s")) if acr else ""
        if len(letters) < 2 or not exp:
            continue
        initials = _initials(exp)
        if initials and not _is_subsequence(letters, initials) and not \
                _is_subsequence(letters, "".join(w[:1].upper() for w in re.split(r"[\s\-]+",
                                                                                 exp) if w)):
            return f"{acr} does not abbreviate {exp.strip()!r}"
    return ""


NEGATION = re.compile(r"\b(?:not|no|never|without|cannot|neither|nor|none|nothing)\b|"
                  r"n't\b|\bisn t\b", re.I)
_CLAUSE = re.compile(r"[;,.:!?()\u2014|\n]| - | but | while | whereas | although ", re.I)
"""Where a clause ends (a table cell and a line end too)."""


def _neg_scopes(text: str) -> list[list[str]]:
    """For each negation: the next (up to 3) content stems in its clause, in order (the first
    is what is negated: "does not have to be specialist" -> specialist)."""
    t = normalize(text).replace("\u2019", "'")
    scopes = []
    for m in NEGATION.finditer(t):
        rest = t[m.end():]
        cut = _CLAUSE.search(rest)
        clause = rest[:cut.start()] if cut else rest
        scope = list(dict.fromkeys(stems(clause)))[:3]
        if scope:
            scopes.append(scope)
    return scopes


def negation_mismatch(claim: str, window: str) -> bool:
    """True when one side negates what the other states: the claim negates a word the window
    states without negating it, or the window negates words the claim states plainly."""
    claim_stems = set(stems(claim))
    win_stems = set(stems(window))
    c_scopes = _neg_scopes(claim)
    w_scopes = _neg_scopes(window)
    for s in c_scopes:
        if s[0] in win_stems and not any(s[0] in w for w in w_scopes):
            return True
    for w in w_scopes:
        hit = set(w) & claim_stems
        if hit and not any(hit & set(s) for s in c_scopes):
            # the passage negates words the claim states plainly
            if len(hit) >= min(2, len(w)):
                return True
    return False


_CMP_DIM = {"cheaper": ("cost", -1), "costlier": ("cost", 1), "lower": ("level", -1),
            "higher": ("level", 1), "faster": ("speed", 1), "quicker": ("speed", 1),
            "slower": ("speed", -1), "larger": ("size", 1), "bigger": ("size", 1),
            "greater": ("size", 1), "smaller": ("size", -1), "better": ("quality", 1),
            "worse": ("quality", -1), "fewer": ("amount", -1), "easier": ("ease", 1),
            "harder": ("ease", -1), "riskier": ("risk", 1), "safer": ("risk", -1)}
_CMP_ADJ = {"expensive": ("cost", 1), "costly": ("cost", 1), "affordable": ("cost", -1)}
_NOT_COMPARATIVE = frozenset("""other rather either whether over under after never ever number
    provider customer together offer order cover answer deliver consider register enter matter
    partner member manager owner transfer outer inner later water power paper center""".split())


@dataclass(frozen=True)
class _Comparison:
    dim: str
    direction: int
    left: frozenset[str]
    right: frozenset[str]


def _comparative(words: list[str]) -> tuple[int, str, int] | None:
    """(index, dimension, direction) of the comparative nearest the end of `words`."""
    for i in range(len(words) - 1, -1, -1):
        w = words[i].lower()
        if w in ("more", "less"):
            sign = 1 if w == "more" else -1
            adj = words[i + 1].lower() if i + 1 < len(words) else ""
            if adj in _CMP_ADJ:
                dim, d = _CMP_ADJ[adj]
                return i, dim, sign * d
            return i, (stem(adj) if adj else "amount"), sign
        if w in _CMP_DIM:
            dim, d = _CMP_DIM[w]
            return i, dim, d
        if (w.endswith("ier") or w.endswith("er")) and len(w) >= 5 and w.isalpha() \
                and w not in _NOT_COMPARATIVE:
            return i, stem(w), 1
    return None


def comparisons(text: str) -> list[_Comparison]:
    """`X is cheaper than Y` -> (cost, -1, {x}, {y}); `more expensive` -> (cost, +1, ...)."""
    t = normalize(text)
    out = []
    for m in re.finditer(r"\bthan\b", t, re.I):
        head = t[:m.start()]
        cut = max(head.rfind(p) for p in (". ", ";", ":", "?", "!", "\n"))
        sentence = head[cut + 1:]
        spans = list(re.finditer(r"[A-Za-z][A-Za-z\-]*", sentence))[-6:]
        found = _comparative([w.group(0) for w in spans])
        if found is None:
            continue
        i, dim, direction = found
        left = frozenset(stems(sentence[:spans[i].start()]))
        after = t[m.end():]
        c = _CLAUSE.search(after)
        right = frozenset(stems(after[:c.start()] if c else after)[:3])
        out.append(_Comparison(dim, direction, left, right))
    return out


def comparison_unstated(claim: str, passage: str) -> bool:
    """True when the claim compares on something ("more complex than") the passage never does."""
    mine = [c for c in comparisons(claim) if c.dim != "amount"]
    if not mine:
        return False
    theirs = {c.dim for c in comparisons(passage)}
    have = set(stems(passage))
    return any(c.dim not in theirs and c.dim not in have for c in mine)


def comparison_swapped(claim: str, window: str) -> bool:
    """True when the claim states a comparison the passage makes the other way round."""
    for c in comparisons(claim):
        for p in comparisons(window):
            if c.dim != p.dim:
                continue
            cl, cr = c.left - c.right, c.right - c.left
            pl, pr = p.left - p.right, p.right - p.left
            same = len(cl & pl) + len(cr & pr)
            swapped = len(cl & pr) + len(cr & pl)
            if same == swapped:
                continue
            orient = 1 if same > swapped else -1
            if c.direction * orient != p.direction:
                return True
    return False


