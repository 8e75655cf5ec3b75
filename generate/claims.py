"""A generated answer as claims: its sentences and list items, each with the `[n]` markers it
carries.

A marker belongs to the sentence it follows ("... per hour. [2] Next ..." gives [2] to the first
sentence); a line that starts with markers ("[1] text") gives them to that line. The prompt's
own furniture that small models echo ("Answer:", "According to the passages,", "...") is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text import normalize

__all__ = ["MARKER", "Claim", "normalize_lines", "split_claims"]

MIN_WORDS = 3
"""Shorter fragments (a lone marker, "Answer:") are not claims."""

MARKER = re.compile(r"\[\s*(\d{1,2}(?:\s*[,;-]\s*\d{1,2})*)\s*\]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_SENT_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019]))"  # also after a closing quote
                       r"((?:\s*\[\s*\d{1,2}(?:\s*[,;-]\s*\d{1,2})*\s*\])*)\s+"
                       r"(?=[\"'(\u201c\u2018]?[A-Z0-9$])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|inc|ltd|co|corp|approx|no|mr|mrs|ms|dr|st|u\.s|"
                     r"u\.k|e\.u)\.$", re.I)
_PREAMBLE = re.compile(r"^(?:answer\s*:\s*|according to the (?:passages?|guides?)(?: above)?,?\s*"
                       r"|based on the (?:passages?|guides?)(?: above)?,?\s*)", re.I)


@dataclass(frozen=True)
class Claim:
    """One sentence (or list item) of a generated answer."""

    text: str
    """The sentence with its markers removed."""
    cited: tuple[int, ...]
    """The passage numbers its `[n]` markers named, in order."""
    complete: bool = True
    """False for a trailing fragment without end punctuation (cut off by the token limit)."""
    bullet: bool = False
    """True when the model wrote it as a list item."""


def _markers(text: str) -> tuple[int, ...]:
    out: list[int] = []
    for m in MARKER.finditer(text):
        body = m.group(1)
        if "-" in body and "," not in body:
            a, _, b = body.partition("-")
            rng = range(int(a), int(b) + 1) if int(a) <= int(b) <= int(a) + 10 else [int(a)]
            nums = list(rng)
        else:
            nums = [int(x) for x in re.split(r"\s*[,;]\s*", body) if x.strip()]
        out.extend(n for n in nums if n not in out)
    return tuple(out)


def _clean(text: str) -> str:
    t = MARKER.sub(" ", text)
    t = re.sub(r"\s+([.,;:!?])", r"\1", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = _PREAMBLE.sub("", t).strip()
    t = re.sub(r"^(?:\.\.\.|\u2026)\s*", "", t)  # the prompt marks trimmed passages with "..."
    t = re.sub(r"\s*(?:\.\.\.|\u2026)\.*\s*$", ".", t)
    t = t.strip("*_ ").strip()
    if t[:1].islower() and len(t) > 1:
        t = t[0].upper() + t[1:]
    return t


def split_claims(answer: str, *, fragments: bool = False) -> list[Claim]:
    """The claims of a generated answer: sentences and list items, with the markers they cite.

    A marker belongs to the sentence it follows ("... per hour. [2] Next ..." gives [2] to the
    first sentence); a line that starts with markers ("[1] text") gives them to that line.
    Fragments shorter than three words and exact repeats are dropped, unless `fragments`
    (an extractive answer's item labels: "Security & compliance. What certifications...").
    """
    out: list[Claim] = []
    seen: set[str] = set()
    for raw_line in normalize_lines(answer):
        bullet = bool(_BULLET.match(raw_line))
        line = _BULLET.sub("", raw_line, count=1)
        lead = re.match(r"^\s*((?:\[\s*\d{1,2}(?:\s*[,;-]\s*\d{1,2})*\s*\]\s*)+)", line)
        lead_cites = _markers(lead.group(1)) if lead else ()
        pieces: list[str] = []
        start = 0
        for m in _SENT_END.finditer(line):
            cut = m.start()
            if _ABBREV.search(line[max(start, cut - 6):cut]):
                continue
            pieces.append(line[start:m.end(1) if m.group(1) else cut])
            start = m.end()
        pieces.append(line[start:])
        for i, piece in enumerate(pieces):
            text = _clean(piece)
            if not re.search(r"[A-Za-z0-9]", text) or (
                    not fragments and (len(re.findall(r"[A-Za-z0-9$%]+", text)) < MIN_WORDS
                                       or not re.search(r"[A-Za-z]", text))):
                continue
            key = text.lower()
            if key in seen:
                continue
            seen.add(key)
            cited = _markers(piece)
            if i == 0 and lead_cites:
                cited = tuple(dict.fromkeys(lead_cites + cited))
            complete = bool(re.search(r"[.!?]\W*$", MARKER.sub("", piece).strip()))
            out.append(Claim(text=text, cited=cited, complete=complete, bullet=bullet))
    if out and not out[-1].complete:
        # only the last claim can be cut off; earlier lines without a period are list items
        out[:-1] = [Claim(c.text, c.cited, True, c.bullet) for c in out[:-1]]
    else:
        out = [Claim(c.text, c.cited, True, c.bullet) for c in out]
    return out


def normalize_lines(text: str) -> list[str]:
    """Non-empty lines of normalised text (a lone marker line joins the line before it)."""
    lines: list[str] = []
    for line in text.replace("\r", "\n").split("\n"):
        line = normalize(line)
        if not line:
            continue
        if lines and MARKER.sub("", line).strip(" .,;") == "":
            lines[-1] += " " + line
            continue
        lines.append(line)
    return lines


