"""The scale benchmark (`python -m evals.bench_scale`, `make bench`) runs end to end; here at a
tiny size so it cannot rot. Its real numbers come from the full run on a quiet machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.bench_scale import main, synthetic_chunks


@pytest.mark.slow
def test_scale_benchmark_runs_end_to_end_at_a_small_size(tmp_path: Path, embedder: object,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    out = tmp_path / "scale.json"
    code = main(["--sizes", "200", "--embed-sample", "20", "--no-unit-embedding", "--queries",
                 "3", "--json", str(out), "--workdir", str(tmp_path / "work")])
    assert code == 0
    res = json.loads(out.read_text())
    row = res["embedded"][0]
    assert row["chunks"] == 200 and row["units"] > 200
    assert row["index_write_chunks_per_s"] > 0 and row["disk_mb"] > 0
    assert row["queries"] == 3 and 0 < row["ask_ms"]["p50"] <= row["ask_ms"]["p95"]
    assert row["rss_after_queries_mb"] > row["rss_base_mb"] > 0
    assert "| embedded | 200 |" in capsys.readouterr().out


def test_synthetic_chunks_are_distinct_and_mostly_not_near_duplicates() -> None:
    from bpo_kb import Settings
    from evals.bench_scale import seed_chunks
    from ingest.dedup import collapse_near_duplicates

    seeds = seed_chunks(Settings(_env_file=None))
    chunks, origin = synthetic_chunks(seeds, 1000)
    assert len({c.chunk_id for c in chunks}) == len({c.text for c in chunks}) == 1000
    assert {c.kind for c in chunks} == {c.kind for c in seeds}
    _, dropped = collapse_near_duplicates(chunks)
    assert len(dropped) < 50, f"{len(dropped)} of 1000 synthetic chunks are near-duplicates"
