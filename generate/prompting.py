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

__all__ = ["Prompt", "PromptPassage", "build_prompt"]

SYSTEM = (
    "You answer questions about business process outsourcing (BPO) using only the numbered "
    "passages from the guides. Write one to four short sentences in your own words. End every "
    "sentence with the number of the passage that states it, like [1] or [2]. Copy figures "
    "exactly as the passage writes them. Do not add anything the passages do not say; if they "
    "do not answer the question, say that the guides don't cover it."
)
MAX_PASSAGES = 6
MAX_PASSAGE_CHARS = 1200
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
CHAT_CUE = "Answer from the passages only, with the passage number, like [1], after each sentence."


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


def _trim(text: str, limit: int, focus: tuple[int, int] | None) -> str:
    """`text` cut to about `limit` characters at sentence ends, kept around `focus` if given."""
    if len(text) <= limit:
        return text
    spans = list(sentence_spans(text)) or [(0, len(text))]
    start_idx = 0
    if focus is not None:
        for i, (_, b) in enumerate(spans):
            if b > focus[0]:
                start_idx = i
                break
    picked: list[tuple[int, int]] = []
    used = 0
    i = start_idx
    while i < len(spans) and used + (spans[i][1] - spans[i][0]) <= limit:
        picked.append(spans[i])
        used += spans[i][1] - spans[i][0] + 1
        i += 1
    j = start_idx - 1
    while j >= 0 and used + (spans[j][1] - spans[j][0]) <= limit:
        picked.insert(0, spans[j])
        used += spans[j][1] - spans[j][0] + 1
        j -= 1
    if not picked:  # one very long sentence
        a = spans[start_idx][0]
        cut = text[a:a + limit]
        cut = cut[:cut.rfind(" ")] if " " in cut else cut
        return cut + " ..."
    out = text[picked[0][0]:picked[-1][1]]
    return ("... " if picked[0][0] > 0 else "") + out + (" ..." if picked[-1][1] < len(text)
                                                          else "")


def _render_passages(passages: Sequence[PromptPassage]) -> str:
    blocks = []
    for p in passages:
        c = p.hit.chunk
        where = c.section.split(" > ")[-1] if c.section else ""
        head = f"[{p.marker}] {c.title}" + (f" - {where}" if where and where != c.title else "")
        blocks.append(f"{head}\n{p.shown}")
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
                 system: str = SYSTEM) -> Prompt:
    """The grounded prompt for `question`, fitted to `context_tokens` (if known).

    Passages are the retrieved hits in rank order; a long passage is trimmed around the span
    the extractive answer cited. When the prompt is too long, passages are shortened down to
    MIN_PASSAGE_CHARS and then the lowest-ranked ones are dropped (at least one stays).
    """
    focus = {}
    if extractive is not None:
        for c in extractive.citations:
            if c.chunk_id and c.start is not None and c.end is not None:
                focus[c.chunk_id] = (c.start, c.end)
    hist = _history(history)
    chosen = list(hits[:max_passages])
    cap = MAX_PASSAGE_CHARS

    def make(cap: int, chosen: list[Hit]) -> Prompt:
        ps = tuple(PromptPassage(i + 1, h, _trim(h.chunk.text, cap, focus.get(h.chunk.chunk_id)))
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
