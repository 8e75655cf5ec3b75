"""Concurrent users: several `gradio_client` sessions against a real `bpo-kb serve` get no
errors and exactly the answers the CLI gives (a smaller run of `python -m evals.bench_load`)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from robustness_support import cli_env

from evals.bench_load import cli_references, load_questions, run_load, serve

SESSIONS, PER_SESSION = 5, 10


@pytest.mark.slow
def test_concurrent_sessions_get_no_errors_and_the_clis_answers(index_copy: Any) -> None:
    env = cli_env(index_copy.data_dir)
    questions = load_questions(PER_SESSION)
    refs: dict[str, dict[str, Any]] = {}
    t = threading.Thread(target=lambda: refs.update(cli_references(questions, env, check_ask=1)))
    t.start()  # the CLI's answers are computed while the server starts
    with serve(env) as url:
        t.join()
        assert set(refs) == {q.id for q in questions}
        result = run_load(url, questions, sessions=SESSIONS, per_session=PER_SESSION,
                          expected=lambda q: refs[q.id])
    summary = result.summary()
    print(summary)
    assert result.errors == []
    assert result.mismatches == []
    assert summary["calls"] == SESSIONS * PER_SESSION
    assert summary["p95_ms"] > 0 and summary["throughput_per_s"] > 0
