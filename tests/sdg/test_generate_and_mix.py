"""The one mixing step: held-out questions never reach training, a garbage teacher still gives a true
training set, and `data generate` makes the same training files as `taxolab run`'s data stages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.cli.main import main
from taxolab.config import load_config
from taxolab.config.schema import Config
from taxolab.mixing.messages import validate_sample
from taxolab.mixing.splits import split_of
from taxolab.mixing.training_sets import heldout_test_questions
from taxolab.sdg.spans import document_spans
from taxolab.taxonomy import load_leaves
from taxolab.taxonomy.model import Leaf
from taxolab.taxonomy.sample import write_sample
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.text import normalize
from taxolab.workflow.data import LeafData, TeacherSession, generate_and_mix, generate_leaf, mix_leaves

from .conftest import scripted


def sample_leaves(tmp_path: Path) -> tuple[Path, list[Leaf]]:
    root = write_sample(tmp_path / "taxonomy").taxonomy
    return root, load_leaves(root, "empty")


def config_for(url: str, tmp_path: Path, root: Path) -> Config:
    return load_config(
        None,
        {
            "generate": {"endpoint_urls": [url], "sdg_scale_factor": 1, "batch_size": 2, "concurrency": 4},
            "paths": {"datasets": str(tmp_path / "datasets"), "taxonomy": str(root)},
            "taxonomy": {"base": "empty"},
        },
    )


def training_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("messages/*.jsonl"), *folder.glob("*_train_msgs_*.jsonl")])


def user_texts(folder: Path) -> list[str]:
    return [
        normalize(message["content"])
        for path in training_files(folder)
        for sample in fsio.read_jsonl(path)
        for message in sample["messages"]
        if message["role"] == "user"
    ]


def test_heldout_questions_never_reach_a_training_file(tmp_path: Path) -> None:
    root, leaves = sample_leaves(tmp_path)
    with FakeOpenAIServer(scripted) as teacher:
        result = generate_and_mix(config_for(teacher.url, tmp_path, root), leaves=leaves, show_progress=False)
    folder = result.output_dir
    knowledge = next(leaf for leaf in leaves if leaf.is_knowledge)
    test_split = fsio.read_jsonl(folder / "heldout" / f"{knowledge.name}.jsonl")
    dev_split = fsio.read_jsonl(folder / "dev" / "heldout" / f"{knowledge.name}.jsonl")
    heldout = dev_split + test_split
    assert len(heldout) > 20 and dev_split and test_split
    # dev (checkpoint selection) and test (the report) are disjoint, and each question's split is its own
    assert not {normalize(p["question"]) for p in dev_split} & {normalize(p["question"]) for p in test_split}
    assert {split_of(p["question"], seed=load_config(None, {}).generate.seed, dev_fraction=0.5) for p in dev_split} == {
        "dev"
    }
    texts = user_texts(folder)
    assert texts
    for pair in heldout:
        question = normalize(pair["question"])
        # neither as a closed-book question nor inside a with-context prompt
        assert not any(question == text or f"question {question}" in text for text in texts), pair
    mixed = result.manifest["counts"]["leaves"][knowledge.name]["mixed"]
    assert mixed["heldout"] == len(heldout) and mixed["passages"] > 1
    assert (mixed["heldout_dev"], mixed["heldout_test"]) == (len(dev_split), len(test_split))
    assert result.manifest["counts"]["knowledge_train_msgs"] > 0
    knowledge_mix = fsio.read_jsonl(next(folder.glob("knowledge_train_msgs_*.jsonl")))
    assert all(validate_sample(sample) is None for sample in knowledge_mix)
    kinds = {sample["metadata"]["sample_type"] for sample in knowledge_mix}
    assert {"closed_book", "passage"} <= kinds and kinds & {"context", "context_with_distractor"}
    system = {s["messages"][0]["content"] for s in knowledge_mix if s["messages"][0]["role"] == "system"}
    assert system == {result.manifest["settings"].get("system_prompt") or load_config(None, {}).mix.system_prompt}


def garbage(request: dict[str, Any]) -> str:
    """A teacher whose every question is unusable and whose test questions do not parse."""
    system = request["messages"][0]["content"].lower()
    seed = int(request.get("seed") or 0) % 3
    if "quiz question for a given answer" in system:
        return ["I am not sure what you mean", "What does this sentence say?", ""][seed]
    if "multiple-choice" in system:
        return "Sorry, I cannot write questions."
    return scripted(request)


def test_a_garbage_teacher_still_gives_a_true_non_empty_training_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, leaves = sample_leaves(tmp_path)
    knowledge = next(leaf for leaf in leaves if leaf.is_knowledge)
    with FakeOpenAIServer(garbage) as teacher:
        result = generate_and_mix(config_for(teacher.url, tmp_path, root), leaves=[knowledge], show_progress=False)
    folder = result.output_dir
    counts = result.manifest["counts"]["leaves"][knowledge.name]
    assert counts["rows"] == 0 and counts["heldout"] == 0
    dropped = counts["dropped"]
    assert set(dropped) == {
        "check_questions: not_a_question",
        "check_questions: not_standalone",
        "write_questions: unparseable teacher output",
    }
    rejected = fsio.read_jsonl(folder / "dropped" / f"{knowledge.name}.jsonl")
    assert len(rejected) == sum(dropped.values()) + counts["test_dropped"].get(
        "generate_mcq: unparseable teacher output", 0
    )
    assert all("_raw" in entry["row"] and "seed_pool" not in entry["row"] for entry in rejected)

    samples = fsio.read_jsonl(next(folder.glob("knowledge_train_msgs_*.jsonl")))
    assert samples and all(validate_sample(sample) is None for sample in samples)
    seed_answers = {example.answer.strip() for example in knowledge.seed_examples}
    passages = {p["text"] for p in fsio.read_jsonl(folder / "passages" / f"{knowledge.name}.jsonl")}
    spans = {span for text in passages for span in document_spans(text)}
    for sample in samples:
        last = sample["messages"][-1]
        # nothing the teacher wrote: only seed answers and the document's own sentences (as answers of the
        # teacher-free forms, in its passages and in their permuted orders)
        if last["role"] == "assistant":
            assert last["content"] in seed_answers | spans
        else:
            text = last["content"]
            for span in sorted(spans, key=len, reverse=True):
                text = text.replace(span, "")
            assert last["content"] in passages or not text.strip()
    assert {s["metadata"]["sample_type"] for s in samples} >= {"passage", "closed_book"}
    assert not (folder / "test" / f"{knowledge.name}.jsonl").exists()

    # `data show --dropped` shows what was refused, why, and what the teacher said
    assert main(["data", "show", str(folder / "generated" / f"{knowledge.name}.jsonl"), "--dropped", "-n", "1000"]) == 0
    out = capsys.readouterr().out
    assert "check_questions: not_standalone" in out and "What does this sentence say?" in out
    assert "teacher (write_questions):" in out


def test_heldout_multiple_choice_needs_no_teacher() -> None:
    sentences = [
        "The chickadee eats insects and seeds through the long winter.",
        "The chickadee nests in tree holes in early spring every year.",
        "The call of the chickadee sounds like its own name, chick-a-dee.",
        "Male chickadees sing a clear two-note fee-bee song in spring.",
    ]
    passages = [{"text": " ".join(sentences)}]
    heldout = [{"question": "Where does the chickadee nest?", "answer": sentences[1]}]
    (question,) = heldout_test_questions(heldout, passages, seed=1, leaf="birds")
    assert question["source"] == "heldout" and len(set(question["choices"])) == 4
    assert question["choices"][question["answer"]] == sentences[1] and set(question["choices"]) == set(sentences)
    assert heldout_test_questions(heldout, passages, seed=1, leaf="birds") == [question]
    # a pair whose answer names its pronoun's referent: the document's text is the right choice, never twice
    sentences[1] = "It nests in tree holes in early spring every year."
    passages = [{"text": " ".join(sentences)}]
    resolved = {**heldout[0], "answer": "The chickadee nests in tree holes in early spring every year."}
    (question,) = heldout_test_questions([{**resolved, "answer_original": sentences[1]}], passages, 1, "birds")
    assert question["choices"][question["answer"]] == sentences[1] and set(question["choices"]) == set(sentences)


def test_data_generate_and_the_run_stages_make_identical_training_files(tmp_path: Path) -> None:
    root, leaves = sample_leaves(tmp_path)
    with FakeOpenAIServer(scripted) as teacher:
        config = config_for(teacher.url, tmp_path, root)
        generated = generate_and_mix(
            config, leaves=leaves, output_dir=tmp_path / "generate", show_progress=False
        ).output_dir
        run = tmp_path / "run"
        items = []
        with TeacherSession(config) as session:
            for leaf in leaves:
                folder = run / "data" / leaf.name / "inputs-hash"  # as RunLayout.leaf_data names it
                generate_leaf(session, leaf, folder, show_progress=False)
                items.append(LeafData(leaf, folder))
        mix = mix_leaves(items, run / "mix", "run", config)
    assert mix["mixes"]["knowledge_train_msgs"] > 0 and mix["mixes"]["skills_train_msgs"] > 0

    def contents(folder: Path) -> dict[str, Any]:
        found = {}
        for sub in ("messages", "heldout", "test", "passages", "dev/heldout", "dev/test"):
            for path in sorted(folder.glob(f"{sub}/*.jsonl")):
                found[f"{sub}/{path.name}"] = path.read_text(encoding="utf-8")
        for path in folder.glob("*_train_msgs_*.jsonl"):
            found[path.name.split("_msgs_")[0]] = path.read_text(encoding="utf-8")
        return found

    made, ran = contents(generated), contents(run / "mix")
    assert set(made) == set(ran) and {"knowledge_train", "skills_train"} <= set(made)
    assert made == ran
    assert json.loads(made["knowledge_train"].splitlines()[0])["messages"]
    # beside a skills leaf's samples the skills mix replays knowledge samples (LAB phase 2)
    skills_kinds = {json.loads(line)["metadata"]["kind"] for line in made["skills_train"].splitlines()}
    assert "knowledge" in skills_kinds and len(skills_kinds) > 1, skills_kinds


def test_data_generate_honours_mix_seed_examples_and_remixes_without_the_teacher(tmp_path: Path) -> None:
    """`mix.seed_examples` is read by `data generate` too; a mix setting reuses the generated rows."""
    root, leaves = sample_leaves(tmp_path)
    skill = [leaf for leaf in leaves if not leaf.is_knowledge]
    with FakeOpenAIServer(scripted) as teacher:
        config = config_for(teacher.url, tmp_path, root)
        without = config.model_copy(update={"mix": config.mix.model_copy(update={"seed_examples": False})})
        first = generate_and_mix(without, leaves=skill, show_progress=False)
        asked = len(teacher.requests)
        second = generate_and_mix(config, leaves=skill, show_progress=False)
        assert len(teacher.requests) == asked  # the same generation: its finished run is reused
    assert second.output_dir == first.output_dir
    (name,) = [leaf.name for leaf in skill]
    assert first.manifest["counts"]["leaves"][name]["mixed"]["seed_examples"] == 0
    assert second.manifest["counts"]["leaves"][name]["mixed"]["seed_examples"] == len(skill[0].seed_examples) > 0


def test_a_resolved_answer_is_shown_with_the_paragraph_that_holds_its_original() -> None:
    from taxolab.mixing.training_sets import _shown

    document = "# Chickadee\n\nThe chickadee is small. It nests in tree holes.\n\nOther birds migrate south in autumn."
    row = {
        "span": "The chickadee nests in tree holes.",
        "answer": "The chickadee nests in tree holes.",
        "answer_original": "It nests in tree holes.",
        "document": document,
    }
    assert _shown(row)["document"] == "The chickadee is small. It nests in tree holes."
