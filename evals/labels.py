"""Gold labels checked against the documents, before a run spends time on a wrong answer key.

Errors (the run does not start): a source whose `doc` is not a document of the corpus, a
`quote` that is not in its document (normalised text: quotes, dashes and whitespace never
count). The message says where the quote is when another document holds it, and which
document was probably meant. Warnings (printed, the run goes on): a `must_include` fact none of
whose alternatives the corpus states anywhere - an answer quoting the guides can't contain it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .corpus import Corpus
from .dataset import Item

__all__ = ["check_labels"]

_SHOWN_DOCS = 6


def check_labels(items: Sequence[Item], corpus: Corpus) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the items' gold labels against `corpus`, one line each, naming
    line, item and field."""
    errors: list[str] = []
    warnings: list[str] = []
    docs = corpus.docs
    listed = ", ".join(docs[:_SHOWN_DOCS]) + (f", ... ({len(docs)} in all)"
                                              if len(docs) > _SHOWN_DOCS else "")
    listed = listed or "no documents; check BPO_KB_CORPUS_DIR"
    for it in items:
        where = f"line {it.line}, item {it.id!r}"
        for i, s in enumerate(it.sources):
            field = f"field 'sources', source {i}"
            quote = _clip(s.quote)
            if not corpus.has_doc(s.doc):
                holders = corpus.docs_with(s.quote)
                guess = holders[:1] or corpus.similar_docs(s.doc, 1)
                hint = (f"; its quote is in {holders[0]!r}" if holders else
                        f"; did you mean {guess[0]!r}?" if guess else "")
                errors.append(f"{where}, {field}: doc {s.doc!r} is not a document of the corpus "
                              f"({corpus.origin or 'corpus'}: {listed}){hint}")
            elif not corpus.contains(s.doc, s.quote):
                holders = corpus.docs_with(s.quote)
                if holders:
                    errors.append(f"{where}, {field}: the quote is not in {s.doc!r} but in "
                                  f"{holders[0]!r}; set doc to {holders[0]!r}: {quote}")
                else:
                    errors.append(f"{where}, {field}: the quote is not in {s.doc!r} nor "
                                  f"anywhere in the corpus (gold quotes are copied from a "
                                  f"document, exactly): {quote}")
        if it.extra.get("_invalid"):
            continue  # a rejected row: only its sources are worth checking
        for i, fact in enumerate(it.must_include):
            if not any(corpus.anywhere(a) for a in fact):
                warnings.append(f"{where}, field 'must_include': no alternative of fact {i} "
                                f"{list(fact)} occurs in the corpus; an answer quoting the "
                                "guides cannot contain it")
        if it.answerable and not it.must_include and not it.sources:
            warnings.append(f"{where}: answerable, but without facts or sources it is scored on "
                            "refusal only")
    return errors, warnings


def _clip(text: str, n: int = 90) -> str:
    t = " ".join(text.split())
    return repr(t if len(t) <= n else t[: n - 1] + "\u2026")
