"""Word-piece vectors (ingest/tokens.py): stored per generation, reused, matched word by word."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from bpo_kb import Settings
from ingest import ingest
from ingest.index import Generation, IndexFiles, current_generation
from ingest.ingestion import index_is_usable
from ingest.tokens import Projection, TokenArrays, TokenVectors, encode, heading_text
from ingest.units import units_of


def _live(s: Settings) -> Generation:
    return Generation.open_current(s.index_dir)


def test_every_unit_and_heading_has_its_word_pieces(corpus_settings: Settings) -> None:
    gen = _live(corpus_settings)
    tok = gen.tokens
    n_units = len(gen.unit_vectors)
    assert len(tok.offsets) == n_units + len(gen.chunks) + 1
    assert tok.vectors.dtype == np.int8 and tok.vectors.shape[1] == 64  # the bundled PCA
    c = next(c for c in gen.chunks if heading_text(c))
    i = gen.by_id[c.chunk_id]
    group = tok.heading_group(i)
    assert tok.offsets[group + 1] > tok.offsets[group]  # the heading's own word-pieces
    first_unit = int(gen.unit_offsets[i])
    assert tok.offsets[first_unit + 1] > tok.offsets[first_unit]


def test_query_word_pieces_match_the_documents(embedder: object) -> None:
    """A question's word-pieces (ONNX or torch) are the ones a document of the same text gets."""
    text = "What does a nearshore contact centre charge per hour?"
    ids, vecs, pieces = embedder.embed_query_tokens(text)  # type: ignore[attr-defined]
    [(doc_ids, doc_vecs)] = embedder.embed_tokens([text])  # type: ignore[attr-defined]
    assert list(ids) == list(doc_ids) and len(pieces) == len(ids)
    assert "[CLS]" not in pieces and "[SEP]" not in pieces
    assert float(np.abs(vecs - doc_vecs).max()) < 1e-4


def test_token_recall_rewards_the_unit_that_says_each_thing_asked(embedder: object) -> None:
    units = ["Many countries are trying to break into the call centre business.",
             "A provider gives you a presence in a foreign market without setting up a local "
             "branch."]
    proj = Projection.for_model(Settings(_env_file=None).embedder, 384)
    groups = encode(embedder, units, proj)
    arrays = TokenArrays.from_groups(groups, len(units), groups[0][1].shape[1])
    tv = TokenVectors(arrays.vectors, arrays.offsets, arrays.df, len(units), proj, arrays.ids)
    q = tv.query(*embedder.embed_query_tokens(  # type: ignore[attr-defined]
        "Can an outsourcer let us sell abroad with no office there?"))
    off_point, on_point = tv.recall(q, [0, 1])
    assert on_point > off_point
    assert list(tv.recall(tv.query(np.zeros(0, np.int32), np.zeros((0, 384)), []), [0, 1])) \
        == [0.0, 0.0]


def test_a_changed_document_reuses_the_other_units_word_pieces(
        small_corpus: Path, tmp_path: Path, embedder: object) -> None:
    s = Settings(data_dir=tmp_path / "data", corpus_dir=small_corpus, _env_file=None)
    first = ingest(s)
    gen = _live(s)
    total = len(gen.tokens.offsets) - 1
    assert first.embedded_word_pieces > 0
    doc = small_corpus / "beta.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\nA new closing sentence about costs.\n",
                   encoding="utf-8")
    second = ingest(s)
    assert 0 < second.embedded_word_pieces < total
    new = _live(s)
    texts = [u.text for c in new.chunks for u in units_of(c)]
    old_texts = [u.text for c in gen.chunks for u in units_of(c)]
    t = next(t for t in texts if t in old_texts and "Data leaks" in t)
    a, b = new.tokens.offsets[texts.index(t)], new.tokens.offsets[texts.index(t) + 1]
    c, d = gen.tokens.offsets[old_texts.index(t)], gen.tokens.offsets[old_texts.index(t) + 1]
    assert np.array_equal(new.tokens.vectors[a:b], gen.tokens.vectors[c:d])


def test_an_index_of_the_older_format_is_rebuilt(corpus_settings: Settings,
                                                 tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(corpus_settings.data_dir, data)
    s = Settings(data_dir=data, corpus_dir=corpus_settings.corpus_dir, _env_file=None)
    files = IndexFiles(s.index_dir / str(current_generation(s.index_dir)))
    manifest = json.loads(files.manifest.read_text(encoding="utf-8"))
    files.manifest.write_text(json.dumps({**manifest, "format": 2}), encoding="utf-8")
    assert not index_is_usable(s)  # so `ask`/`serve` re-ingest first
    report = ingest(s)
    assert report.embedded == len(_live(s).chunks)
    assert index_is_usable(s)
