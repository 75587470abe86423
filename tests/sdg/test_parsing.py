"""Parsing teacher output the way small models actually write it."""

from __future__ import annotations

import re

from taxolab.sdg.parsing import RegexParser, TagParser

QA = TagParser(("question", "answer"), ("[Q]", "[A]"), ("", "[END]"))


def test_tags_with_chatter_around_and_several_records() -> None:
    text = "Sure! Here you go:\n[Q] What is 2+2? [A] Four. [END] some trailing talk\n**[q]** Why? [a] Because."
    assert QA.parse(text) == [
        {"question": "What is 2+2?", "answer": "Four."},
        {"question": "Why?", "answer": "Because."},
    ]


def test_missing_end_tag_runs_to_the_next_start_tag_or_the_end() -> None:
    assert QA.parse("[Q] one [A] first answer\n[Q] two [A] second answer") == [
        {"question": "one", "answer": "first answer"},
        {"question": "two", "answer": "second answer"},
    ]


def test_incomplete_records_are_not_rows() -> None:
    assert QA.parse("[Q] a question without an answer") == []
    assert QA.parse("[Q] [A] answer to nothing") == []
    assert QA.parse("no tags at all") == []


def test_labels_with_colons_tolerate_markdown() -> None:
    parser = TagParser(("question", "answer"), ("Question:", "Answer:"), ("", ""))
    assert parser.parse("**Question:** Where?\n**Answer:** Here.") == [{"question": "Where?", "answer": "Here."}]


def test_empty_start_tag_takes_the_whole_answer_up_to_the_end_tag() -> None:
    parser = TagParser(("summary",), ("",), ("</s>",))
    assert parser.parse("  A summary.\nTwo lines.</s> junk") == [{"summary": "A summary.\nTwo lines."}]
    assert parser.parse("   ") == []


def test_regex_groups_in_column_order_and_by_name() -> None:
    positional = RegexParser(("score",), re.compile(r"score\W*([0-9])", re.I))
    assert positional.parse("Reason: fine.\n**Score**: 2") == [{"score": "2"}]
    named = RegexParser(("a", "b"), re.compile(r"(?P<b>\d+)-(?P<a>\w+)"))
    assert named.parse("12-x") == [{"a": "x", "b": "12"}]


def test_whole_answer_drops_a_leading_label_and_stops_at_the_end_tag() -> None:
    parser = TagParser(("answer",), ("",), ("Question:",))
    assert parser.parse("**Answer:** Forty-two.\nQuestion: and another?") == [{"answer": "Forty-two."}]
    assert parser.parse("Answering is easy: yes.") == [{"answer": "Answering is easy: yes."}]
