"""Answer spans that open with a pronoun are stored with the referent named, the original kept (issue 16)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from taxolab.sdg.blocks import BlockContext, build_block
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.referents import (
    Subject,
    answer_spans,
    chunk_subjects,
    document_subject,
    resolve_sentences,
)
from taxolab.sdg.spans import document_spans, split_sentences

CHICKADEE = (
    "# Black-capped chickadee\n\n"
    'The **black-capped chickadee** (*Poecile atricapillus*) is a small [songbird](songbird "wikilink") of North '
    "America. It has a white belly, buff sides and grey wings. Its song is a clear, whistled fee-bee in spring.\n\n"
    "It caches seeds and insects in bark for the winter months ahead.\n"
)


def resolved(text: str, subject: Subject | None = None) -> list[str]:
    return resolve_sentences([split_sentences(text)], subject)[0]


def test_the_documents_subject_is_its_title_as_the_text_writes_it() -> None:
    assert document_subject(CHICKADEE) == Subject("the black-capped chickadee")
    assert document_subject("# Phoenix (constellation)\n\n**Phoenix** is a minor constellation.") == Subject("Phoenix")
    assert document_subject("# Lapis lazuli\n\nLapis lazuli, or lapis for short, is a rock.") == Subject("Lapis lazuli")
    assert document_subject("# Swifties\n\nSwifties are the fans of a singer.") == Subject("Swifties", plural=True)
    assert document_subject("# Black-capped chickadee\n\nA small bird.") is None  # the text never names it
    outline = "Information about the black capped chickadee including distribution, appearance"
    assert document_subject("The black-capped chickadee is small.", outline) == Subject("the black-capped chickadee")
    # later chunks of a document take its title's subject; the outline's where no title came before
    chunks = ["A black-capped chickadee flock.", CHICKADEE, "It nests in holes in trees, often in birch or alder."]
    assert chunk_subjects(chunks, outline) == [Subject("the black-capped chickadee")] * 3


def test_spans_name_the_referent_and_keep_the_original() -> None:
    spans = answer_spans(CHICKADEE, document_subject(CHICKADEE))
    assert [span.original for span in spans] == document_spans(CHICKADEE)
    assert [span.answer for span in spans] == [
        "The black-capped chickadee (Poecile atricapillus) is a small songbird of North America.",
        "The black-capped chickadee has a white belly, buff sides and grey wings.",
        "The black-capped chickadee's song is a clear, whistled fee-bee in spring.",
        "The black-capped chickadee caches seeds and insects in bark for the winter months ahead.",  # paragraph start
    ]
    assert spans[1].original == "It has a white belly, buff sides and grey wings."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the sentence before's subject, a name or a catalogue number (issue 16's "It is of magnitude 13.05")
        (
            "Gliese 915 is a white dwarf only 26 light years away. It is of magnitude 13.05, too faint to see.",
            "Gliese 915 is of magnitude 13.05, too faint to see.",
        ),
        (
            "The brightest star, Alpha Phoenicis, is named Ankaa. It is an orange giant of magnitude 2.4.",
            "Alpha Phoenicis is an orange giant of magnitude 2.4.",
        ),
        (
            "Nu Phoenicis is a star of type F9V. Lying 49 light years away, it is massive. It is visible to the eye.",
            "Nu Phoenicis is visible to the eye.",  # the referent goes on through "..., it is"
        ),
        (
            "Gliese 915 is a white dwarf star only 26 light years away. This star is of magnitude 13.05.",
            "Gliese 915 is of magnitude 13.05.",
        ),
        (
            "The Phoenicids were first observed on 3 December 1887. They peak around 4–5 December.",
            "The Phoenicids peak around 4–5 December.",
        ),
        (
            "Johann Bayer was a German lawyer and uranographer. He published Uranometria in 1603.",
            "Johann Bayer published Uranometria in 1603.",
        ),
        (
            "Johann Bayer was a German lawyer and uranographer. His atlas named the stars.",
            "Johann Bayer's atlas named the stars.",
        ),
    ],
)
def test_an_opening_pronoun_takes_the_sentence_befores_subject(text: str, expected: str) -> None:
    assert resolved(text, Subject("Phoenix"))[-1] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Phoenix is a constellation. It is likely that the Arabs saw it as a boat.",  # a dummy "It"
        "Phoenix is a constellation. It was not until 1600 that it was drawn.",
        "Phoenix is a constellation. It is easy to find in spring.",
        # the sentence before names another thing as its object: which one does "It" mean?
        "Phoenix contains HE0107-5240, one of the oldest stars. It has 1/200,000 the Sun's metallicity.",
        "The population of black-capped chickadees is increasing. It is the state bird of Maine.",
        # its subject is not at its start, and "it" there is an object
        "Lying within the constellation is the Phoenix cluster, making it one of the largest. It was found in 2010.",
        "In 1760, Brisson described it in his book Ornithologie. It was a large work.",
        # "They" after a bare plural, "He" after no person, "This <noun>" the referent was not described with
        "Flights are typically short bursts. They avoid large open areas.",
        "Phoenix is a constellation. He drew it in 1603.",
        "Gliese 915 is a white dwarf. This galaxy is far away.",
        # the sentence before moves on to another thing
        "Lapis is the genitive of the Latin, which is taken from the Arabic. It means sky or heaven.",
        "Its wild ancestor, the Indian aurochs, became extinct in 1800 BC. Its remains were dated to 3,800 YBP.",
    ],
)
def test_a_pronoun_without_a_clear_referent_is_left_alone(text: str) -> None:
    sentences = split_sentences(text)
    assert resolved(text, Subject("Phoenix"))[-1] == sentences[-1]


def test_split_spans_block_stores_the_resolved_answer_and_the_original() -> None:
    block = build_block({"block": "split_spans", "name": "spans", "column": "document"}, BuildEnv(Path()))
    later = "It lives in mixed forests across Canada and the northern United States."
    rows = [
        {"document": CHICKADEE, "chunk_index": 0, "document_outline": "Chickadees"},
        {"document": later, "chunk_index": 1, "document_subject": "the black-capped chickadee"},
        {"document": later, "chunk_index": 2},  # no subject known: left as it is
    ]
    out = asyncio.run(block.run(rows, BlockContext(None, "seed")))
    by_chunk = {row["chunk_index"]: row for row in out.rows if row["chunk_index"]}
    belly = "The black-capped chickadee has a white belly, buff sides and grey wings."
    assert out.rows[1]["answer"] == out.rows[1]["span"] == belly
    assert out.rows[1]["answer_original"] == "It has a white belly, buff sides and grey wings."
    assert by_chunk[1]["answer"] == later.replace("It", "The black-capped chickadee")
    assert by_chunk[2]["answer"] == by_chunk[2]["answer_original"] == later


def test_knowledge_seeds_carry_the_documents_subject_to_every_chunk(tmp_path: Path) -> None:
    from taxolab.sdg.seeds import knowledge_seeds
    from taxolab.taxonomy.model import LeafKind

    from .conftest import make_leaf

    leaf = make_leaf(tmp_path, LeafKind.KNOWLEDGE, "birds")
    rows = knowledge_seeds(leaf, [CHICKADEE, "It lives in mixed forests across Canada."], 1, per_chunk=True)
    assert [row["document_subject"] for row in rows] == ["the black-capped chickadee"] * 2


def test_they_takes_a_plural_that_names_the_documents_subject() -> None:
    chickadee = Subject("the black-capped chickadee")
    text = "Black-capped chickadees build nests in tree holes from late April to June. They lay 6–8 eggs."
    assert resolved(text, chickadee)[-1] == "Black-capped chickadees lay 6–8 eggs."
    # a plural that is not the subject is not what "They" means here
    text = "Males and females are similar in size. They can be told apart by weight."
    assert resolved(text, chickadee)[-1] == "They can be told apart by weight."
    # a bare "They" at a paragraph's start: the subject is singular, so it stays
    assert resolved("They lay 6–8 eggs in a nest.", chickadee) == ["They lay 6–8 eggs in a nest."]
