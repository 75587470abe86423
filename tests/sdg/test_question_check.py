"""The question check: a kept question is answered by its answer and stands alone (issue 16).

Real parts: the block as the pipelines build it, hand-labelled pairs from a real chickadee run
(tests/sdg/data/question_check_labels.yaml), the scripted fake teacher over HTTP for the end-to-end case.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from taxolab import fsio
from taxolab.sdg.blocks import BlockContext, build_block
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.blocks.knowledge import QUESTION_CHECK_REASONS, QuestionCheck
from taxolab.sdg.generate import generate_data
from taxolab.taxonomy.model import LeafKind
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.text import AnswerType, answer_type, counted_noun, counted_nouns, defined_term, unresolved_reference

from .conftest import chunks_of, config_for, make_leaf, scripted

LABELS = Path(__file__).parent / "data" / "question_check_labels.yaml"
PHOENIX = "Phoenix, a constellation of the southern sky"
SHOWERS = "Phoenix is the radiant of two annual meteor showers: the Phoenicids in December, and the July Phoenicids."
BETA = "Beta Phoenicis is a binary star whose components are yellow giants of spectral type G8."
CHICKADEE = "The black-capped chickadee"
WINTER = "During the winter, these flocks include other bird species."


def check(topic: bool = True) -> QuestionCheck:
    config = {"block": "question_check", "name": "check_questions"} | ({"topic": "topic"} if topic else {})
    block = build_block(config, BuildEnv(Path()))
    assert isinstance(block, QuestionCheck)
    return block


def scores(block: QuestionCheck, pairs: list[dict[str, Any]], topic: str) -> tuple[float, float]:
    """(precision, recall) of the check's keep against the hand labels."""
    kept = [block.problem({"question": p["question"], "answer": p["answer"], "topic": topic}) is None for p in pairs]
    match = [p["label"] == "match" for p in pairs]
    true_kept = sum(k and m for k, m in zip(kept, match, strict=True))
    return true_kept / max(1, sum(kept)), true_kept / sum(match)


def test_labelled_pairs_of_a_real_run() -> None:
    """Of what the check keeps, >= 90 % are real question-answer matches on the labelled pairs it was written
    with (measured 16/17 = 0.94; the issue-11 check: 20/60 = 0.33), and it keeps >= 60 % of the real matches
    (measured 16/25 = 0.64; the issue-11 check 0.80). On the later samples it was not written with, precision is
    much lower (measured 23/52 = 0.44, recall 0.85; the issue-11 check on them 0.28 and 0.96): docs/generate.md."""
    labels = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    assert len(labels["pairs"]) == 120 and len(labels["more_pairs"]) == 120
    assert {p["label"] for p in labels["pairs"] + labels["more_pairs"]} == {"match", "mismatch"}
    precision, recall = scores(check(), labels["pairs"], labels["topic"])
    assert precision >= 0.9 and recall >= 0.6, (precision, recall)
    precision, recall = scores(check(), labels["more_pairs"], labels["topic"])
    assert precision >= 0.4 and recall >= 0.8, (precision, recall)


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        ("How many meteors can you see during a Phoenicid meteor shower?", SHOWERS, "focus_missing"),  # counts showers
        ("How many stars are red giants in Phoenix?", BETA, "focus_missing"),  # no count of stars
        ("How many light years is that?", "Alpha Phoenicis is 77 light years from Earth.", "not_standalone"),
        ("How many planets are in total?", "Four planets orbit HD 142 in Phoenix.", "not_standalone"),
        ("What do black-capped chickadees eat during the winter?", WINTER, "unrelated"),
        # and their matching counterparts
        ("How many annual meteor showers have Phoenix as their radiant?", SHOWERS, None),
        ("When are the Phoenicid meteor showers?", SHOWERS, None),
        ("What spectral type are the components of Beta Phoenicis?", BETA, None),
        ("How far is Alpha Phoenicis from Earth?", "Alpha Phoenicis is 77 light years from Earth.", None),
        ("What do black-capped chickadees eat?", "Black-capped chickadees eat insects and seeds.", None),
    ],
)
def test_the_issues_mismatched_pairs_are_dropped_and_matching_ones_kept(
    question: str, answer: str, reason: str | None
) -> None:
    topic = CHICKADEE if "chickadee" in question else PHOENIX
    for block in (check(), check(topic=False)):  # with and without a topic column (the full pipeline has none)
        assert block.problem({"question": question, "answer": answer, "topic": topic}) == reason, block.config.topic


@pytest.mark.parametrize(
    ("question", "answer", "reason"),
    [
        ("Where do black-capped chickadees nest?", "Black-capped chickadees nest in tree cavities above ground.", None),
        (
            "Where do black-capped chickadees nest?",
            "Black-capped chickadees build their nests with moss and hair.",
            "focus_missing",
        ),
        ("Who described the black-capped chickadee in 1760?", "In 1760, Brisson described the chickadee.", None),
        (
            "Who described the black-capped chickadee?",
            "The black-capped chickadee was described long ago from a specimen.",
            "focus_missing",
        ),
        ("When do black-capped chickadees breed?", "Black-capped chickadees breed in late spring.", None),
        (
            "When do black-capped chickadees breed?",
            "Black-capped chickadees breed in tree cavities of birch and alder.",
            "focus_missing",
        ),
        (
            "What is the most common call of the chickadee?",
            "A common call of the chickadee is fee-bee.",
            "focus_missing",
        ),
        (
            "Which chickadee song has faster notes?",
            "The fee-bee song has slower notes than the gargle.",
            "focus_missing",
        ),
        ("What is the Appalachian Mountains?", "The chickadee lives in the Appalachian Mountains.", "focus_missing"),
        ("What is the relationship between the male and female?", "Females prefer dominant males.", "not_standalone"),
        ("Can you describe this song of the chickadee?", "The chickadee sings fee-bee.", "not_standalone"),
        (
            "How does a black-capped chickadee react to a predator?",
            "These species react to its alarm call.",
            "unrelated",
        ),
        ("What if the first black-capped chickadee brood was lost?", "A second brood follows.", "not_a_question"),
        (
            "Is sister to the mountain chickadee?",
            "Studies have shown that the black-capped chickadee is sister to the mountain chickadee (Poecile gambeli).",
            "answer_in_question",
        ),
        (
            "What is the 1989 study on the 1989 study on the chickadee?",
            "A 1989 study split the species.",
            "not_a_question",
        ),
    ],
)
def test_each_rule_names_its_reason(question: str, answer: str, reason: str | None) -> None:
    assert check().problem({"question": question, "answer": answer, "topic": CHICKADEE}) == reason
    assert reason is None or reason in QUESTION_CHECK_REASONS


def test_question_text_rules() -> None:
    assert answer_type("How many eggs does it lay?") is AnswerType.COUNT
    assert answer_type("In what year was it described?") is AnswerType.NUMBER
    assert answer_type("What is the average weight of a chickadee?") is AnswerType.NUMBER
    assert answer_type("When does it breed?") is AnswerType.TIME
    assert answer_type("What sounds do males make when they meet?") is AnswerType.OTHER  # "when" starts a clause
    assert answer_type("Does it sing when it rains?") is AnswerType.YES_NO
    assert answer_type("Which study found that?") is AnswerType.NAME
    assert answer_type("What is the chickadee's habitat?") is AnswerType.PLACE
    assert counted_noun("How many light years is that?") == "years"
    assert counted_nouns(SHOWERS) == {"showers"}
    assert counted_nouns("They lay on average 6–8 eggs, which hatch after 11–14 days.") == {"eggs", "days"}
    assert counted_nouns("They lay six to eight eggs.") == {"eggs"}
    assert unresolved_reference("What does this mean for the flock?") == "this"
    assert unresolved_reference("What birds that cache food live here?") is None  # a relative "that"
    assert unresolved_reference("Which birds, such as tits, cache food?") is None
    assert defined_term("What is the specific epithet atricapillus?") == "specific epithet atricapillus"
    assert defined_term("What species is the black-capped chickadee?") == "black-capped chickadee"
    assert defined_term("What is the state bird of Maine?") is None  # not a definition: "of Maine"


def mixed_teacher(request: dict[str, Any]) -> str:
    """The scripted teacher, except that every other question sample asks for a count its span lacks."""
    system = request["messages"][0]["content"].lower()
    if "quiz question for a given answer" in system and int(request.get("seed") or 0) % 2:
        return "Question: How many stars are red giants in Phoenix?"
    return scripted(request)


def test_held_out_pairs_come_from_checked_rows(tmp_path: Path) -> None:
    """The held-out evaluation pairs are split from the rows the check kept, so none is a mismatch."""
    leaf = make_leaf(tmp_path, LeafKind.KNOWLEDGE, "birds")
    with FakeOpenAIServer(mixed_teacher) as teacher:
        result = generate_data(
            config_for(teacher.url, tmp_path), leaves=[leaf], chunk_source=chunks_of, show_progress=False
        )
    folder = result.output_dir
    heldout = fsio.read_jsonl(folder / "heldout" / f"{leaf.name}.jsonl")
    rows = fsio.read_jsonl(folder / "generated" / f"{leaf.name}.jsonl")
    assert heldout and rows
    questions = {pair["question"] for pair in heldout + rows}
    assert not any("red giants" in question for question in questions)
    dropped = fsio.read_jsonl(folder / "dropped" / f"{leaf.name}.jsonl")
    assert any("red giants" in entry["row"]["question"] for entry in dropped)
    block = check(topic=False)
    assert all(block.problem(pair) is None for pair in heldout)


def test_the_check_runs_on_a_batch() -> None:
    rows = [
        {
            "question": "What do black-capped chickadees eat?",
            "answer": "They eat insects and seeds.",
            "topic": CHICKADEE,
        },
        {"question": "How many stars are red giants in Phoenix?", "answer": BETA, "topic": PHOENIX},
    ]
    out = asyncio.run(check().run(rows, BlockContext(None, "seed")))
    assert out.rows == rows[:1] and out.dropped == {"check_questions: focus_missing": 1}
