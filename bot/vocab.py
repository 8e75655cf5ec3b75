"""The corpus's vocabulary: acronyms and synonyms the documents cannot teach the bot.

Data, not code: it is read from a TOML file beside the corpus (`corpus/vocab.toml`, or
`Settings.vocab` names another, or "none"), merged with the acronyms the documents spell out
themselves ("Knowledge Process Outsourcing (KPO)", found at ingest). Everything that uses it
works with an empty vocabulary - a user's own corpus starts with none.

    [acronyms]
    kpo = "knowledge process outsourcing"
    [synonyms]
    groups = [["cost", "price", "fee"], ["risk", "downside", "pitfall"]]
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from bpo_kb import ConfigError
from ingest.text import stem, stems

__all__ = ["EVERYDAY_ZIPF", "Vocabulary", "everyday_word"]

EVERYDAY_ZIPF = 4.5
"""A word English uses at least this often (Zipf scale: 4.5 = ~30 per million words) is an
everyday word ("it", "bot", "pro"), not a term of the trade, unless written in capitals."""


@lru_cache(maxsize=50_000)
def everyday_word(word: str) -> bool:
    """Is `word` (lower-case) common in English at large (wordfreq's bundled lists)?"""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= EVERYDAY_ZIPF

_KEY = re.compile(r"^[a-z0-9][a-z0-9&/.-]{0,15}$")


@dataclass(frozen=True)
class Vocabulary:
    """Acronyms (short -> long, lower-case) and synonym groups of one corpus."""

    acronyms: Mapping[str, str] = field(default_factory=dict)
    """Lower-case short form -> lower-case long form ("kpo" -> "knowledge process
    outsourcing")."""
    synonyms: tuple[frozenset[str], ...] = ()
    """Groups of stems that mean the same thing ({"cost", "price", "fee"...})."""
    source: str = ""
    """Where it was read from ("" for none), for messages."""
    subject: str = ""
    """What the documents are about, in words ("business process outsourcing (BPO)"):
    `[corpus] subject`, told to a language model; "" for none."""

    @classmethod
    def empty(cls) -> Vocabulary:
        return cls()

    @classmethod
    def load(cls, path: Path | None, found: Mapping[str, str] | None = None) -> Vocabulary:
        """The vocabulary in `path` (None or a missing default file: none) plus the acronyms
        `found` in the documents (the file wins where both define one)."""
        acronyms: dict[str, str] = {k.lower(): v.lower() for k, v in (found or {}).items()}
        groups: list[frozenset[str]] = []
        subject = ""
        if path is not None and path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"Cannot read the vocabulary file {str(path)!r} ({e}); fix "
                                  "its TOML, or set BPO_KB_VOCAB=none to use no vocabulary"
                                  ) from e
            for key, value in dict(data.get("acronyms", {})).items():
                if not isinstance(value, str) or not _KEY.match(key.lower()):
                    raise ConfigError(f"{path}: acronym {key!r} = {value!r} must be a short "
                                      "lower-case key and a text, e.g. kpo = \"knowledge "
                                      "process outsourcing\"")
                acronyms[key.lower()] = value.lower()
            for group in dict(data.get("synonyms", {})).get("groups", []):
                if not isinstance(group, list) or not all(isinstance(w, str) for w in group):
                    raise ConfigError(f"{path}: synonyms.groups must be lists of words, got "
                                      f"{group!r}")
                g = frozenset(s for w in group for s in stems(w))
                if len(g) > 1:
                    groups.append(g)
            subject = dict(data.get("corpus", {})).get("subject", "")
            if not isinstance(subject, str):
                raise ConfigError(f"{path}: corpus.subject = {subject!r} must be a text, e.g. "
                                  "subject = \"business process outsourcing (BPO)\"")
        return cls(acronyms, tuple(groups), str(path) if path and path.is_file() else "",
                   " ".join(subject.split()))

    # -- lookups -------------------------------------------------------------------------
    @cached_property
    def _group_of(self) -> dict[str, frozenset[str]]:
        out: dict[str, frozenset[str]] = {}
        for g in self.synonyms:
            for s in g:
                out[s] = out.get(s, frozenset()) | g
        return out

    @cached_property
    def _expansion_stems(self) -> dict[str, tuple[str, ...]]:
        return {stem(k): tuple(stems(v)) for k, v in self.acronyms.items() if stems(v)}

    @cached_property
    def _by_long_form(self) -> list[tuple[str, str]]:
        return sorted(((v, k) for k, v in self.acronyms.items()), key=lambda kv: -len(kv[0]))

    def synonyms_of(self, s: str) -> frozenset[str]:
        """The stems that mean what stem `s` means (itself included)."""
        return self._group_of.get(s, frozenset((s,)))

    @cached_property
    def _long_by_first(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for short, long in self._expansion_stems.items():
            out.setdefault(long[0], []).append((short, long))
        return out

    @cached_property
    def _memo(self) -> dict[frozenset[str], frozenset[str]]:
        return {}

    def widen(self, bag: Iterable[str]) -> frozenset[str]:
        """A bag of stems plus their synonyms, the short forms of the long forms in it
        ("knowledg process outsourc" -> also "kpo") and the long forms of its short forms
        (memoised: units are widened for every question)."""
        key = bag if isinstance(bag, frozenset) else frozenset(bag)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        out = set(key)
        for s in key:
            g = self._group_of.get(s)
            if g:
                out |= g
            long = self._expansion_stems.get(s)
            if long:
                out.update(long)
        for s in list(out):
            for short, long in self._long_by_first.get(s, ()):
                if all(p in out for p in long):
                    out.add(short)
        result = frozenset(out)
        if len(self._memo) < 200_000:
            self._memo[key] = result
        return result

    def expansion(self, short: str) -> str:
        """The long form of a short form ("" when unknown)."""
        return self.acronyms.get(short.lower(), "")

    def expansions_in(self, text: str) -> list[str]:
        """The other form of every acronym or long form in `text`, in order of appearance:
        long forms of its short forms, short forms (upper-case) of its long forms. A short
        form that is also an everyday word ("it", "bot", "ai") counts only in capitals."""
        low = text.lower()
        out: list[str] = []
        for tok in dict.fromkeys(re.findall(r"[A-Za-z][A-Za-z&]*", text)):
            long = self.acronyms.get(tok.lower())
            if not long or long in low or long in out:
                continue
            if tok.isupper() or (tok[:-1].isupper() and tok.endswith("s")) or \
                    not everyday_word(tok.lower()):
                out.append(long)
        for long, short in self._by_long_form:
            if long in low and not re.search(rf"\b{re.escape(short)}\b", low) \
                    and short.upper() not in out:
                out.append(short.upper())
        return out
