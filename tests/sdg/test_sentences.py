"""The sentence splitter never cuts inside a name, an abbreviation, a number or non-Latin text (issue 16).

:data:`CASES` is also what bench/bench_sentence_split.py scores the splitter and peer libraries on.
"""

from __future__ import annotations

import pytest

from taxolab.sdg.spans import chunk_sentences, document_spans, split_sentences

CASES: list[list[str]] = [
    [
        "Located in the galaxy ESO 243-49 is HLX-1, an intermediate-mass black hole.",
        "It is thought to be a remnant of a dwarf galaxy absorbed by ESO 243-49.",
    ],
    [
        "One name of the brightest star Alpha Phoenicis—Ankaa—is derived from the Arabic: العنقاء, romanized: "
        "al-‘anqā’, lit. 'the phoenix', and was coined sometime after 1800.",
        "Phoenix has actual precedent in ancient astronomy.",
    ],
    ["Gliese 915 is a white dwarf only 26 light years away.", "It is of magnitude 13.05, too faint to be seen."],
    ["The atlas was drawn c. 1600 by a Dutch navigator.", "Later copies followed."],
    ["Some birds, e.g. chickadees and titmice, cache food.", "They hide seeds in bark."],
    ["The museum in St. Louis holds the skin.", "It was collected in 1890."],
    ["The U.S. Fish and Wildlife Service lists it as secure.", "Its range is wide."],
    ["Symphony No. 5 was first played in 1808.", "Beethoven conducted."],
    ["Dr. Smith described the nest in 1901.", "Mr. Jones drew it."],
    ["The book was written by J. R. R. Tolkien in 1937.", "It sold well."],
    ["The map is shown in Fig. 3 of the report.", "The legend is in Fig. 4."],
    ["灯台は一八九〇年に建てられた。", "灯りは十八海里先まで見える。", "町の人口は三千人です。"],
    ["The star lies 1.2 times as far as Vega, about 49.5 light years away.", "Its magnitude is 4.96."],
    ["Brisson described it in 1760.", "Émile Oustalet wrote about it later."],
    ["Москва — столица России.", "Она основана в 1147 году."],
    ["It was named by Lacaille et al. in 1756.", "The name stuck."],
    ["The survey (see Smith 2003, pp. 12–14) counted 40 birds.", "Counts rose after 2010."],
    [
        "Nu Phoenicis is a star of spectral type F9V and magnitude 4.96.",
        "Lying some 49 light years distant, it is around 1.2 times as massive as the Sun.",
    ],
    ["The bird weighs approx. 11 g on average.", "Males are larger."],
    ["They spend the winter in Mt. Rainier National Park.", "Some stay in the valleys."],
    ["The class was hypothesized before 2009.", "Its discovery changed that."],
    ["NGC 625 is a dwarf irregular galaxy.", "It lies 12.7 million light-years away."],
    ["The chickadee is found in the U.S. and Canada.", "It is the state bird of Maine."],
    ["Sales were $4.5 million in 2001.", "They doubled by 2005."],
    ["The Phoenicids peak on Dec. 5 each year.", "They were first seen in 1956."],
    ["Its call is a chick-a-dee-dee-dee!", "Is it loud?", "Yes, very."],
    ["He earned a Ph.D. in 1990 at Yale.", "He taught there for ten years."],
    ["दिल्ली भारत की राजधानी है।", "यह एक बड़ा शहर है।"],
    ["القاهرة عاصمة مصر.", "هي مدينة كبيرة."],
    ['The Dutch name was Den voghel Fenicx, "The Bird Phoenix".', "It symbolised the phoenix of mythology."],
    ['He said "It sings at dawn."', "Then he left."],  # the closing quote stays with its sentence
    ["「灯台は古い。」", "町は小さい。"],
]


@pytest.mark.parametrize("sentences", CASES, ids=[case[0][:30] for case in CASES])
def test_split_sentences_cuts_only_between_sentences(sentences: list[str]) -> None:
    assert split_sentences(" ".join(sentences)) == sentences


def test_a_chunk_that_starts_inside_a_sentence_drops_that_piece() -> None:
    # the chunker cuts at line ends: "ESO\n243-49" put the catalogue number at a chunk's start (issue 16)
    chunk = (
        '243-49 is [HLX-1](HLX-1 "wikilink"), an [intermediate-mass black\nhole](imbh "wikilink")—the first '
        "one of its kind identified. It is thought to be a remnant of a dwarf galaxy.\n"
    )
    assert document_spans(chunk) == ["It is thought to be a remnant of a dwarf galaxy."]
    arabic = "العنقاء, romanized: al-‘anqā’, lit. 'the phoenix', and\nwas coined after 1800. Phoenix is a small constellation."
    assert document_spans(arabic) == ["Phoenix is a small constellation."]
    assert document_spans("was coined after 1800. The name stuck with astronomers for good.") == [
        "The name stuck with astronomers for good."
    ]


def test_a_chunk_that_opens_a_block_or_a_sentence_keeps_its_first_sentence() -> None:
    assert chunk_sentences("## Stars\n\n1760 was the year Brisson described the bird.") == [
        ["1760 was the year Brisson described the bird."]
    ]
    assert chunk_sentences("- 42 stars are brighter than magnitude 5.") == [["42 stars are brighter than magnitude 5."]]
    assert chunk_sentences("Émile Oustalet described it. The name stuck.") == [
        ["Émile Oustalet described it.", "The name stuck."]
    ]
    # a text written in a script without case: its first sentence starts a sentence
    assert chunk_sentences("القاهرة عاصمة مصر. هي مدينة كبيرة.") == [["القاهرة عاصمة مصر.", "هي مدينة كبيرة."]]
    assert chunk_sentences("灯台は一八九〇年に建てられた。灯りは見える。") == [
        ["灯台は一八九〇年に建てられた。", "灯りは見える。"]
    ]


def test_chunked_document_spans_keep_catalogue_numbers_and_non_latin_names_whole() -> None:
    from taxolab.documents import split_text
    from taxolab.sdg.chunks import estimated_tokens

    lines = [
        "# Phoenix (constellation)",
        "",
        "One name of the brightest star, Alpha Phoenicis, is derived from the Arabic:",
        "العنقاء, romanized: al-‘anqā’, lit. 'the phoenix', and",
        "was coined sometime after 1800 in relation to the constellation.",
        "They are within a circle of radius of 1.6 arcmin, about 75,000 light-years. Located in the galaxy ESO",
        '243-49 is [HLX-1](HLX-1 "wikilink"), an intermediate-mass black hole, the first one of its kind',
        "identified. It is thought to be a remnant of a dwarf galaxy absorbed in a collision with ESO",
        "243-49. Before its discovery, this class of black hole was only hypothesized.",
    ]
    text = "\n".join(lines)
    for budget, overlap, first, whole in [
        (100, 50, "العنقاء", "Arabic: العنقاء, romanized: al-‘anqā’, lit. 'the phoenix', and was coined"),
        (90, 40, "243-49", "galaxy ESO 243-49 is HLX-1"),
    ]:
        chunks = split_text(text, max_tokens=budget, overlap_tokens=overlap, count_tokens=estimated_tokens).chunks
        # the line breaks are soft wraps inside a paragraph: no chunk starts inside the wrapped sentence
        assert not any(chunk.startswith(first) for chunk in chunks)
        spans = [span for chunk in chunks for span in document_spans(chunk)]
        cut = ("243-49", "العنقاء", "'the phoenix'", "was coined", "identified")
        assert not [span for span in spans if span.startswith(cut) or span.endswith("lit.")]
        assert any(whole in span for span in spans)
        assert any("collision with ESO 243-49." in span for span in spans)
    # the chunker's own seams follow the same rules: no chunk ends after "lit." whatever the budget
    for budget in range(40, 200, 10):
        chunks = split_text(text, max_tokens=budget, overlap_tokens=budget // 3, count_tokens=estimated_tokens).chunks
        assert not [chunk for chunk in chunks if chunk.rstrip().endswith("lit.")]
    # a piece cut by a chunk's start (a sentence longer than a chunk, another chunker) is left out, not kept
    # as "243-49 is HLX-1, ..."
    assert document_spans("243-49 is [HLX-1](HLX-1), a black hole of some mass. It is rare, and it is far away.") == [
        "It is rare, and it is far away."
    ]
    # a chunk that another chunker cut after an abbreviation loses that piece rather than keep "..., lit."
    assert document_spans("The name is from the Arabic: العنقاء, romanized: al-‘anqā’, lit.") == []
