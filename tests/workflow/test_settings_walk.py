"""Every setting is hashed by exactly the stages whose engines read it (issue 18).

A real `taxolab run` (scripted fake teacher on 127.0.0.1, real generation, real mixing, real
training of a tiny random-weight model) is traced: while a stage's engine runs, every read of a
settings field is recorded. Then every field that affects results is changed, one at a time, to
another valid value, and each stage's inputs are recomputed. For generate, mix and train:

- a field the engine read must change the stage's inputs (else a rerun would reuse stale work);
- a field that changes the stage's inputs must have been read by the engine (else a rerun would
  redo work for nothing: `generate.context_ratio` regenerated every leaf for a share only the mix
  reads). The few fields this run's path does not reach are listed in NOT_REACHED with the reason,
  and the test checks the list stays true.

Moving a field to the wrong section (a mixing setting under `generate:`) fails both ways.
Evaluation and conversion run as stand-ins here (they need served models and llama.cpp's
converter); their inputs are checked against their declared reads only.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from taxolab.config import Config
from taxolab.config.affects import Affects, affects, read_settings
from taxolab.config.sections import Section
from taxolab.hashing import hash_json
from taxolab.sdg import library
from taxolab.testing.fake_openai import FakeOpenAIServer
from taxolab.workflow import run as run_module
from taxolab.workflow.profiles import load_run_config, resolve_profile
from taxolab.workflow.run import (
    MixOutputs,
    RunOptions,
    convert_inputs,
    evaluate_inputs,
    generation_inputs,
    mix_inputs,
    run_workflow,
    train_inputs,
)
from taxolab.workflow.stages import STAGE

from .test_run_resume_kill import scripted_teacher
from .test_run_skipping import StandIns

Key = tuple[str, str]  # (section, field)

SECTIONS: dict[type[BaseModel], str] = {
    info.annotation: name
    for name, info in Config.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
}

NOT_REACHED: dict[str, dict[Key, str]] = {"generate": {}, "mix": {}, "train": {}}
"""Fields a stage hashes that this run's path never reads, and why (none today: the LoRA settings, say,
are read even by a full fine-tune)."""

RECORDED_ONLY: dict[str, dict[Key, str]] = {
    "generate": {
        ("taxonomy", "base"): "written into generation.json to describe the run; `taxolab run` hands generation "
        "its leaves, which are hashed file by file",
    },
    "mix": {},
    "train": {},
}
"""Fields an engine reads only to describe its work in its record, never to compute it."""

SPECIAL = {("generate", "pipeline"): "full", ("run", "outtype"): "q8_0"}
"""Values for fields whose other values must name something that exists."""


class Reads:
    """Which settings fields are read (attribute access on a config section) while :meth:`during` is active."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.active: str | None = None
        self.seen: dict[str, set[Key]] = {}
        reads = self

        def spy(section: Any, name: str) -> Any:
            if reads.active is not None:
                kind = object.__getattribute__(section, "__class__")
                if kind in SECTIONS and name in kind.model_fields:
                    reads.seen.setdefault(reads.active, set()).add((SECTIONS[kind], name))
            return object.__getattribute__(section, name)

        monkeypatch.setattr(Section, "__getattribute__", spy, raising=False)

    @contextlib.contextmanager
    def during(self, stage: str) -> Iterator[None]:
        self.active = stage
        try:
            yield
        finally:
            self.active = None

    def wrap(self, stage: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def traced(*args: Any, **kwargs: Any) -> Any:
            with self.during(stage):
                return work(*args, **kwargs)

        return traced


def other_value(section: BaseModel, name: str) -> BaseModel:
    """``section`` with field ``name`` set to another valid value."""
    model = type(section)
    value = getattr(section, name)
    annotation = model.model_fields[name].annotation
    literals = [a for arg in (annotation, *get_args(annotation)) if get_origin(arg) is Literal for a in get_args(arg)]
    pool: list[Any] = [SPECIAL[(SECTIONS[model], name)]] if (SECTIONS[model], name) in SPECIAL else []
    pool += literals
    if isinstance(value, bool):
        pool += [not value]
    elif isinstance(value, int):
        pool += [value + 1, value - 1]
    elif isinstance(value, float):
        pool += [value / 2, value + 0.1, 0.25]
    elif isinstance(value, str):
        pool += [value + "-x"]
    elif isinstance(value, list):
        pool += [value[:-1], [*value, "x"]]
    elif isinstance(value, dict):
        pool += [{**value, "x": "y"}]
    elif value is None:
        pool += [2, 0.5, "x", ["x"]]
    for candidate in pool:
        try:
            changed = model.model_validate({**section.model_dump(), name: candidate})
        except ValidationError:
            continue
        if getattr(changed, name) != value:
            return changed
    raise AssertionError(f"no other valid value found for {SECTIONS[model]}.{name} (add one to SPECIAL)")


def with_field(config: Config, key: Key) -> Config:
    section, name = key
    return config.model_copy(update={section: other_value(getattr(config, section), name)})


def result_fields() -> list[Key]:
    return [
        (section, name)
        for model, section in SECTIONS.items()
        for name in model.model_fields
        if affects(model, name) is not Affects.SPEED
    ]


def load_training_kit() -> Any:
    path = Path(__file__).resolve().parents[1] / "training" / "training_kit.py"
    spec = importlib.util.spec_from_file_location("walk_training_kit", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(600)
def test_every_setting_is_hashed_by_exactly_the_stages_that_read_it(
    taxonomy: Path, tmp_path: Path, default_hf_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenizer = tmp_path / "tokenizer"
    tokenizer.mkdir()
    for item in default_hf_model.iterdir():
        if item.name.startswith(("tokenizer", "special_tokens", "chat_template", "vocab", "merges")):
            shutil.copy(item, tokenizer / item.name)
    student = load_training_kit().make_tiny_model(tmp_path / "student", tokenizer)

    reads = Reads(monkeypatch)
    real = {"generate": run_module.generate_leaf, "mix": run_module.mix_leaves, "train": run_module.train_model}
    StandIns(monkeypatch)  # evaluation, conversion and the report
    monkeypatch.setattr(run_module, "generate_leaf", reads.wrap("generate", real["generate"]))
    monkeypatch.setattr(run_module, "mix_leaves", reads.wrap("mix", real["mix"]))
    monkeypatch.setattr(run_module, "train_model", reads.wrap("train", real["train"]))
    profile = resolve_profile("cpu-small")
    with FakeOpenAIServer(scripted_teacher()) as teacher:  # type: ignore[arg-type]
        overrides = {
            "models": {"student": str(student)},
            "generate": {"endpoint_urls": [teacher.url], "sdg_scale_factor": 1},
            "mix": {"context_ratio": 0.5},  # cpu-small has none: reach the with-passage samples
            "train": {"knowledge_epochs": 1, "max_seq_len": 256, "max_batch_len": 512},
            "run": {"max_chunks_per_leaf": 1},
        }
        config = load_run_config(None, profile, overrides)
        options = RunOptions(taxonomy, "auto", profile, show_progress=False)
        result = run_workflow(config, options)
    assert set(reads.seen) == {"generate", "mix", "train"}

    context = run_module.prepare_run(config, options)
    config, leaves, layout = context.config, context.leaves, context.layout
    manifest = run_module.RunManifest.load(layout.root)
    mix = MixOutputs.of(manifest.stages["mix"])
    train_hash = manifest.stages["train"].input_hash
    items = [
        run_module.LeafData(leaf, layout.leaf_data(leaf.name, hash_json(generation_inputs(config, leaf))))
        for leaf in leaves
    ]
    inputs: dict[str, Callable[[Config], Any]] = {
        "generate": lambda c: [generation_inputs(c, leaf) for leaf in leaves],
        "mix": lambda c: mix_inputs(c, items),
        "train": lambda c: train_inputs(c, mix),
        "evaluate": lambda c: evaluate_inputs(c, train_hash, layout, leaves),
        "convert": lambda c: convert_inputs(c, train_hash),
    }
    # the traced run's own inputs are what the stages recorded (the walk starts from the real state)
    assert hash_json(inputs["mix"](config)) == manifest.stages["mix"].input_hash
    assert result.stages

    # the walk hashes each stage's inputs ~100 times over unchanged files: load the pipelines once
    monkeypatch.setattr(library, "load_pipeline_set", functools.cache(library.load_pipeline_set))
    baseline = {stage: inputs[stage](config) for stage in inputs}
    hashed: dict[str, set[Key]] = {stage: set() for stage in inputs}
    for key in result_fields():
        changed = with_field(config, key)
        for stage, of in inputs.items():
            if of(changed) != baseline[stage]:
                hashed[stage].add(key)

    problems = []
    for stage in ("generate", "mix", "train"):
        read = {key for key in reads.seen[stage] if key in set(result_fields())}
        for key in sorted(read - hashed[stage] - RECORDED_ONLY[stage].keys()):
            problems.append(f"{stage} reads {'.'.join(key)} but its inputs do not hold it (stale reuse)")
        for key in sorted(hashed[stage] - read - NOT_REACHED[stage].keys()):
            problems.append(f"{stage} hashes {'.'.join(key)} but never reads it (needless rerun)")
        for key in sorted(NOT_REACHED[stage].keys() & read):
            problems.append(f"{stage} does read {'.'.join(key)}: remove it from NOT_REACHED")
        for key in sorted(RECORDED_ONLY[stage].keys() - (read - hashed[stage])):
            problems.append(f"{stage}: {'.'.join(key)} is not read-but-unhashed: remove it from RECORDED_ONLY")
    for stage in ("evaluate", "convert"):
        declared = {
            (section, name) for section, values in _declared(config, STAGE[stage].reads).items() for name in values
        }
        for key in sorted(hashed[stage] ^ declared):
            problems.append(f"{stage}: {'.'.join(key)} hashed {key in hashed[stage]}, declared {key in declared}")
    assert problems == [], "\n".join(problems)


def _declared(config: Config, reads: tuple[str, ...]) -> dict[str, list[str]]:
    """The (section, field) pairs a ``reads`` declaration puts into a fingerprint."""
    found: dict[str, list[str]] = {}
    for read, value in read_settings(config, reads, selection=True).items():
        section, _, key = read.partition(".")
        found.setdefault(section, []).extend([key] if key else list(value))
    return found
