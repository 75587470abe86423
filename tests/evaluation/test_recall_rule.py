"""The "learned" rule asks what the question asks: hedges, guess lists and flipped negations are not learned."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taxolab.evaluation.keyfacts import score_answer
from taxolab.text import QuestionKind, question_kind

DATA = Path(__file__).parent / "data"
TELESCOPIUM = (
    "Telescopium was introduced in 1751–52 by Nicolas-Louis de Lacaille with the French name le Telescope, "
    "depicting an aerial telescope."
)
CHICKADEE = (
    "The black-capped chickadee is a small, nonmigratory, North American passerine bird that lives in "
    "deciduous and mixed forests."
)


@pytest.mark.parametrize(
    ("question", "reference", "answer"),
    [
        # issue 17's lenient answers: each held half of the reference's key terms
        ("When was Telescopium introduced?", TELESCOPIUM, "I do not know, maybe Nicolas or Louis."),
        ("When was Telescopium introduced?", TELESCOPIUM, "Years: 1700, 1710, 1720, 1751, 1800."),
        ("Does the black-capped chickadee migrate?", CHICKADEE, "Yes, it migrates south from its deciduous forests."),
        ("Where does the chickadee live?", CHICKADEE, "It does not live in North American deciduous forests."),
        ("When was Telescopium introduced?", TELESCOPIUM, "It was 1751 or 1800."),
        ("When was Telescopium introduced?", TELESCOPIUM, "Lacaille introduced it with a French name."),
    ],
)
def test_lenient_answers_are_not_learned(question: str, reference: str, answer: str) -> None:
    score = score_answer(answer, reference, question)
    assert not score.learned, score


@pytest.mark.parametrize(
    ("question", "reference", "answer"),
    [
        ("When was Telescopium introduced?", TELESCOPIUM, "Lacaille introduced it in 1751."),
        ("Who introduced Telescopium?", TELESCOPIUM, "The French astronomer Lacaille."),
        ("Does the black-capped chickadee migrate?", CHICKADEE, "No, it stays in North America all year."),
        ("How many eggs does a chickadee lay?", "Clutch size is six to eight eggs.", "Usually 6 to 8 eggs."),
    ],
)
def test_right_answers_in_other_words_are_learned(question: str, reference: str, answer: str) -> None:
    score = score_answer(answer, reference, question)
    assert score.learned, score


def test_the_question_picks_the_clause_and_the_kind_of_term_it_asks() -> None:
    months = "The hippocampus varies throughout the year, being the largest in October, and the smallest in February."
    question = "In which month is the hippocampus at its smallest?"
    assert score_answer("February.", months, question).learned
    assert not score_answer("October.", months, question).learned
    life = "Maximum recorded lifespan is 12 years, although most live roughly 2.5 years."
    assert score_answer("Most live about two and a half years.", life, "How long do most chickadees live?").learned
    assert not score_answer("Up to 12 years.", life, "How long do most chickadees live?").learned
    # a unit conversion restates its number; a parenthesis with words is content
    heights = "They are most common below 750 m (2,460 ft)."
    assert score_answer("Below 750 metres.", heights, "At what elevation are they most common?").asked == ("750",)
    body = "They can cool by as much as 12°C (from their normal temperature of about 42°C) to conserve energy."
    assert score_answer("About 42 °C.", body, "What is the normal body temperature of a chickadee?").learned


def test_a_number_question_asks_the_numbers_and_a_who_question_the_person() -> None:
    assert question_kind("When was Telescopium introduced?") == QuestionKind.NUMBER
    assert question_kind("Who introduced the genus Poecile?") == QuestionKind.NAME
    assert question_kind("Does it migrate?") == QuestionKind.YES_NO
    assert score_answer("In 1751.", TELESCOPIUM, "When was Telescopium introduced?").asked == ("1751", "52")
    kaup = "The genus Poecile had been introduced by German naturalist Johann Jakob Kaup in 1829."
    assert score_answer("Kaup.", kaup, "Who introduced the genus Poecile?").asked == ("johann jakob kaup",)
    # "German naturalist" is no name, and a first name alone is not the person
    assert not score_answer("A German naturalist.", kaup, "Who introduced the genus Poecile?").learned
    assert not score_answer("Johann Heinrich.", kaup, "Who introduced the genus Poecile?").learned


@pytest.mark.parametrize(
    "name",
    [
        "recall_labels.yaml",  # the 40 answers the rule was written against
        "recall_labels_check.yaml",  # 40 more, labelled before the rule saw them (blind: 30/40)
    ],
)
def test_agreement_with_hand_labelled_answers(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """40 answers (of the base default model and written), labelled by hand; the rule must agree on >= 90%."""
    rows = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    assert len(rows) == 40 and {row["source"] for row in rows} == {"base model", "written"}
    misses = [
        row for row in rows if score_answer(row["answer"], row["reference"], row["question"]).learned != row["label"]
    ]
    agreement = 1 - len(misses) / len(rows)
    with capsys.disabled():
        print(f"\nlearned rule vs hand labels ({name}): {len(rows) - len(misses)}/{len(rows)} agree ({agreement:.0%})")
        for row in misses:
            print(f"  disagrees (label {row['label']}): {row['question']} -> {row['answer'][:80]}")
    assert agreement >= 0.9
