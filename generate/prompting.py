"""The grounded prompt: numbered passages, the conversation so far, the question.

Two renderings of the same content: chat messages (system + user) for chat models and
OpenAI-compatible servers, and one completion string for base models without a chat template
(Gemma 270M). Passages are trimmed, then dropped from the least relevant end, until the prompt
fits the model's context with room for the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot import Answer, Hit, Turn
from ingest.text import sentence_spans

from .verify import Passage

__all__ = ["Prompt", "PromptPassage", "answer_spans", "build_prompt", "system_prompt"]

SYSTEM_TEMPLATE = (
    "You answer questions{about} using only the numbered "
    "passages from the guides. Answer in at most 120 words, in one to four sentences. Put the "
    "number of the passage that states it after every sentence, like [1] or [2]. Copy names "
    "and figures exactly as the passage writes them. Add nothing the passages do not say. "
    "Only if no passage says anything that answers the question, reply: The guides don't "
    "cover this."
)
"""The system message: the same for every question, so llama.cpp re-uses its evaluated tokens
(only the passages and the question are new work before the first answer token). `{about}`
names the documents' subject (`system_prompt`)."""


def system_prompt(subject: str = "") -> str:
    """The system message for documents about `subject` (the vocabulary file's
    `[corpus] subject`; none: no subject is named, for a user's own documents)."""
    return SYSTEM_TEMPLATE.format(about=f" about {subject}" if subject else "")


SYSTEM = system_prompt()
MAX_PASSAGES = 6
MAX_PASSAGE_CHARS = 1200
"""Longest passage shown by default; a backend's `passage_chars` can ask for less."""
MIN_PASSAGE_CHARS = 280
CHARS_PER_TOKEN = 3.0
"""Conservative estimate used when the backend cannot count tokens itself."""
ANSWER_CUE = "Answer:"
EXAMPLE = (
    "Passages:\n\n[1] Example guide - Pricing\nOffshore support agents cost $10 per hour.\n\n"
    "[2] Example guide - Terms\nA KPI is a key performance indicator.\n\n"
    "Question: What does KPI mean?\nAnswer: A KPI is a key performance indicator [2]."
)
"""A one-shot example for base models (completion prompts): the answer format to imitate."""
CHAT_CUE = ("Answer from the passages only, in at most 120 words, with the passage number, "
            "like [1], after each sentence.")


@dataclass(frozen=True)
class PromptPassage:
    """A passage as numbered in the prompt, and the hit it came from."""

    marker: int
    hit: Hit
    shown: str
    """The (possibly trimmed) text the model sees."""

    def as_passage(self) -> Passage:
        """The verifier's view: the whole chunk (support anywhere in it counts)."""
        c = self.hit.chunk
        return Passage(self.marker, c.text, f"{c.title}\n{c.section}")


@dataclass(frozen=True)
class Prompt:
    """One grounded prompt in both renderings."""

    system: str
    history: tuple[Turn, ...]
    user: str
    """Passages, then the question (the last chat message)."""
    completion: str
    """Everything as one string for base models, ending with the answer cue."""
    passages: tuple[PromptPassage, ...]

    def messages(self) -> list[tuple[str, str]]:
        """(role, content) pairs: system, earlier turns, the user message."""
        out = [("system", self.system)]
        out += [(t.role if t.role in ("user", "assistant") else "user", t.content)
                for t in self.history]
        out.append(("user", self.user))
        return out

    def chars(self) -> int:
        return len(self.system) + sum(len(t.content) for t in self.history) + len(self.user)


def _is_label(text: str, span: tuple[int, int]) -> bool:
    """A short line without end punctuation: a heading or a bullet's label."""
    piece = text[span[0]:span[1]].strip()
    return 0 < len(piece) <= 80 and piece[-1:] not in ".!?" and \
        (span[0] == 0 or text[span[0] - 1] == "\n")


def _trim(text: str, limit: int, focus: Sequence[tuple[int, int]] = ()) -> str:
    """`text` cut to about `limit` characters at sentence ends, kept around `focus` (spans,
    most important first): the sentences of each focus span while they fit (the first always),
    each with the heading line just above it, then the sentences after the last one (up to the
    next heading), then those before the first. Gaps are shown as "..."."""
    if len(text) <= limit:
        return text
    spans = list(sentence_spans(text)) or [(0, len(text))]

    def size(i: int) -> int:
        return spans[i][1] - spans[i][0] + 1

    picked: set[int] = set()
    used = 0
    for fa, fb in focus or [(0, 1)]:
        idx = [i for i, (a, b) in enumerate(spans) if a < max(fb, fa + 1) and b > fa]
        if not idx:
            continue
        if idx[0] > 0 and _is_label(text, spans[idx[0] - 1]):
            idx.insert(0, idx[0] - 1)
        new = [i for i in idx if i not in picked]
        need = sum(size(i) for i in new)
        if picked and used + need > limit:
            continue
        picked.update(new)
        used += need
    if not picked:
        picked, used = {0}, size(0)
    if used > limit and len(picked) == 1:  # one very long sentence
        a = spans[min(picked)][0]
        cut = text[a:a + limit]
        cut = cut[:cut.rfind(" ")] if " " in cut else cut
        return ("... " if a > 0 else "") + cut + " ..."
    for i in range(max(picked) + 1, len(spans)):  # after: up to the next heading
        if used + size(i) > limit or _is_label(text, spans[i]):
            break
        picked.add(i)
        used += size(i)
    for i in range(min(picked) - 1, -1, -1):  # before: back to (and with) a heading
        if used + size(i) > limit or _is_label(text, spans[i + 1]):
            break
        picked.add(i)
        used += size(i)
    order = sorted(picked)
    out = "... " if spans[order[0]][0] > 0 else ""
    for n, i in enumerate(order):
        if n and i != order[n - 1] + 1:
            out += " ... "
        elif n:
            out += text[spans[i - 1][1]:spans[i][0]]
        out += text[spans[i][0]:spans[i][1]]
    return out + (" ..." if spans[order[-1]][1] < len(text) else "")


def answer_spans(extractive: Answer) -> dict[str, list[tuple[int, int]]]:
    """For each passage the extractive answer cites (by chunk id, in the answer's order): the
    spans of the sentences it took from it, in the answer's order."""
    from .claims import split_claims

    by_marker = {c.marker: c for c in extractive.citations if c.chunk_id}
    out: dict[str, list[tuple[int, int]]] = {}
    for claim in split_claims(extractive.answer):
        for n in claim.cited:
            c = by_marker.get(n)
            if c is None:
                continue
            got = out.setdefault(c.chunk_id, [])
            said = _squash(claim.text)
            found = [(a, b) for a, b in sentence_spans(c.text)
                     if len(_squash(c.text[a:b])) >= 12 and _squash(c.text[a:b]) in said]
            for span in found or ([(c.start, c.end)] if c.start is not None and
                                  c.end is not None else []):
                if span not in got:
                    got.append(span)
    return out


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9$%]+", " ", text.lower()).strip()


def _render_passages(passages: Sequence[PromptPassage]) -> str:
    blocks = []
    for p in passages:
        c = p.hit.chunk
        where = c.section.split(" > ")[-1] if c.section else ""
        # the section says what the passage is about in fewer tokens than the document title
        head = f"[{p.marker}] {where or c.title}"
        shown = p.shown
        if where and shown.startswith(where):  # a passage opening with its own heading
            shown = shown[len(where):].lstrip(" :\n")
        blocks.append(f"{head}\n{shown}")
    return "\n\n".join(blocks)


def _history(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    out = []
    for t in list(turns)[-4:]:
        text = re.sub(r"\s+", " ", t.content).strip()
        if text:
            out.append(Turn(role=t.role, content=text[:400]))
    return tuple(out)


def _render(question: str, history: tuple[Turn, ...], passages: Sequence[PromptPassage],
            system: str) -> tuple[str, str]:
    body = _render_passages(passages)
    user = f"Passages:\n\n{body}\n\nQuestion: {question}\n\n{CHAT_CUE}"
    convo = ""
    if history:
        convo = "Conversation so far:\n" + "\n".join(
            f"{'User' if t.role == 'user' else 'Assistant'}: {t.content}" for t in history) + "\n\n"
    completion = (f"{system}\n\n{EXAMPLE}\n\nPassages:\n\n{body}\n\n{convo}"
                  f"Question: {question}\n{ANSWER_CUE}")
    return user, completion


def build_prompt(question: str, history: Sequence[Turn], hits: Sequence[Hit],
                 extractive: Answer | None = None, *, context_tokens: int | None = None,
                 max_tokens: int = 256, count_tokens: Callable[[str], int] | None = None,
                 completion: bool = False, max_passages: int = MAX_PASSAGES,
                 passage_chars: int = MAX_PASSAGE_CHARS, system: str = SYSTEM) -> Prompt:
    """The grounded prompt for `question`, fitted to `context_tokens` (if known).

    Passages are the ones the extractive answer cited (in its order: they hold the answer
    spans), then the other retrieved hits in rank order, at most `max_passages`; a passage
    longer than `passage_chars` is trimmed around the spans the extractive answer took from
    it. When the prompt is too long, passages are shortened down to MIN_PASSAGE_CHARS and
    then the last ones are dropped (at least one stays).
    """
    focus = answer_spans(extractive) if extractive is not None else {}
    hist = _history(history)
    by_id = {h.chunk.chunk_id: h for h in hits}
    order = [by_id[cid] for cid in focus if cid in by_id]
    order += [h for h in hits if h.chunk.chunk_id not in focus]
    chosen = order[:max_passages]
    cap = min(MAX_PASSAGE_CHARS, passage_chars)

    def make(cap: int, chosen: list[Hit]) -> Prompt:
        ps = tuple(PromptPassage(i + 1, h, _trim(h.chunk.text, cap, focus.get(h.chunk.chunk_id, ())))
                   for i, h in enumerate(chosen))
        user, comp = _render(question, hist, ps, system)
        return Prompt(system, hist, user, comp, ps)

    def size(p: Prompt) -> int:
        text = p.completion if completion else "\n".join(c for _, c in p.messages())
        if count_tokens is not None:
            return count_tokens(text) + 8 * (len(p.history) + 2)
        return int(len(text) / CHARS_PER_TOKEN) + 8 * (len(p.history) + 2)

    prompt = make(cap, chosen)
    if context_tokens is None:
        return prompt
    limit = context_tokens - max_tokens - 16
    while size(prompt) > limit:
        if cap > MIN_PASSAGE_CHARS:
            cap = max(MIN_PASSAGE_CHARS, int(cap * 0.7))
        elif len(chosen) > 1:
            chosen = chosen[:-1]
        else:
            break  # one short passage still does not fit: the backend reports the overflow
        prompt = make(cap, chosen)
    return prompt
