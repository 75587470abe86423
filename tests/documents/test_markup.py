"""Tables, definition lists and embedded pictures: facts outside sentences become text; pictures go (issue 19)."""

from __future__ import annotations

from taxolab.documents.markup import drop_data_uris, join_soft_wraps, structures_to_text, table_line_ranges
from taxolab.sdg.spans import document_spans, strip_markdown

# the layouts of case 17: a table first in the file, after a paragraph, glued to the line before it,
# and last in the file with no final newline
EXAMPLIA = """| Landmark | Built | Notes |
|----------|-------|-------|
| Old bridge | 1742 | still open to carts |
| Lighthouse | 1890 | automated since 1975 |

# Examplia

Examplia is a small harbor town with three stone bridges over the Lenn river.

## Fish market

The fish market of Examplia opens at dawn every day except Sunday.

| Fish | Share of the catch |
|------|--------------------|
| **Cod** | 55 % |
| [Mackerel](https://example.invalid/mackerel) | 15 % |

## Ferry

A ferry links Examplia to the island of Norr twice a day. The timetable is:
| Departs | From | To | Arrives |
|---------|------|----|---------|
| 07:15 | Examplia | Norr | 07:55 |
| 17:40 | Norr | Examplia | 18:20 |"""

ROWS = [
    "Landmark: Old bridge; Built: 1742; Notes: still open to carts.",
    "Landmark: Lighthouse; Built: 1890; Notes: automated since 1975.",
    "Fish market — Fish: Cod; Share of the catch: 55 %.",
    "Fish market — Fish: Mackerel; Share of the catch: 15 %.",
    "Ferry — Departs: 07:15; From: Examplia; To: Norr; Arrives: 07:55.",
    "Ferry — Departs: 17:40; From: Norr; To: Examplia; Arrives: 18:20.",
]


def test_every_table_row_becomes_a_statement_with_its_headers_wherever_the_table_sits() -> None:
    assert table_line_ranges(EXAMPLIA) == [(0, 4), (13, 17), (21, 25)]
    plain = strip_markdown(EXAMPLIA)
    for row in ROWS:
        assert f"\n\n{row}" in f"\n\n{plain}"  # a paragraph of its own, Markdown in cells reduced to text
    assert "|" not in plain
    # the prose around the tables is kept as it was
    assert "The timetable is:" in plain and "Examplia is a small harbor town" in plain
    spans = document_spans(EXAMPLIA)
    assert all(row in spans for row in ROWS)  # answers for answer-first generation


def test_the_reporters_readme_keeps_its_table() -> None:
    # instructlab/sdg#548: one line of text, a blank line and a 2x2 table
    readme = "Hello World\n\n| Hello | Hello |\n|-------|-------|\n| World | World |\n"
    assert strip_markdown(readme) == "Hello World\n\nHello: World; Hello: World."


def test_html_tables_definition_lists_and_broken_tables() -> None:
    text = """## Prices

<table>
  <tr><th>Item</th><th>Price</th></tr>
  <tr><td>Ferry ticket</td><td>4 &euro;</td></tr>
  <tr><td>Car</td><td>12 &euro;</td></tr>
</table>

Harbor master
: The person who assigns berths to boats

Mole
: A stone pier that shelters the harbor.
: Also the north mole carries the lighthouse.

| Opening | Closing |
| 06:00 | 22:00 |
"""
    plain = strip_markdown(text)
    paragraphs = plain.split("\n\n")
    assert "Prices — Item: Ferry ticket; Price: 4 €." in paragraphs
    assert "Prices — Item: Car; Price: 12 €." in paragraphs
    assert "Harbor master: The person who assigns berths to boats." in paragraphs
    assert "Mole: A stone pier that shelters the harbor." in paragraphs
    assert "Mole: Also the north mole carries the lighthouse." in paragraphs
    # not a table (no delimiter row): its cells are still text, not dropped
    assert "Opening; Closing" in paragraphs and "06:00; 22:00" in paragraphs
    # a colon line under a paragraph's last line is no definition
    assert structures_to_text("Some text\nmore text\n: not a definition\n").endswith(": not a definition\n")


def test_pictures_embedded_as_data_uris_are_dropped_and_counted() -> None:
    blob = "iVBORw0KGgo" + "A" * 5000
    text = (
        f"Before.\n\n![Map of the harbor](data:image/png;base64,{blob})\n\n"
        f'<img src="data:image/jpeg;base64,{blob}"> after\n\nThe [map](https://example.invalid/map.png) stays.'
    )
    cleaned, dropped = drop_data_uris(text)
    assert dropped.count == 2 and dropped.characters > 10_000
    assert "base64" not in cleaned and "Map of the harbor" in cleaned
    assert "https://example.invalid/map.png" in cleaned
    assert drop_data_uris("No pictures here.") == ("No pictures here.", drop_data_uris("")[1])


def test_lists_of_fragments_become_statements_and_lists_of_sentences_stay() -> None:
    text = """## Fish market

The fish market opens at dawn. The market sells:

- cod
- herring, in season
- mackerel

## Opening hours

* Monday to Friday: 06:00 to 18:00
* Saturday: 06:00 to 12:00

1. The boats come in at dawn.
2. The catch is weighed
   on the harbor scale.
"""
    paragraphs = strip_markdown(text).split("\n\n")
    assert "The fish market opens at dawn. The market sells: cod; herring, in season; mackerel." in paragraphs
    assert "Opening hours — Monday to Friday: 06:00 to 18:00." in paragraphs
    assert "Opening hours — Saturday: 06:00 to 12:00." in paragraphs
    assert paragraphs[-2:] == ["The boats come in at dawn.", "The catch is weighed on the harbor scale."]
    assert "The market sells: cod; herring, in season; mackerel." in " ".join(document_spans(text))


def test_soft_wraps_inside_paragraphs_are_joined_and_every_other_line_break_stays() -> None:
    """Issue 16: answers trained from hard-wrapped qna.yaml text taught the student to break lines mid-sentence
    ("a small,\\nnonmigratory, North American passerine"). CommonMark reads a break inside a paragraph as a space."""
    wrapped = "The black-capped chickadee is a small,\nnonmigratory, North American passerine bird.\n"
    assert (
        join_soft_wraps(wrapped)
        == "The black-capped chickadee is a small, nonmigratory, North American passerine bird.\n"
    )
    text = (
        "# Range\nOne paragraph\n   wrapped twice\nhere.\n\n- an item\n  continued\n- another item\n\n"
        "> a quote\n> wrapped\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n    code line\n    code line\n\n"
        "```\nfenced\nlines\n```\n\nA hard  \nbreak and a backslash\\\nbreak."
    )
    assert join_soft_wraps(text) == (
        "# Range\nOne paragraph wrapped twice here.\n\n- an item continued\n- another item\n\n"
        "> a quote wrapped\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n    code line\n    code line\n\n"
        "```\nfenced\nlines\n```\n\nA hard  \nbreak and a backslash\\\nbreak."
    )
    assert join_soft_wraps("one line") == "one line"
    columns = "Name      Year\nAlpha     1901\nBeta      1902\n\n===== ====\nA     1\n===== ===="
    assert join_soft_wraps(columns) == columns  # a plain-text or reStructuredText table keeps its rows
    assert join_soft_wraps("Two spaces after a period.  Then a\nwrap.") == "Two spaces after a period.  Then a wrap."
