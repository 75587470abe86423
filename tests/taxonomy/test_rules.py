"""Every schema rule, each broken on purpose in a real sample file, caught at the offending key or item.

Each case edits one real leaf, then checks that validation reports a problem
at the exact line:col of the offending text (found in the edited file), with
the expected message and severity.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from taxolab.taxonomy import LeafKind, Severity, TaxonomyValidationError, load_leaf, validate_file

from .conftest import FREEFORM, GROUNDED, KNOWLEDGE, position

PAIR_0 = (
    "      - question: |\n          Where do black-capped chickadees live?\n        answer: |\n"
    "          The black-capped chickadee (Poecile atricapillus) is a small,\n"
    "          nonmigratory, North American passerine bird that lives in deciduous\n          and mixed forests.\n"
)
PAIR_1 = (
    "      - question: |\n          What sound does a black-capped chickadee make?\n        answer: |\n"
    "          The black-capped chickadee is well known for its vocalizations,\n"
    "          including its fee-bee call and its chick-a-dee-dee-dee call, from\n          which it derives its name.\n"
)
OUTLINE = (
    "document_outline: |\n  Information about the black capped chickadee including distribution, appearance,\n"
    "  vocalization, diet, and predators.\n"
)
SYNONYMS_TASK = "task_description: to teach a large language model to list the synonyms for a word.\n"


@dataclass(frozen=True)
class Case:
    """Replace ``old`` by ``new`` in ``leaf``; expect ``message`` at the ``occurrence``-th ``anchor``."""

    leaf: str
    old: str
    new: str
    anchor: str
    message: str
    occurrence: int = 1
    severity: Severity = Severity.ERROR


CASES = {
    # knowledge, version 3
    "knowledge-missing-domain": Case(
        KNOWLEDGE, "domain: animals\n", "", "created_by", "top level: missing required key 'domain'"
    ),
    "knowledge-empty-created-by": Case(
        KNOWLEDGE, "created_by: juliadenham", 'created_by: ""', '""', "created_by: must not be empty"
    ),
    "knowledge-null-domain": Case(
        KNOWLEDGE, "domain: animals", "domain:", "domain", "domain: must be text, found nothing"
    ),
    "knowledge-unknown-key": Case(
        KNOWLEDGE,
        "domain: animals\n",
        "domain: animals\ntask_description: birds\n",
        "task_description",
        "task_description: unknown key",
    ),
    "knowledge-two-questions": Case(
        KNOWLEDGE,
        PAIR_0,
        "",
        "questions_and_answers",
        "seed_examples[0].questions_and_answers: needs at least 3 question/answer pairs, found 2",
    ),
    "knowledge-repeated-question": Case(
        KNOWLEDGE,
        PAIR_1,
        PAIR_0,
        "question: |\n          Where do",
        "seed_examples[0].questions_and_answers[1]: repeats seed_examples[0].questions_and_answers[0]",
        occurrence=2,
    ),
    "knowledge-empty-answer": Case(
        KNOWLEDGE,
        "answer: |\n          Juveniles are visually similar to adults but with fluffier plumage.\n",
        'answer: ""\n',
        '""',
        "seed_examples[1].questions_and_answers[2].answer: must not be empty",
    ),
    "knowledge-extra-key-in-pair-is-a-warning": Case(
        KNOWLEDGE,
        "Where do black-capped chickadees live?\n",
        "Where do black-capped chickadees live?\n        source: wikipedia\n",
        "source",
        "seed_examples[0].questions_and_answers[0].source: unknown key",
        severity=Severity.WARNING,
    ),
    "knowledge-missing-commit": Case(
        KNOWLEDGE,
        "  commit: 5f7158a5ce83c4ff493bfe341fe31ecad64ff697\n",
        "",
        "document:",
        "document: missing required key 'commit'",
    ),
    "knowledge-no-patterns": Case(
        KNOWLEDGE,
        "  patterns:\n    - chickadee.md",
        "  patterns: []",
        "patterns",
        "document.patterns: needs at least 1 file pattern, found 0",
    ),
    "knowledge-patterns-not-a-list": Case(
        KNOWLEDGE,
        "  patterns:\n    - chickadee.md",
        "  patterns: chickadee.md",
        "chickadee.md",
        "document.patterns: must be a list of file patterns, found text (chickadee.md)",
    ),
    "knowledge-empty-pattern": Case(
        KNOWLEDGE, "    - chickadee.md", '    - ""', '""', "document.patterns[0]: must not be empty"
    ),
    "knowledge-missing-outline": Case(
        KNOWLEDGE, OUTLINE, "", "created_by", "top level: missing required key 'document_outline'"
    ),
    "knowledge-version-2-rejected": Case(
        KNOWLEDGE, "version: 3", "version: 2", "version", "version: knowledge leaves need version 3; version 2"
    ),
    "knowledge-version-1-rejected": Case(
        KNOWLEDGE, "version: 3\n", "", "created_by", "version: knowledge leaves need version 3; version 1"
    ),
    "version-as-text": Case(KNOWLEDGE, "version: 3", 'version: "3"', '"3"', "version: must be the number 1, 2 or 3"),
    "version-unsupported": Case(KNOWLEDGE, "version: 3", "version: 4", "4", "version: unsupported version 4"),
    # skills, version 3
    "skill-missing-task-description": Case(
        FREEFORM, SYNONYMS_TASK, "", "version", "top level: missing required key 'task_description'"
    ),
    "skill-created-by-list": Case(
        FREEFORM, "created_by: yanpliu", "created_by: [a, b]", "[a, b]", "created_by: must be text, found a list"
    ),
    "skill-missing-answer": Case(
        GROUNDED,
        "  - answer: 'Scientists are studying how our genes and the world around us affect our\n      health.'\n"
        "    context:",
        "  - context:",
        "context:",
        "seed_examples[0]: missing required key 'answer'",
    ),
    "skill-misspelled-key": Case(
        GROUNDED,
        "    question: Rewrite the text in an easier way",
        "    questoin: Rewrite the text in an easier way",
        "questoin",
        "seed_examples[1].questoin: unknown key",
    ),
    "skill-question-is-a-number": Case(
        GROUNDED,
        "    question: Rewrite the text in an easier way",
        "    question: 42",
        "42",
        "seed_examples[1].question: must be text, found a number (42)",
    ),
    "skill-v2-empty-task-description": Case(
        FREEFORM,
        SYNONYMS_TASK,
        'task_description: ""\n',
        '""',
        "task_description: must not be empty",
    ),
    "grounded-skill-example-without-context-is-a-warning": Case(
        GROUNDED,
        "    context: 'The exponential growth of technological innovation has led to the\n"
        "      proliferation of digital platforms, fundamentally transforming the way we\n"
        "      communicate and interact.'\n",
        "",
        "answer: 'Technology",
        "seed_examples[1]: no context, while other seed examples have one",
        severity=Severity.WARNING,
    ),
    # YAML lint (version 2 and later)
    "lint-trailing-spaces": Case(
        FREEFORM, "created_by: yanpliu\n", "created_by: yanpliu  \n", "  \n", "trailing spaces (trailing-spaces)"
    ),
    "lint-duplicate-key": Case(
        KNOWLEDGE,
        "domain: animals\n",
        "domain: animals\ndomain: birds\n",
        "domain",
        'duplication of key "domain" in mapping (key-duplicates)',
        occurrence=2,
    ),
    "lint-bad-indentation-is-a-warning": Case(
        KNOWLEDGE,
        "  patterns:\n    - chickadee.md",
        "  patterns:\n  - chickadee.md",
        "- chickadee.md",
        "wrong indentation: expected 4 but found 2 (indentation)",
        severity=Severity.WARNING,
    ),
    "lint-too-many-blank-lines-is-a-warning": Case(
        FREEFORM,
        SYNONYMS_TASK,
        "\n\n\n" + SYNONYMS_TASK,
        "\n" + SYNONYMS_TASK,
        "too many blank lines (3 > 2) (empty-lines)",
        severity=Severity.WARNING,
    ),
    # broken YAML
    "yaml-syntax-error": Case(
        KNOWLEDGE,
        "domain: animals",
        "domain: animals: birds",
        ": birds",
        "invalid YAML: mapping values are not allowed",
    ),
}


def _edit(taxonomy: Path, case: Case) -> tuple[Path, str]:
    path = taxonomy / case.leaf
    text = path.read_text(encoding="utf-8")
    assert case.old in text, "the case must edit text that is in the real file"
    edited = text.replace(case.old, case.new, 1)
    path.write_text(edited, encoding="utf-8")
    return path, edited


@pytest.mark.parametrize("name", list(CASES))
def test_rule_is_caught_at_the_offending_place(name: str, taxonomy: Path) -> None:
    case = CASES[name]
    path, edited = _edit(taxonomy, case)
    report = validate_file(path, taxonomy)
    line, col = position(edited, case.anchor, case.occurrence)
    found = [(p.location.line, p.location.col, p.severity) for p in report.problems if case.message in p.message]
    assert (line, col, case.severity) in found, "\n".join(str(p) for p in report.problems)
    assert report.valid is (case.severity is Severity.WARNING)


def test_knowledge_needs_five_contexts(taxonomy: Path) -> None:
    path = taxonomy / KNOWLEDGE
    text = path.read_text()
    fifth = text.index("  - context: |", text.index("  - context: |") + 1)
    for _ in range(3):
        fifth = text.index("  - context: |", fifth + 1)
    path.write_text(text[:fifth] + text[text.index("document_outline:") :])
    problems = [str(p) for p in validate_file(path, taxonomy).problems]
    assert problems == [f"{path}:4:1: seed_examples: needs at least 5 contexts, found 4"]


def test_skill_needs_five_distinct_examples(taxonomy: Path) -> None:
    path = taxonomy / FREEFORM
    text = path.read_text()
    starts = [i for i in range(len(text)) if text.startswith("  - answer:", i)]
    assert len(starts) == 6
    first_example = text[starts[0] : starts[1]]
    # keep examples 1-4 and repeat the first: five items, four distinct
    edited = text[: starts[4]] + first_example + text[text.index("task_description:") :]
    path.write_text(edited)
    line, col = position(edited, "answer: 'Synonym for Attend", 2)
    assert [str(p) for p in validate_file(path, taxonomy).problems] == [
        f"{path}:{line}:{col}: seed_examples[4]: repeats seed_examples[0]; seed examples must be distinct"
    ]
    path.write_text(text[: starts[4]] + text[text.index("task_description:") :])
    assert [str(p) for p in validate_file(path, taxonomy).problems] == [
        f"{path}:3:1: seed_examples: needs at least 5 seed examples, found 4"
    ]


def test_version_1_skill_is_not_linted_and_allows_empty_task_description(taxonomy: Path) -> None:
    path = taxonomy / FREEFORM
    text = path.read_text().replace("version: 3\n", "").replace(SYNONYMS_TASK, 'task_description: ""   \n')
    path.write_text(text.rstrip("\n"))  # trailing spaces and no final newline: yamllint would complain
    report = validate_file(path, taxonomy)
    assert report.problems == [] and report.version == 1 and report.kind is LeafKind.FREEFORM_SKILL


def test_missing_final_newline(taxonomy: Path) -> None:
    path = taxonomy / FREEFORM
    text = path.read_text().rstrip("\n")
    path.write_text(text)
    last_line = text.count("\n") + 1
    col = len(text.rsplit("\n", 1)[-1]) + 1
    assert [str(p) for p in validate_file(path, taxonomy).problems] == [
        f"{path}:{last_line}:{col}: no new line character at the end of file (new-line-at-end-of-file)"
    ]


def test_every_problem_of_a_file_is_reported_at_once(taxonomy: Path) -> None:
    path = taxonomy / KNOWLEDGE
    text = path.read_text()
    text = text.replace("domain: animals\n", "").replace("created_by: juliadenham", "created_by: juliadenham ")
    text = text.replace("  commit: 5f7158a5ce83c4ff493bfe341fe31ecad64ff697", "  commit:")
    path.write_text(text)
    problems = [str(p) for p in validate_file(path, taxonomy).problems]
    commit_line, _ = position(text, "  commit:")
    assert problems == [
        f"{path}:1:1: top level: missing required key 'domain'",
        f"{path}:1:24: trailing spaces (trailing-spaces)",
        f"{path}:{commit_line}:3: document.commit: must be text, found nothing",
    ]


def test_load_leaf_raises_with_every_error_one_per_line(taxonomy: Path) -> None:
    path = taxonomy / KNOWLEDGE
    path.write_text(path.read_text().replace("domain: animals\n", "").replace("version: 3", "version: 3 "))
    with pytest.raises(TaxonomyValidationError) as caught:
        load_leaf(path, taxonomy)
    assert str(caught.value).splitlines() == [
        f"{path}:1:1: top level: missing required key 'domain'",
        f"{path}:2:11: trailing spaces (trailing-spaces)",
    ]
    assert len(caught.value.problems) == 2


def test_warnings_do_not_stop_a_leaf_from_loading(taxonomy: Path) -> None:
    path = taxonomy / KNOWLEDGE
    path.write_text(path.read_text().replace("  patterns:\n    - chickadee.md", "  patterns:\n  - chickadee.md"))
    leaf = load_leaf(path, taxonomy)
    assert leaf.document is not None and leaf.document.patterns == ("chickadee.md",)
