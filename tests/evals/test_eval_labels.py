"""Gold labels checked against the corpus before a run (issue 15, item 9): a quote that is not in
the corpus, a doc that does not exist, a string where a boolean belongs, facts that are not
lists of strings - each bad item named, and why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bpo_kb import Settings
from cli import main
from evals import Corpus, DatasetError, read_dataset
from evals.labels import check_labels

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
DOC = "empireonecx-what-is-bpo-2026.txt"
QUOTE = "Offshore labor-intensive work may range from $8-$25 per hour"
GOOD = {"id": "p1", "question": "What does offshore work cost per hour?", "category": "pricing",
        "answerable": True, "must_include": [["$8"]], "sources": [{"doc": DOC, "quote": QUOTE}]}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load(Settings(corpus_dir=CORPUS, data_dir=REPO / "no-such-dir", _env_file=None))


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "message"), [
    ({"sources": [{"doc": DOC, "quote": "Offshore work costs $3 per hour"}]},
     f"field 'sources', source 0: the quote is not in {DOC!r} nor anywhere in the corpus"),
    ({"sources": [{"doc": "flowz-bpo-definitive-guide-2022.txt", "quote": QUOTE}]},
     f"the quote is not in 'flowz-bpo-definitive-guide-2022.txt' but in {DOC!r}; set doc to"),
    ({"sources": [{"doc": "empireonecx-what-is-bpo.txt", "quote": "No such text"}]},
     "doc 'empireonecx-what-is-bpo.txt' is not a document of the corpus"),
    ({"sources": [{"doc": "empireonecx-what-is-bpo.txt", "quote": "No such text"}]},
     f"did you mean {DOC!r}?"),
    ({"sources": [{"doc": "guide.pdf", "quote": QUOTE}]}, f"its quote is in {DOC!r}"),
    ({"answerable": "yes"}, "field 'answerable': must be true or false (a JSON boolean), got "
                            "the string 'yes'"),
    ({"must_include": ["$8", "$25"]}, "field 'must_include': must be a list of facts, each a "
                                      "list of alternative strings"),
    ({"must_include": [["$8", 25]]}, "field 'must_include': fact 0 must be a non-empty list of "
                                     "non-empty alternative strings"),
    ({"sources": {"doc": DOC, "quote": QUOTE}}, "field 'sources': must be a list of {doc, quote}"),
])
def test_a_bad_label_is_named_with_its_item_and_why(tmp_path: Path, corpus: Corpus,
                                                    change: dict[str, Any], message: str) -> None:
    path = _write(tmp_path / "set.jsonl", [GOOD, {**GOOD, "id": "p2", **change}])
    with pytest.raises(DatasetError) as e:
        read_dataset(path, corpus)
    text = str(e.value)
    assert "set.jsonl has 1 invalid item" in text
    assert "line 2, item 'p2'" in text and message in text, text
    assert "item 'p1'" not in text


def test_quotes_match_across_curly_quotes_dashes_and_line_breaks(tmp_path: Path,
                                                                 corpus: Corpus) -> None:
    quote = "Offshore labor\u2013intensive work   may range\nfrom $8-$25 per hour"
    data = read_dataset(_write(tmp_path / "set.jsonl", [
        {**GOOD, "sources": [{"doc": DOC, "quote": quote}]}]), corpus)
    assert data.items[0].sources[0].quote == quote


def test_a_fact_the_corpus_never_states_is_a_warning(tmp_path: Path, corpus: Corpus) -> None:
    data = read_dataset(_write(tmp_path / "set.jsonl", [
        {**GOOD, "must_include": [["$8"], ["$4.99", "five dollars"]]},
        {"id": "p3", "question": "Is BPO good?", "answerable": True}]), corpus)
    assert len(data.items) == 2
    assert any("item 'p1', field 'must_include': no alternative of fact 1 ['$4.99', 'five "
               "dollars'] occurs in the corpus" in w for w in data.warnings), data.warnings
    assert any("item 'p3': answerable, but without facts or sources" in w for w in data.warnings)


def test_documents_of_the_index_count_as_corpus(tmp_path: Path, small_corpus: Path,
                                                embedder: object) -> None:
    from ingest import ingest

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "gamma.md").write_text("# Gamma\n\nGamma outsourcing runs the night shift from "
                                    "Manila.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus, _env_file=None)
    ingest(settings)
    ingest(settings, [extra / "gamma.md"])
    corpus = Corpus.load(settings)
    assert {"alpha.md", "beta.txt"} <= set(corpus.docs)
    gamma = [d for d in corpus.docs if d.endswith("gamma.md")]
    assert gamma and corpus.contains(gamma[0], "runs the night shift from Manila")


def test_check_labels_lists_errors_and_warnings_separately() -> None:
    from evals import Item, Source

    corpus = Corpus.from_texts({"a.txt": "Offshore costs $8-25 per hour."})
    items = [Item(id="x", question="q", category="c", answerable=True, line=4,
                  must_include=(("$8",), ("£3",)),
                  sources=(Source("a.txt", "Offshore costs $8-25"), Source("b.txt", "x")))]
    errors, warnings = check_labels(items, corpus)
    assert errors == ["line 4, item 'x', field 'sources', source 1: doc 'b.txt' is not a "
                      "document of the corpus (corpus: a.txt); did you mean 'a.txt'?"]
    assert len(warnings) == 1 and "fact 1 ['£3']" in warnings[0]


@pytest.fixture
def runner(corpus_settings: Settings, tmp_path: Path) -> tuple[CliRunner, dict[str, str]]:
    data = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    return CliRunner(), {"BPO_KB_DATA_DIR": str(data), "BPO_KB_CORPUS_DIR": str(CORPUS)}


def test_eval_checks_labels_before_loading_the_bot(runner: tuple[CliRunner, dict[str, str]],
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import generate

    def no_bot(*a: Any, **kw: Any) -> None:
        raise AssertionError("the bot was loaded before the labels were checked")

    monkeypatch.setattr(generate, "open_bot", no_bot)
    path = _write(tmp_path / "labels.jsonl", [
        GOOD,
        {**GOOD, "id": "bad-quote", "sources": [{"doc": DOC, "quote": "BPO costs $1 a day"}]},
        {**GOOD, "id": "bad-doc", "sources": [{"doc": "missing.txt", "quote": QUOTE}]},
        {**GOOD, "id": "bad-bool", "answerable": "yes"},
        {**GOOD, "id": "bad-facts", "must_include": ["$8", "$25"]},
    ])
    cli, env = runner
    res = cli.invoke(main, ["eval", str(path)], env=env)
    assert res.exit_code == 1, res.output
    assert "labels.jsonl has 4 invalid items" in res.stderr
    for rid, why in (("bad-quote", "not in"), ("bad-doc", "'missing.txt' is not a document"),
                     ("bad-bool", "got the string 'yes'"),
                     ("bad-facts", "must be a list of facts")):
        line = next(ln for ln in res.stderr.splitlines() if f"item {rid!r}" in ln)
        assert why in line, line


def test_eval_check_only_validates_and_exits(runner: tuple[CliRunner, dict[str, str]]) -> None:
    cli, env = runner
    res = cli.invoke(main, ["eval", str(REPO / "evals" / "datasets" / "dev.jsonl"), "--check"],
                     env=env)
    assert res.exit_code == 0, res.output
    assert "dev.jsonl: 196 valid items (bpo-kb format), labels consistent with the corpus" in \
        res.stdout
