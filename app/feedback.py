"""Feedback on answers: a small SQLite store, draft eval items, and content-gap grouping.

The UI records a row when a user rates an answer (👍/👎, with an optional reason) and, with no
rating, every refusal, so a business owner can see what the guides don't cover:

    feedback(id, created, updated, question, history JSON, answer, citations JSON, backend,
             abstained, retrieval_query, rating 1/-1/NULL, reason)

`draft_eval_items` turns 👎 rows into eval items for an evaluator to complete, and
`content_gaps` groups refused and 👎 questions by meaning (embedding + threshold clustering).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bpo_kb import BpoKbError
from ingest import Embedder

__all__ = ["FeedbackItem", "FeedbackStore", "Gap", "content_gaps", "draft_eval_items",
           "group_similar"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    question TEXT NOT NULL,
    history TEXT NOT NULL DEFAULT '[]',
    answer TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    backend TEXT NOT NULL DEFAULT '',
    abstained INTEGER NOT NULL DEFAULT 0,
    retrieval_query TEXT NOT NULL DEFAULT '',
    rating INTEGER,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS feedback_rating ON feedback(rating);
"""
_KEEP: Any = object()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class FeedbackItem:
    """One stored row."""

    id: int
    created: str
    """UTC time the row was written (ISO 8601)."""
    updated: str
    """UTC time of the last rating or reason change."""
    question: str
    history: list[dict[str, str]]
    """Earlier turns of the conversation, as given to the bot."""
    answer: str
    """The answer text shown (with its [n] markers)."""
    citations: list[dict[str, Any]]
    """The citations shown, as in `Answer.to_dict()`."""
    backend: str
    abstained: bool
    retrieval_query: str
    rating: int | None
    """1 for 👍, -1 for 👎, None when not rated (a refusal recorded for the gap report)."""
    reason: str | None


class FeedbackStore:
    """Thumbs up/down in a SQLite file. Safe to share between threads (one connection per call)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=10)
            if not self._ready:
                with self._lock:
                    con.executescript(_SCHEMA)
                    self._ready = True
        except (OSError, sqlite3.Error) as e:
            raise BpoKbError(f"Cannot open the feedback database {str(self.path)!r} ({e}); "
                             "check that BPO_KB_DATA_DIR is writable") from e
        con.row_factory = sqlite3.Row
        return con

    def record(self, answer: dict[str, Any], history: Sequence[dict[str, str]] = (), *,
               rating: int | None = None, reason: str | None = None) -> int:
        """Store an answer (an `Answer.to_dict()`) with an optional rating; returns the row id."""
        now = _now()
        with closing(self._connect()) as con, con:
            cur = con.execute(
                "INSERT INTO feedback (created, updated, question, history, answer, citations,"
                " backend, abstained, retrieval_query, rating, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now, now, str(answer.get("question", "")),
                 json.dumps(list(history), ensure_ascii=False), str(answer.get("answer", "")),
                 json.dumps(answer.get("citations") or [], ensure_ascii=False),
                 str(answer.get("backend", "")), int(bool(answer.get("abstained"))),
                 str(answer.get("retrieval_query", "")), _rating(rating), _reason(reason)))
            return int(cur.lastrowid or 0)

    def rate(self, item_id: int, rating: int | None, reason: str | None = _KEEP) -> None:
        """Set (or clear, with None) the rating of a row; the reason too when given."""
        sets, args = ["rating = ?", "updated = ?"], [_rating(rating), _now()]
        if reason is not _KEEP:
            sets.append("reason = ?")
            args.append(_reason(reason))
        with closing(self._connect()) as con, con:
            con.execute(f"UPDATE feedback SET {', '.join(sets)} WHERE id = ?", (*args, item_id))

    def set_reason(self, item_id: int, reason: str | None) -> None:
        """Attach the user's reason (free text, trimmed) to a row."""
        with closing(self._connect()) as con, con:
            con.execute("UPDATE feedback SET reason = ?, updated = ? WHERE id = ?",
                        (_reason(reason), _now(), item_id))

    def get(self, item_id: int) -> FeedbackItem | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM feedback WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    def items(self, *, rating: int | None = None, disliked_or_refused: bool = False
              ) -> list[FeedbackItem]:
        """Rows, oldest first; filtered by rating, or the content-gap rows (👎 or refused)."""
        sql, args = "SELECT * FROM feedback", []
        if disliked_or_refused:
            sql += " WHERE rating = -1 OR (abstained = 1 AND (rating IS NULL OR rating < 1))"
        elif rating is not None:
            sql += " WHERE rating = ?"
            args.append(rating)
        if not self.path.exists():
            return []
        with closing(self._connect()) as con:
            rows = con.execute(sql + " ORDER BY id", args).fetchall()
        return [_item(r) for r in rows]


def _rating(rating: int | None) -> int | None:
    if rating is None:
        return None
    if rating not in (1, -1):
        raise ValueError(f"rating must be 1 (👍), -1 (👎) or None, got {rating!r}")
    return rating


def _reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = " ".join(str(reason).split())[:2000]
    return reason or None


def _item(row: sqlite3.Row) -> FeedbackItem:
    return FeedbackItem(
        id=row["id"], created=row["created"], updated=row["updated"], question=row["question"],
        history=_json_list(row["history"]), answer=row["answer"],
        citations=_json_list(row["citations"]), backend=row["backend"],
        abstained=bool(row["abstained"]), retrieval_query=row["retrieval_query"],
        rating=row["rating"], reason=row["reason"])


def _json_list(text: str) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


# -- exports ----------------------------------------------------------------------------------
def draft_eval_items(items: Sequence[FeedbackItem]) -> list[dict[str, Any]]:
    """👎 rows as draft eval items: the evaluator fills `answerable`, `must_include`, `sources`.

    Follows evals/datasets/FORMAT.md; the extra fields (`answer_given`, `feedback`) are kept
    and ignored by the eval runner.
    """
    drafts = []
    for it in items:
        if it.rating != -1:
            continue
        draft: dict[str, Any] = {
            "id": f"fb-{it.id:04d}",
            "question": it.question,
            "category": "feedback",
            "answerable": None,
            "must_include": [],
            "sources": [],
        }
        if it.history:
            draft["history"] = it.history
        draft["answer_given"] = it.answer
        draft["feedback"] = {
            "reason": it.reason, "time": it.created, "backend": it.backend,
            "abstained": it.abstained, "retrieval_query": it.retrieval_query,
            "cited": [{"doc": c.get("doc"), "section": c.get("section")} for c in it.citations],
        }
        drafts.append(draft)
    return drafts


@dataclass
class Gap:
    """A group of similar refused or 👎 questions: one topic the guides may be missing."""

    questions: list[str] = field(default_factory=list)
    """The distinct questions in the group, most frequent first."""
    asked: int = 0
    """Rows in the group (a question asked twice counts twice)."""
    refused: int = 0
    disliked: int = 0
    reasons: list[str] = field(default_factory=list)
    """The 👎 reasons users gave."""

    def to_dict(self) -> dict[str, Any]:
        return {"questions": self.questions, "asked": self.asked, "refused": self.refused,
                "disliked": self.disliked, "reasons": self.reasons}


def group_similar(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy threshold clustering: each vector joins the first group whose centroid has a
    cosine similarity >= `threshold`, else starts a new group. Returns index lists, in order."""
    groups: list[list[int]] = []
    sums: list[np.ndarray] = []
    if len(vectors) == 0:
        return groups
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    for i, v in enumerate(unit):
        best, best_sim = -1, threshold
        for g, s in enumerate(sums):
            sim = float(v @ (s / (np.linalg.norm(s) or 1.0)))
            if sim >= best_sim:
                best, best_sim = g, sim
        if best < 0:
            groups.append([i])
            sums.append(v.copy())
        else:
            groups[best].append(i)
            sums[best] += v
    return groups


def content_gaps(items: Sequence[FeedbackItem], embedder: Embedder,
                 threshold: float = 0.7) -> list[Gap]:
    """Refused and 👎 questions grouped by similarity, biggest group first."""
    rows = [it for it in items if it.rating == -1 or (it.abstained and (it.rating or 0) < 1)]
    if not rows:
        return []
    vecs = np.asarray(embedder.embed_documents([r.question for r in rows]), dtype=np.float32)
    gaps = []
    for idx in group_similar(vecs, threshold):
        gap = Gap()
        counts: dict[str, int] = {}
        for i in idx:
            r = rows[i]
            counts[r.question] = counts.get(r.question, 0) + 1
            gap.asked += 1
            gap.refused += int(r.abstained)
            gap.disliked += int(r.rating == -1)
            if r.reason and r.reason not in gap.reasons:
                gap.reasons.append(r.reason)
        gap.questions = sorted(counts, key=lambda q: -counts[q])
        gaps.append(gap)
    gaps.sort(key=lambda g: (-g.asked, g.questions[0].lower()))
    return gaps
