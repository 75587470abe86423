"""Knowledge data true by construction: spans, the grounding and question checks, the held-out split."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from taxolab.errors import LocatedError
from taxolab.sdg.blocks import BlockContext, build_block
from taxolab.sdg.blocks.build import BuildEnv
from taxolab.sdg.blocks.knowledge import answer_in_question
from taxolab.sdg.grounding import check_grounding
from taxolab.sdg.heldout import split_heldout
from taxolab.sdg.library import load_pipeline_set
from taxolab.sdg.spans import document_spans, strip_markdown
from taxolab.text import normalize

PASSAGE = (
    "The black-capped chickadee is a small, nonmigratory, North American bird. "
    "In 1760, French zoologist Mathurin Jacques Brisson described it in his book Ornithologie. "
    "They lay on average 6–8 eggs, which hatch after 11–14 days."
)


def run(config: dict[str, Any], rows: list[dict[str, Any]]) -> Any:
    block = build_block(config, BuildEnv(Path()))
    return asyncio.run(block.run(rows, BlockContext(None, "seed")))


def test_markdown_is_reduced_to_text_and_split_into_spans() -> None:
    text = (
        "# Black-capped chickadee\n"
        'The **black-capped chickadee** (***Poecile atricapillus***) is a small [passerine](passerine "wikilink")\n'
        'bird of the [Paridae](Paridae "wikilink") [family](family_(biology) "wikilink"), also known as tits.\n'
        "It caches food. It hides seeds in bark for the winter months ahead.\n\n"
        "## Taxonomy\n\n"
        "Short one. Another short one.\n"
    )
    assert strip_markdown(text).startswith("The black-capped chickadee (Poecile atricapillus) is a small passerine")
    assert document_spans(text) == [
        "The black-capped chickadee (Poecile atricapillus) is a small passerine bird of the Paridae family, "
        "also known as tits.",
        "It caches food. It hides seeds in bark for the winter months ahead.",  # a short sentence is merged
        "Short one. Another short one.",
    ]
    # a chunk cut inside a link and inside sentences keeps only whole sentences, without link residue
    cut = 'epithet](Specific_name "wikilink") is Latin. The chickadee sings a clear fee-bee song in spring. It also'
    assert document_spans(cut) == ["The chickadee sings a clear fee-bee song in spring."]


def test_empty_brackets_left_by_an_export_are_dropped_but_a_call_is_kept() -> None:
    """Summit_knowledge's lapis_lazuli.md lost its formulas ("disulfur () and tetrasulfur () radicals") and
    prince_leopold_island.md a name in another script ("(, )"): an answer span must not carry them."""
    text = (
        'The intense blue color is due to the [trisulfur](trisulfur "wikilink") [radical\nanion](radical_anion '
        '"wikilink") () in the crystal. The presence of disulfur () and tetrasulfur ( ) radicals can shift '
        "the color.\n\n**Prince Leopold Island** (, ) is an island. Call `main()` to start."
    )
    assert strip_markdown(text) == (
        "The intense blue color is due to the trisulfur radical anion in the crystal. The presence of disulfur "
        "and tetrasulfur radicals can shift the color.\n\nPrince Leopold Island is an island. Call `main()` to start."
    )


def test_grounding_check_drops_an_invented_answer_and_keeps_a_faithful_one() -> None:
    rows = [
        {"question": "How many eggs?", "answer": "They lay on average 6–8 eggs.", "raw_document": PASSAGE},
        {"question": "Who?", "answer": "It was described by John Audubon in 1820.", "raw_document": PASSAGE},
        {"question": "Where?", "answer": "The chickadee lives in tropical rainforests.", "raw_document": PASSAGE},
        {"question": "Who described it?", "answer": "Brisson described it in 1760.", "raw_document": PASSAGE},
    ]
    out = run({"block": "grounding_check", "name": "grounded", "columns": ["answer"]}, rows)
    assert [row["question"] for row in out.rows] == ["How many eggs?", "Who described it?"]
    assert out.dropped == {"grounded: ungrounded": 2}
    invented = out.rejected[0]
    assert invented["reason"] == "grounded: ungrounded" and invented["row"]["question"] == "Who?"
    assert invented["detail"]["missing_numbers"] == ["1820"]
    assert invented["detail"]["missing_names"] == ["audubon", "john"]
    assert out.rejected[1]["detail"]["content_word_share"] < 0.8


def test_grounding_rule_parts() -> None:
    assert check_grounding("Brisson described the chickadee in 1760.", PASSAGE).grounded
    assert not check_grounding("Linnaeus described the chickadee.", PASSAGE).grounded  # a name not in the passage
    assert not check_grounding("It was described in 1761.", PASSAGE).grounded  # a number not in the passage
    loose = check_grounding("The chickadee is a tiny songbird that migrates south.", PASSAGE)
    assert not loose.grounded and loose.word_share < 0.8
    assert check_grounding("The chickadee is a small songbird.", PASSAGE, min_share=0.5).grounded


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("When did Brisson describe the black-capped chickadee?", None),
        ("What does this sentence say about the chickadee?", "not_standalone"),
        ("According to the passage, what did Brisson write?", "not_standalone"),
        ("What is mentioned about eggs?", "not_standalone"),
        ("When was it described?", "not_standalone"),  # only a pronoun for a subject
        ("Brisson described the chickadee", "not_a_question"),
        ("Why?", "not_a_question"),
        (
            "In 1760, French zoologist Mathurin Jacques Brisson described it in his book Ornithologie, true?",
            "answer_in_question",
        ),
    ],
)
def test_question_check_reasons(question: str, reason: str | None) -> None:
    row = {
        "question": question,
        "answer": "In 1760, French zoologist Mathurin Jacques Brisson described it in his book Ornithologie.",
        "document_outline": "The black-capped chickadee",
    }
    out = run({"block": "question_check", "name": "check", "topic": "document_outline"}, [row])
    if reason is None:
        assert out.rows == [row] and not out.dropped
    else:
        assert not out.rows and out.dropped == {f"check: {reason}": 1} and out.rejected[0]["row"] == row


def test_answer_in_question() -> None:
    assert answer_in_question("Do chickadees eat seeds?", "Seeds.")
    assert not answer_in_question("What do chickadees eat?", "Seeds.")
    assert not answer_in_question("What do chickadees eat?", "Chickadees eat insects and seeds.")


def test_heldout_split_is_deterministic_and_never_leaks() -> None:
    def row(span: str, question: str, span_id: str) -> dict[str, Any]:
        return {"span": span, "answer": span, "question": question, "span_id": span_id}

    rows = [
        row("A one.", "What is a?", "0:0"),
        row("A one.", "Which is a?", "0:0"),
        row("A one.", "what is a", "0:0"),  # the same phrasing as the first, normalised
        row("B two.", "What is b?", "0:1"),  # a single phrasing: nothing held out
        row("C three.", "What is c?", "0:2"),
        row("C three.", "Which is c?", "0:2"),
        row("A one.", "Where is a?", "1:4"),  # the same span in an overlapping chunk
        {"question": "Which is c?", "answer": "a seed answer"},  # another row with a held-out question
    ]
    training, heldout = split_heldout(rows, seed=7, leaf="leaf")
    assert split_heldout(rows, seed=7, leaf="leaf") == (training, heldout)
    assert [h["answer"] for h in heldout] == ["A one.", "C three."]
    assert set(heldout[0]) == {"question", "answer", "leaf", "span_id"}
    held = {normalize(h["question"]) for h in heldout}
    assert not held & {normalize(r["question"]) for r in training}
    assert len(training) + len(heldout) < len(rows)  # duplicates of a held-out question went too
    others = {split_heldout(rows, seed=seed, leaf="leaf")[1][0]["question"] for seed in range(20)}
    assert len(others) > 1  # the seed decides which phrasing is held out


def test_simple_knowledge_pipeline_is_answer_first() -> None:
    pipelines = load_pipeline_set("simple")
    knowledge = pipelines.pipelines[next(iter(pipelines.pipelines))]
    kinds = [block.kind for block in knowledge.blocks]
    assert kinds[:3] == ["split_spans", "span_questions", "question_check"]
    assert knowledge.seed_rows == "per_chunk"
    full = load_pipeline_set("full")
    full_kinds = [block.kind for pipeline in full.pipelines.values() for block in pipeline.blocks]
    assert "grounding_check" in full_kinds and "question_check" in full_kinds


def test_a_pipeline_without_an_answer_column_fails_at_load(tmp_path: Path) -> None:
    folder = tmp_path / "pipes"
    folder.mkdir()
    for name in ("freeform_skills.yaml", "grounded_skills.yaml"):
        (folder / name).write_text((Path(load_pipeline_set("simple").folder) / name).read_text(), encoding="utf-8")
    (folder / "knowledge.yaml").write_text(
        "version: 1\ninputs: [document]\nblocks:\n  - block: split_spans\n    name: spans\n"
        "  - block: drop_columns\n    name: no_answer\n    columns: [answer]\n",
        encoding="utf-8",
    )
    with pytest.raises(
        LocatedError, match=r"knowledge\.yaml:6: the pipeline's rows lack answer, question, which mixing needs"
    ):
        load_pipeline_set(str(folder))


def test_span_questions_drop_questions_copied_from_the_prompt_examples() -> None:
    answers = iter(["Question: What does the koala eat in winter?", "Sure! What do chickadees cache for winter?"])
    asked: list[dict[str, Any]] = []

    class Teacher:
        async def chat(self, messages: list[dict[str, Any]], *, n: int = 1, **kwargs: Any) -> list[Any]:
            asked.append(kwargs)
            return [SimpleNamespace(text=next(answers))]

    block = build_block(
        {"block": "span_questions", "name": "ask", "prompt": "knowledge/question_for_span.yaml", "questions": 2},
        BuildEnv(Path()),
    )
    row = {"span": "Chickadees cache food for the winter.", "document": "Chickadees cache food for the winter."}
    out = asyncio.run(block.run([row], BlockContext(Teacher(), "seed")))
    assert [r["question"] for r in out.rows] == ["What do chickadees cache for winter?"]
    assert out.dropped == {"ask: copied_example": 1} and out.rejected[0]["words"] == ["koala"]
    assert len({kwargs["seed"] for kwargs in asked}) == 2  # separate, differently seeded samples


def test_chunks_are_not_shrunk_by_a_generous_answer_cap() -> None:
    from taxolab.sdg.chunks import ChunkPlan

    # a 4096-token answer cap on a 2048-token context once left 64-token chunks that cut most sentences
    assert ChunkPlan.fit(1000, 100, 2048, 4096).max_tokens == 2048 - 512 - 1024
    assert ChunkPlan.fit(1000, 100, 8192, 256).max_tokens == 1300


def test_question_prompt_sends_the_leafs_seed_examples_as_turns() -> None:
    """The leaf's own seed pairs are the few-shot turns, the same for every span of the leaf (so a prompt
    cache reuses them and reruns match) with the span last; generic turns are the fallback when the leaf
    has fewer than three."""
    from taxolab.sdg.library import SHIPPED
    from taxolab.sdg.prompts import load_prompt

    prompt = load_prompt(SHIPPED.parent / "prompts" / "knowledge" / "question_for_span.yaml")
    pool = [{"question": f"Q{i} about birds?", "answer": f"Birds  fact {i}.", "context": None} for i in range(5)]
    row = {"span": "Chickadees cache seeds.", "span_id": "0:1", "document": "d", "seed_pool": pool}
    messages = prompt.messages(row)
    turns = [m["content"] for m in messages if m["role"] in ("user", "assistant")][:-1]
    assert len(turns) == 6 and all(t.startswith(("Answer: Birds fact", "Question: Q")) for t in turns)
    assert prompt.messages(dict(row)) == messages  # the same row gets the same examples
    other = prompt.messages({**row, "span": "Chickadees sing.", "span_id": "3:0", "document": "e"})
    assert other[:-1] == messages[:-1] and other[-1]["content"] == "Answer: Chickadees sing."  # one prefix per leaf
    assert messages[-1]["content"] == "Answer: Chickadees cache seeds."
    fallback = prompt.messages({**row, "seed_pool": pool[:2]})
    assert any("Eiffel Tower" in m["content"] for m in fallback)


def test_seed_turns_are_the_seed_pairs_most_like_the_task() -> None:
    """Issue 16: the teacher turns one document sentence into a question, so its examples are seed pairs whose
    answer is one sentence of about a document sentence's length (not a yes/no, not three sentences), from
    distinct contexts. A random pick that drew a 3-sentence answer cut the chickadee run's kept pairs 186 -> 145."""
    from taxolab.sdg.prompts import pick_seed_turns

    sentence = "Black-capped chickadees cache seeds in bark crevices and remember {} of the places for weeks."
    pool = [
        {"question": "Long?", "answer": "It sings. It flies far away in winter. It nests in holes.", "context": "a"},
        {"question": "Do they sing?", "answer": "Yes, " + sentence.format("all"), "context": "a"},
        {"question": "Short?", "answer": "Seeds.", "context": "b"},
        {"question": "Where one?", "answer": sentence.format("most"), "context": "c"},
        {"question": "Where two?", "answer": sentence.format("many"), "context": "c"},
        {"question": "Where three?", "answer": sentence.format("some"), "context": "d"},
    ]
    picked = [e["question"] for e in pick_seed_turns(pool, 3)]
    assert set(picked[:2]) in ({"Where one?", "Where three?"}, {"Where two?", "Where three?"})  # distinct contexts
    assert picked[2] in {"Where one?", "Where two?"}  # a fitting pair before a fragment, a yes/no or a long one
    assert [e["question"] for e in pick_seed_turns(list(pool), 3)] == picked  # the same pool gets the same examples
