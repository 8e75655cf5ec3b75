"""The structure-aware chunker on small hand-made documents and on the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import Chunk, Document, chunk_document, load_document
from ingest.chunking import MAX_CHARS, MAX_TABLE_CHARS
from ingest.loaders import read_manifest

CORPUS = Path(__file__).resolve().parents[2] / "corpus"

# enough words to keep a section above the chunker's small-section merge threshold
FILLER = ("Providers in this market run the work with trained staff, clear service levels "
          "and monthly reports that the client reviews with them. ") * 4


def _doc(text: str, doc_id: str = "guide.txt") -> Document:
    return Document(doc_id=doc_id, title="Test guide", text=text, sha="0" * 32,
                    source=f"/tmp/{doc_id}")


def _chunks(text: str) -> list[Chunk]:
    chunks = chunk_document(_doc(text))
    for c in chunks:  # the invariant every test relies on
        assert c.text[c.prefix:] == text[c.start:c.end], c.chunk_id
    return chunks


def _containing(chunks: list[Chunk], needle: str) -> Chunk:
    found = [c for c in chunks if needle in c.text]
    assert len(found) == 1, f"{needle!r} is in {len(found)} chunks"
    return found[0]


@pytest.fixture(scope="module")
def corpus_docs() -> list[Document]:
    manifest = read_manifest(CORPUS)
    docs = [load_document(p, p.name, manifest=manifest) for p in sorted(CORPUS.glob("*.txt"))]
    assert all(isinstance(d, Document) for d in docs)
    return docs  # type: ignore[return-value]


@pytest.fixture(scope="module")
def corpus_chunks(corpus_docs: list[Document]) -> dict[str, list[Chunk]]:
    return {d.doc_id: chunk_document(d) for d in corpus_docs}


# -- headings ----------------------------------------------------------------------------------
def test_chunker_sets_section_from_plain_line_headings() -> None:
    text = (f"Benefits of offshore teams\n{FILLER}\n\nRisks of offshore teams\n"
            f"Data leaks happen when vendors are careless. {FILLER}\n")
    chunks = _chunks(text)
    assert _containing(chunks, "Data leaks").section == "Risks of offshore teams"
    assert chunks[0].section == "Benefits of offshore teams"
    assert all("Risks" not in c.text for c in chunks if c.section.startswith("Benefits"))


def test_chunker_sets_section_from_numbered_headings() -> None:
    text = (f"1. What is BPO\nBPO means contracting a business function. {FILLER}\n\n"
            f"2. Types of BPO\nOffshore, nearshore and onshore are the types. {FILLER}\n")
    chunks = _chunks(text)
    assert _containing(chunks, "contracting a business function").section == "1. What is BPO"
    assert _containing(chunks, "are the types").section == "2. Types of BPO"


def test_chunker_sets_section_from_markdown_headings_without_hashes() -> None:
    text = (f"# Outsourcing guide\n\n## Costs\n\nOffshore work costs less per hour. {FILLER}\n\n"
            f"## Risks\n\nVendor lock-in is the main risk. {FILLER}\n")
    chunks = _chunks(text)
    costs = _containing(chunks, "costs less per hour")
    risks = _containing(chunks, "Vendor lock-in")
    assert costs.section.endswith("Costs") and "#" not in costs.section
    assert risks.section == "Risks"


def test_small_sections_are_merged_but_keep_their_headings_in_context() -> None:
    text = ("Onshore\nThe provider is in your own country.\n\n"
            "Nearshore\nThe provider is in a neighbouring country.\n")
    chunks = _chunks(text)
    assert len(chunks) == 1
    assert chunks[0].section == "Onshore"
    assert "Nearshore" in chunks[0].context


# -- tables ------------------------------------------------------------------------------------
def _table(n_rows: int) -> str:
    rows = [f"| Country {i} | ${10 + i} per hour | agents speak language number {i} |"
            for i in range(n_rows)]
    return "| Country | Rate | Notes |\n|---|---|---|\n" + "\n".join(rows) + "\n"


def test_small_table_stays_one_chunk_with_its_header() -> None:
    table = _table(5)
    chunks = _chunks("Offshore rates by country\n" + table)
    tables = [c for c in chunks if c.kind == "table"]
    assert len(tables) == 1
    assert tables[0].text.startswith("| Country | Rate | Notes |")
    assert tables[0].text.rstrip("\n") == table.rstrip("\n")
    assert tables[0].section == "Offshore rates by country"


def test_big_table_is_split_into_row_groups_that_each_repeat_the_header() -> None:
    table = _table(40)
    assert len(table) > MAX_TABLE_CHARS
    text = "Offshore rates by country\n" + table
    chunks = [c for c in _chunks(text) if c.kind == "table"]
    assert len(chunks) >= 2
    header = "| Country | Rate | Notes |\n|---|---|---|\n"
    for i, c in enumerate(chunks):
        assert c.text.startswith(header), c.text[:60]
        assert c.section == "Offshore rates by country"
        assert len(c.text) <= MAX_CHARS + 200
        if i == 0:
            assert c.prefix == 0  # the first group is verbatim, header included
        else:
            assert c.prefix == len(header)
            assert c.text[c.prefix:].startswith("| Country ")
    # every row is in exactly one group, in order
    rows = [line for c in chunks for line in c.text[c.prefix:].splitlines()
            if line.startswith("| Country ") and "Rate" not in line]
    assert rows == [f"| Country {i} | ${10 + i} per hour | agents speak language number {i} |"
                    for i in range(40)]


# -- lists -------------------------------------------------------------------------------------
def test_bullet_list_stays_with_its_intro_line() -> None:
    text = (f"Pricing models\n{FILLER}\nThe main services are these:\n"
            "- Customer support at $10 per hour\n- Payroll at $5 per employee\n"
            "- Data entry at $4 per hour\n")
    chunks = _chunks(text)
    lst = _containing(chunks, "Payroll at $5")
    assert lst.kind == "list"
    assert "The main services are these:" in lst.text
    assert "Customer support at $10" in lst.text and "Data entry at $4" in lst.text
    assert "The main services are these:" in lst.context


def test_long_labelled_item_is_split_into_sentences_that_keep_its_label() -> None:
    from ingest.units import MAX_ITEM_CHARS, units_of

    long_item = ("Philippines (offshore): The largest customer service destination, with 1.7M "
                 "employees. Strong English proficiency across the workforce. Strong in voice "
                 "support, healthcare revenue cycle work and insurance back-office operations. "
                 "City hubs are Metro Manila, Cebu and Davao, each with deep talent pools.")
    assert len(long_item) > MAX_ITEM_CHARS
    text = (f"Hubs\n{FILLER}\nThe main hubs are these:\n- {long_item}\n"
            "- India (offshore): Dominant in IT and finance work.\n")
    chunk = _containing(_chunks(text), "Metro Manila")
    units = [u for u in units_of(chunk) if "Philippines" in u.text or "Manila" in u.text
             or "English proficiency" in u.text]
    assert len(units) >= 3, [u.text for u in units]  # one unit per sentence, not one blob
    assert all(u.label == "Philippines (offshore)" for u in units)
    assert all(chunk.text[u.start:u.end] == u.text for u in units)


def test_a_documents_table_of_contents_is_not_an_answer() -> None:
    """"...and cover these topics:" lists the document's sections: its items match a question
    word for word ("How to choose a provider") and answer nothing."""
    from ingest.units import units_of

    text = (f"Intro\n{FILLER}\nIn this post I cover these topics:\n- What outsourcing is\n"
            "- How to choose a provider\n\nThe market grew fast. Providers compete on price:\n"
            "- Offshore teams cost less\n")
    units = {u.text: u for c in _chunks(text) for u in units_of(c)}
    assert units["How to choose a provider"].about_document
    assert units["What outsourcing is"].about_document
    assert not units["Offshore teams cost less"].about_document


# -- FAQ ---------------------------------------------------------------------------------------
def test_faq_answer_stays_in_one_chunk_with_its_question() -> None:
    answer = ("BPO pricing varies by function, geography and engagement model. "
              "Offshore customer support often costs $8 to $15 per hour.")
    text = ("Frequently Asked Questions\n\nWhat is BPO?\n\nBPO is outsourcing business "
            "processes to a third party.\n\nHow much does BPO cost?\n\n" + answer + "\n\n"
            "Second paragraph of the same answer: contracts add set-up fees.\n")
    chunks = _chunks(text)
    cost = _containing(chunks, "How much does BPO cost?")
    assert cost.kind == "faq"
    assert cost.text.startswith("How much does BPO cost?")
    assert answer in cost.text and "set-up fees" in cost.text
    assert cost.section == "Frequently Asked Questions > How much does BPO cost?"
    assert _containing(chunks, "What is BPO?") is not cost


def test_question_without_answer_is_dropped() -> None:
    text = ("Frequently Asked Questions\n\nIs BPO safe? \u25be\n\nWhat is KPO? \u25be\n\n"
            "What is BPO?\n\nBPO is outsourcing business processes to a third party.\n")
    chunks = _chunks(text)
    assert len(chunks) == 1
    assert chunks[0].text.startswith("What is BPO?")
    assert not any("Is BPO safe" in c.text or "KPO" in c.text for c in chunks)


# -- long paragraphs ---------------------------------------------------------------------------
def test_long_paragraph_is_split_at_sentence_boundaries() -> None:
    sentences = [f"Sentence {i} explains one more detail about outsourcing contracts."
                 for i in range(60)]
    text = "Contract details\n" + " ".join(sentences) + "\n"
    chunks = _chunks(text)
    assert len(chunks) >= 3
    for c in chunks:
        assert len(c.text) <= MAX_CHARS
        assert c.text.startswith("Sentence ") and c.text.endswith("contracts.")
    assert " ".join(c.text for c in chunks) == " ".join(sentences)


# -- ids and metadata --------------------------------------------------------------------------
def test_chunk_ids_are_stable_and_unique() -> None:
    text = f"Benefits\n{FILLER}\n\nRisks\n{FILLER}\n"
    first, again = _chunks(text), _chunks(text)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    assert [c.ordinal for c in first] == list(range(len(first)))


def test_chunk_metadata_is_flat_and_chroma_compatible() -> None:
    c = _chunks(f"Benefits\n{FILLER}\n")[0]
    meta = c.metadata()
    assert {"doc_id", "title", "section", "kind", "start", "end", "ordinal", "prefix"} <= set(meta)
    assert all(isinstance(v, str | int | float | bool) for v in meta.values())
    assert meta["doc_id"] == "guide.txt" and meta["title"] == "Test guide"


# -- the real corpus ---------------------------------------------------------------------------
def test_every_corpus_chunk_points_at_its_text_in_the_document(
        corpus_docs: list[Document], corpus_chunks: dict[str, list[Chunk]]) -> None:
    for doc in corpus_docs:
        chunks = corpus_chunks[doc.doc_id]
        assert len(chunks) >= 10, doc.doc_id
        for c in chunks:
            assert 0 <= c.start < c.end <= len(doc.text)
            assert c.text[c.prefix:] == doc.text[c.start:c.end], c.chunk_id
            assert c.doc_id == doc.doc_id and c.title == doc.title
            assert all(isinstance(v, str | int | float | bool) for v in c.metadata().values())
        starts = [c.start for c in chunks]
        assert starts == sorted(starts), f"chunks of {doc.doc_id} are out of order"


def test_corpus_chunks_have_sections_and_bounded_size(
        corpus_chunks: dict[str, list[Chunk]]) -> None:
    chunks = [c for cs in corpus_chunks.values() for c in cs]
    assert all(c.section for c in chunks)
    assert all(len(c.text) <= 2 * MAX_CHARS for c in chunks)
    assert {c.kind for c in chunks} == {"paragraph", "list", "table", "faq"}


def test_corpus_faq_answers_stay_with_their_questions(
        corpus_chunks: dict[str, list[Chunk]]) -> None:
    empire = corpus_chunks["empireonecx-what-is-bpo-2026.txt"]
    bpm = _containing(empire, "What is the difference between BPO and BPM?")
    assert bpm.kind == "faq"
    assert "BPM is the discipline of analyzing, designing, and improving" in bpm.text
    assert bpm.section.endswith("What is the difference between BPO and BPM?")


def test_corpus_tables_keep_their_header_row(corpus_chunks: dict[str, list[Chunk]]) -> None:
    tables = [c for cs in corpus_chunks.values() for c in cs if c.kind == "table"]
    assert len(tables) >= 5
    for t in tables:
        lines = t.text.splitlines()
        assert lines[0].startswith("|") and set(lines[1]) <= set("|-: "), t.chunk_id


def test_corpus_unanswered_faq_questions_are_not_chunks(
        corpus_chunks: dict[str, list[Chunk]]) -> None:
    # the understanding guide keeps its collapsed FAQ accordion ("... ?" lines ending in a
    # triangle, no answer): none of them may become a citable passage
    understanding = corpus_chunks["understanding-bpo-guide-2026.txt"]
    assert not any("\u25be" in c.text for c in understanding)


def test_title_case_headings_do_not_make_a_word_a_name() -> None:
    """A heading capitalises every word ("Market Size & Analyst Coverage"): only prose
    tells a name ("Genpact") from a word ("size")."""
    from ingest.terms import corpus_terms

    text = ("Market Size & Analyst Coverage\n\n"
            "The market grew fast, and Genpact and Accenture grew with it. "
            "Analysts at Genpact disagree on its size.\n")
    terms = corpus_terms(chunk_document(_doc(text)))
    assert terms.capitalised("genpact") and not terms.capitalised("size")
    assert not terms.capitalised("coverage")  # only ever in the heading: no evidence
