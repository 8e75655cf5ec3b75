"""Suggested questions: what to ask next, phrased as a person would ask it.

After an answer: the sections next to the cited ones (the neighbouring chunks of the same
document, and the FAQ questions near them); after a refusal: the closest sections. A
heading that is a question is used as it is ("How do I choose a BPO provider?"); another
becomes one by general English ("How to Choose a BPO Provider: A Checklist" -> "How do I
choose a BPO provider?", "The Benefits of BPO" -> "What are the benefits of BPO?",
"BPO Pricing & Engagement Models" -> "What are BPO pricing & engagement models?").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ingest import Chunk, Generation
from ingest.text import stems

__all__ = ["as_question", "topic_of", "suggest"]

MAX_SUGGESTIONS = 3
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}[.)]|#\d{1,2})\s+")
_GENERIC = re.compile(r"^(?:key takeaways|conclusion|introduction|overview|summary|faqs?|"
                      r"frequently asked questions.*|final thoughts|related.*|table of contents|"
                      r"contents|image source.*|written by.*|about the author)$", re.I)
_WH = re.compile(r"^(?:what|why|when|which|who|how|where|is|are|can|should|does|do)\b", re.I)
_CLAUSE = re.compile(r"^(?:there|it|this|that)\s|\s(?:will|would|can|could|should|must|may|"
                     r"might|shall|is|are|was|were|has|have|had|does|do|did)\s", re.I)
"""A heading that states something ("Other countries will look to break into the BPO
market", "There will be higher transparency") is a claim, not a topic: "What is ...?" around
it is not English."""


def topic_of(chunk: Chunk) -> str:
    """The chunk's own heading (its FAQ question inside a FAQ section), numbering removed."""
    parts = [_NUMBERING.sub("", p).strip().rstrip(":").strip() for p in chunk.section.split(" > ")
             if p.strip()]
    if not parts:
        return ""
    last = parts[-1]
    if re.search(r"frequently asked|\bfaqs?\b", last, re.I) and len(parts) > 1:
        last = parts[-2]
    return last


def _lower(phrase: str, name: Callable[[str], bool] | None = None) -> str:
    """Lower-case a heading's words, except acronyms, names written in capitals and the
    words `name` says the documents write as names ("Singapore" in a title-case heading)."""
    out = []
    for i, w in enumerate(phrase.split()):
        keep = w[1:2].isupper() or any(ch.isdigit() for ch in w) or (
            i > 0 and w[:1].isupper() and not w[1:].islower()) or (
            name is not None and w[:1].isupper() and name(re.sub(r"\W", "", w.lower())))
        out.append(w if keep else w.lower())
    return " ".join(out)


def _title_case(h: str) -> bool:
    """Is the heading written in title case ("How Does BPO Work")? Every word of four or
    more letters after the first is capitalised."""
    long = [w for w in h.split()[1:] if len(w) > 3 and w[:1].isalpha()]
    return bool(long) and all(w[:1].isupper() for w in long)


def _plural(word: str) -> bool:
    """Is a heading's last word a plural: ends in "s" and its singular is about as common
    in English (wordfreq) - "risks", "benefits", not "lens", "logistics", "analysis"?"""
    from wordfreq import zipf_frequency

    w = word.lower()
    return w.endswith("s") and not w.endswith("ss") and not word.isupper() and \
        zipf_frequency(w[:-1], "en") >= zipf_frequency(w, "en") - 0.1


def as_question(heading: str, name: Callable[[str], bool] | None = None) -> str:
    """A heading phrased as a question a person would ask ("" for a heading that is not a
    topic: "Key takeaways", "Conclusion"); a title-case heading in sentence case, keeping
    the words `name` says are names."""
    h = re.split(r"\s+[\u2014\u2013-]\s+|:\s", _NUMBERING.sub("", heading).strip(), maxsplit=1)[0]
    h = h.strip(" .:\u25be\u25bc")
    if not h or _GENERIC.match(h) or len(h.split()) > 12:
        return ""
    m = re.match(r"^how to\s+(.+)$", h, re.I)
    if m and not h.endswith("?"):
        return f"How do I {_lower(m.group(1), name)}?"
    if h.endswith("?") or _WH.match(h):
        if _title_case(h):
            first, _, rest = h.partition(" ")
            h = f"{first} {_lower(rest, name)}".strip()
        return h if h.endswith("?") else h[0].upper() + h[1:] + "?"
    if _CLAUSE.search(h):
        return ""
    body = _lower(re.sub(r"^the\s+", "", h, flags=re.I), name)
    last = re.findall(r"[A-Za-z]+", body)
    plural = bool(last) and _plural(last[-1])
    if body.split()[0].lower().rstrip("s") in ("benefit", "risk", "type", "advantage", "trend",
                                               "step", "challenge", "model") or plural:
        return f"What are {'the ' if not body[:1].isupper() else ''}{body}?"
    return f"What is {body}?"


def _adds(q: str, out: Sequence[str], skip: set[str]) -> bool:
    """Is `q` a new suggestion: not the question just asked, and not one already made with
    more or fewer words ("What are the benefits?" beside "What are the benefits of BPO?")."""
    if not q or q.lower() in skip:
        return False
    st = set(stems(q))
    for made in out:
        other = set(stems(made))
        if st <= other or other <= st:
            return False
    return True


def suggest(gen: Generation, around: Sequence[Chunk], asked: str = "",
            exclude: Sequence[str] = (), *, include_own: bool = False) -> list[str]:
    """Up to `MAX_SUGGESTIONS` questions on the sections next to `around` (the cited or
    closest chunks, best first) - with `include_own`, on those sections themselves first
    (after a refusal: what the guides do cover) - none of them the question just asked."""
    out: list[str] = []
    skip = {asked.strip().lower(), *(e.strip().lower() for e in exclude)}
    terms = gen.terms

    def name(w: str) -> bool:  # a word the documents write as a name, inside sentences too
        return terms.capitalised(w) and terms.inside.get(w, 0) > 0
    seen_topics: set[str] = set()
    for c in around:
        topic = topic_of(c)
        seen_topics.add(topic.lower())
        q = as_question(topic, name) if include_own else ""
        if _adds(q, out, skip):
            out.append(q)
    if len(out) >= MAX_SUGGESTIONS:
        return out[:MAX_SUGGESTIONS]
    for c in around:
        for d in (1, -1, 2, -2):
            i = c.ordinal + d
            neighbour = gen.chunk_at(c.doc_id, i)
            if neighbour is None:
                continue
            topic = topic_of(neighbour)
            if not topic or topic.lower() in seen_topics:
                continue
            seen_topics.add(topic.lower())
            q = as_question(topic, name)
            if _adds(q, out, skip):
                out.append(q)
            if len(out) >= MAX_SUGGESTIONS:
                return out
    return out[:MAX_SUGGESTIONS]

