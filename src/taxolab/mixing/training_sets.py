"""The one mixing step: every leaf's generation folder -> the run's training sets and test files.

``taxolab data generate`` and ``taxolab run`` both call :func:`build_training_sets`,
so for the same taxonomy, teacher and seed they train on the same files.

Per leaf it reads what generation wrote (:mod:`taxolab.sdg.outputs`) and writes,
under ``out_dir`` (the layout and its names: :mod:`taxolab.datarun`):

- ``messages/<leaf>.jsonl``: knowledge leaves -- every pair closed-book, a
  ``context_ratio`` share also with its passage (RAFT, sometimes beside a
  distractor passage), the leaf's seed examples the same way, every
  document passage as a ``pretraining`` sample, and the teacher-free forms of
  each fact (``mix.forms``, :mod:`taxolab.mixing.forms`); skill leaves -- one sample per
  row plus the seed examples. Every chat sample starts with ``mix.system_prompt``, and
  every sample records the questions it trains (``"questions"`` beside ``"messages"``;
  evaluation reads it to refuse trained questions, the trainer ignores it).
- ``forms/<leaf>.json``: forms per fact (:func:`taxolab.mixing.forms.count_forms`).
- ``heldout/<leaf>.jsonl``: the held-out pairs, minus any whose question is
  also a training question (a seed example, say); and no training row keeps a
  held-out question (compared normalised, :func:`taxolab.sdg.spans.normalize`),
  nor does any knowledge sample hold a held-out or test question's text.
- ``test/<leaf>.jsonl``: the teacher's multiple-choice questions, or, when it
  made none, questions built from the held-out pairs with other spans of the
  same documents as wrong choices (``"source": "heldout"``; no teacher needed).
- ``dev/heldout/<leaf>.jsonl``, ``dev/test/<leaf>.jsonl``: the dev split of the two
  above (``mix.dev_fraction`` of the questions, fixed by the seed): checkpoint
  selection reads only these, the report only the others (:mod:`taxolab.mixing.splits`).
- ``recipes/{knowledge,skills}.yaml`` and ``knowledge_train_msgs_<run>.jsonl``,
  ``skills_train_msgs_<run>.jsonl`` (the skills mix replays ``knowledge_replay``
  of the knowledge samples beside the skills samples; with none, there is no skills mix).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxolab import fsio
from taxolab.datarun import (
    DROPPED,
    GENERATED,
    HELDOUT,
    KNOWLEDGE_MIX,
    LEAF_FOLDERS,
    MESSAGES,
    MIX_FOLDERS,
    PASSAGES,
    SKILLS_MIX,
    TEST,
    DataRun,
)
from taxolab.errors import TaxolabError
from taxolab.mixing import forms
from taxolab.mixing.messages import knowledge_samples, pretraining_samples, skill_samples
from taxolab.mixing.mix import mix_recipe
from taxolab.mixing.recipe import write_recipe
from taxolab.mixing.review import Applied, Review, batch_files
from taxolab.mixing.settings import DEFAULT_FORMS
from taxolab.mixing.splits import read_unsplit, write_split
from taxolab.sdg.spans import document_spans, strip_markdown
from taxolab.text import normalize

if TYPE_CHECKING:
    from taxolab.config.schema import Config
    from taxolab.taxonomy.model import Leaf

MORE_PARTS = (GENERATED, DROPPED)
"""What a further batch (``data review --more``) adds to a leaf; held-out pairs, tests and passages stay the first's."""


@dataclass(frozen=True)
class LeafSource:
    """A leaf and the folder its generation wrote (``generated/<leaf>.jsonl`` ...); ``review``: its decisions file.

    The decisions (:mod:`taxolab.mixing.review`) are applied to the rows and
    held-out pairs read from ``folder``; None or a missing file means none.
    """

    leaf: Leaf
    folder: Path
    review: Path | None = None


@dataclass(frozen=True)
class MixOptions:
    """What mixing does with the rows: the ``mix.*`` settings (:class:`taxolab.mixing.settings.MixSettings`)."""

    seed: int
    distractor_ratio: float
    knowledge_replay: float
    context_ratio: float
    system_prompt: str
    with_seeds: bool = True
    dev_fraction: float = 0.5
    forms: tuple[str, ...] = DEFAULT_FORMS
    min_forms_per_fact: int = 8
    fill_in_per_fact: int = 3
    fill_in_answer: str = "sentence"
    passage_permutations: int = 2
    wh_questions_per_fact: int = 2
    entity_questions_per_fact: int = 2
    cue_questions_per_fact: int = 2
    cue_question_style: str = "about"
    epoch_variants: int = 1

    @classmethod
    def from_config(cls, config: Config) -> MixOptions:
        """The options of ``config.mix``: the only settings mixing reads (the mix stage hashes that section)."""
        settings = config.mix
        return cls(
            seed=settings.seed,
            distractor_ratio=settings.distractor_ratio,
            knowledge_replay=settings.knowledge_replay,
            context_ratio=settings.context_ratio,
            system_prompt=settings.system_prompt,
            with_seeds=settings.seed_examples,
            dev_fraction=settings.dev_fraction,
            forms=tuple(settings.forms),
            min_forms_per_fact=settings.min_forms_per_fact,
            fill_in_per_fact=settings.fill_in_per_fact,
            fill_in_answer=settings.fill_in_answer,
            passage_permutations=settings.passage_permutations,
            wh_questions_per_fact=settings.wh_questions_per_fact,
            entity_questions_per_fact=settings.entity_questions_per_fact,
            cue_questions_per_fact=settings.cue_questions_per_fact,
            cue_question_style=settings.cue_question_style,
            epoch_variants=settings.epoch_variants,
        )


def build_training_sets(sources: list[LeafSource], out_dir: Path, run: str, options: MixOptions) -> dict[str, Any]:
    """Write the training sets, held-out and test files of ``sources`` under ``out_dir``; returns counts and paths.

    ``out_dir`` may be the generation folder itself (``data generate``) or a
    separate folder the leaves' files are copied into (``taxolab run``).
    Returns ``{"mixes": {name: samples}, "leaves": {leaf: counts}, "paths": [...]}``.
    Raises :class:`taxolab.errors.TaxolabError` when a recipe names a missing file.
    """
    for source in sources:
        if not DataRun(source.folder).leaf_file(GENERATED, source.leaf.name).is_file():
            raise TaxolabError(
                f"{source.folder}: no generated rows for leaf {source.leaf.name}; generate it again "
                "(rerun the same command)"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    run_dir = DataRun(out_dir)
    _clear_mix(run_dir)
    for source in sources:
        if source.folder.resolve() != out_dir.resolve():
            _copy_leaf(source, out_dir)
    leaves = sorted(sources, key=lambda source: source.leaf.name)
    rows = {s.leaf.name: _read(run_dir.leaf_file(GENERATED, s.leaf.name)) for s in leaves}
    seeds = {s.leaf.name: seed_rows(s.leaf) if options.with_seeds else [] for s in leaves}
    heldout = {s.leaf.name: read_unsplit(out_dir, HELDOUT, s.leaf.name) for s in leaves}
    reviewed = {s.leaf.name: _reviewed(s, rows[s.leaf.name], heldout[s.leaf.name]) for s in leaves}
    rows = {name: applied.rows for name, applied in reviewed.items()}
    heldout = {name: applied.heldout for name, applied in reviewed.items()}
    # a held-out question that is also a training question (a seed, say) cannot be held out, nor one whose words
    # are a run of a document's text ("Is sister to the mountain chickadee?"): keeping it out of training would
    # drop every passage and form that holds the sentence (issue 16: a fact lost all its forms that way)
    trained = {normalize(str(r["question"])) for name in rows for r in rows[name] + seeds[name]}
    documents = _document_text(run_dir, leaves)
    heldout = {
        name: [h for h in pairs if normalize(h["question"]) not in trained and not _in_text(h["question"], documents)]
        for name, pairs in heldout.items()
    }
    held = {normalize(h["question"]) for pairs in heldout.values() for h in pairs}
    # an edited held-out pair stays held out: its original question reaches no training row either
    held |= {normalize(q) for applied in reviewed.values() for q in applied.withheld_questions}
    # a rejected held-out pair leaves the evaluation set, the teacher's test question of the same text too
    unasked = {normalize(q) for applied in reviewed.values() for q in applied.dropped_questions}
    # and so does a teacher's test question that is a run of the documents' text (as held-out pairs above)
    test_questions = [str(t.get("question") or "") for s in leaves for t in read_unsplit(out_dir, TEST, s.leaf.name)]
    unasked |= {normalize(q) for q in test_questions if _in_text(q, documents)}
    # what any evaluation asks (held-out pairs, the teacher's test questions) never reaches a training sample
    asked = held | {normalize(q) for q in test_questions}
    asked -= unasked

    rng = random.Random(options.seed)
    shown = {s.leaf.name: [_shown(r) for r in rows[s.leaf.name] + seeds[s.leaf.name]] for s in leaves}
    pool = sorted({r["document"] for s in leaves if s.leaf.is_knowledge for r in shown[s.leaf.name]})
    knowledge_files: list[Path] = []
    skill_files: list[Path] = []
    skill_samples_written = 0
    per_leaf: dict[str, dict[str, Any]] = {}
    for source in leaves:
        name = source.leaf.name
        kept = [r for r in rows[name] if normalize(str(r["question"])) not in held]
        training = kept + seeds[name]
        shown_training = [r for r in shown[name] if normalize(str(r["question"])) not in held]
        path = run_dir.leaf_file(MESSAGES, name)
        counts: dict[str, Any] = {
            "generated": len(rows[name]),
            "seed_examples": len(seeds[name]),
            "removed_as_heldout": len(rows[name]) - len(kept),
            "review_rejected": reviewed[name].rejected,
            "review_edited": reviewed[name].edited,
        }
        if source.leaf.is_knowledge:
            passages = _read(run_dir.leaf_file(PASSAGES, name))
            if "questions" not in options.forms:  # the human-written seed examples stay (mix.seed_examples)
                shown_training = [r for r in shown_training if r.get("dataset_type") == "seed_example"]
            samples = knowledge_samples(
                shown_training,
                pool,
                distractor_ratio=options.distractor_ratio,
                rng=rng,
                system=options.system_prompt,
                context_ratio=options.context_ratio,
            )
            samples += pretraining_samples(passages)
            facts_rows = rows[name] + heldout[name]
            samples, fact_counts = _with_forms(
                source.leaf, samples=samples, passages=passages, rows=facts_rows, held=asked, options=options
            )
            fsio.write_json(forms.forms_file(out_dir, name), fact_counts)
            counts.update(forms.summary(fact_counts), forms_by_kind=fact_counts["by_kind"])
            fsio.write_jsonl(path, samples)
            knowledge_files.append(path)
            tests, test_source = _tests(out_dir, name, heldout[name], passages, options.seed, unasked=unasked)
            seed, fraction = options.seed, options.dev_fraction
            heldout_dev, heldout_test = write_split(
                out_dir, HELDOUT, name, heldout[name], seed=seed, dev_fraction=fraction
            )
            tests_dev, tests_test = write_split(out_dir, TEST, name, tests, seed=seed, dev_fraction=fraction)
            counts.update(
                heldout=len(heldout[name]),
                heldout_dev=heldout_dev,
                heldout_test=heldout_test,
                passages=len(passages),
                samples=len(samples),
                test_questions=len(tests),
                test_questions_dev=tests_dev,
                test_questions_test=tests_test,
                test_source=test_source,
            )
        else:
            samples = skill_samples(training, system=options.system_prompt)
            fsio.write_jsonl(path, samples)
            skill_files.append(path)
            skill_samples_written += len(samples)
            counts.update(samples=len(samples))
        per_leaf[name] = counts

    mixes = _write_mixes(out_dir, run, knowledge_files, skill_files, options, replay=skill_samples_written > 0)
    paths = [str(p) for p in run_dir.mixes()]
    return {"mixes": mixes, "leaves": per_leaf, "paths": paths}


def _with_forms(
    leaf: Leaf,
    *,
    samples: list[dict[str, Any]],
    passages: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    held: set[str],
    options: MixOptions,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The leaf's samples plus its teacher-free forms (``mix.forms``), minus held-out questions; and the forms count.

    The forms draw from their own seeded generator, so turning a kind on or off
    leaves the other samples as they were.
    """
    facts = forms.leaf_facts(passages, rows)
    samples = samples + forms.teacher_free_samples(
        options.forms,
        facts,
        passages,
        subject=forms.leaf_subject(rows),
        kind=forms.subject_kind(leaf.domain),
        system=options.system_prompt,
        fill_in_per_fact=options.fill_in_per_fact,
        fill_in_answer=options.fill_in_answer,
        permutations=options.passage_permutations,
        wh_questions_per_fact=options.wh_questions_per_fact,
        entity_questions_per_fact=options.entity_questions_per_fact,
        cue_questions_per_fact=options.cue_questions_per_fact,
        cue_question_style=options.cue_question_style,
        variants=options.epoch_variants,
        rng=random.Random(f"{options.seed}:{leaf.name}:forms"),
    )
    samples, removed = forms.without_heldout(samples, held)
    fact_counts = forms.count_forms(facts, samples, min_forms=options.min_forms_per_fact)
    fact_counts["removed_as_heldout"] = removed
    return samples, fact_counts


def _document_text(run_dir: DataRun, leaves: list[LeafSource]) -> str:
    """Every knowledge passage of ``leaves``, normalised and joined, padded with spaces for whole-word search."""
    texts = [
        normalize(str(p.get("text") or ""))
        for s in leaves
        if s.leaf.is_knowledge
        for p in _read(run_dir.leaf_file(PASSAGES, s.leaf.name))
    ]
    return " " + " | ".join(texts) + " "


def _in_text(question: str, documents: str) -> bool:
    """Whether ``question``'s normalised words are a run of words of the documents' text."""
    words = normalize(question)
    return bool(words) and f" {words} " in documents


def seed_rows(leaf: Leaf) -> list[dict[str, Any]]:
    """The leaf's seed examples as rows of the generated shape (knowledge rows carry their context as document)."""
    rows = []
    for example in leaf.seed_examples:
        row: dict[str, Any] = {"question": example.question, "answer": example.answer, "leaf": leaf.name}
        if leaf.is_knowledge:
            row.update(document=example.context or "", dataset_type="seed_example")
        elif example.context:
            row["context"] = example.context
        rows.append(row)
    return rows


def heldout_test_questions(
    heldout: list[dict[str, Any]], passages: list[dict[str, Any]], seed: int, leaf: str
) -> list[dict[str, Any]]:
    """Four-choice questions from held-out pairs: the source span and three other spans of the leaf's documents.

    No teacher is needed; each row says ``"source": "heldout"``. Pairs whose
    documents hold fewer than three other spans give no question.
    """
    spans = list(dict.fromkeys(span for p in passages for span in document_spans(str(p["text"]))))
    rng = random.Random(f"{seed}:{leaf}:heldout-mcq")
    questions = []
    for pair in heldout:
        answer = str(pair.get("answer_original") or pair["answer"]).strip()  # document text, as the others
        others = [span for span in spans if normalize(span) != normalize(answer)]
        if len(others) < 3:
            continue
        choices = [answer, *rng.sample(others, 3)]
        rng.shuffle(choices)
        questions.append(
            {
                "question": pair["question"],
                "choices": choices,
                "answer": choices.index(answer),
                "leaf": leaf,
                "source": "heldout",
            }
        )
    return questions


def _tests(
    out_dir: Path,
    leaf: str,
    heldout: list[dict[str, Any]],
    passages: list[dict[str, Any]],
    seed: int,
    *,
    unasked: set[str],
) -> tuple[list[dict[str, Any]], str | None]:
    """The leaf's multiple-choice questions (both splits; the caller writes them split) and their source."""
    teacher = [
        row
        for row in read_unsplit(out_dir, TEST, leaf)
        if row.get("source", "teacher") != "heldout" and normalize(str(row.get("question") or "")) not in unasked
    ]
    if teacher:
        return teacher, "teacher"
    built = heldout_test_questions(heldout, passages, seed, leaf)
    if built:
        return built, "heldout"
    return [], None


def _write_mixes(
    out_dir: Path, run: str, knowledge: list[Path], skills: list[Path], options: MixOptions, *, replay: bool
) -> dict[str, int]:
    """Both recipes and both mixes; a mix with no sample is left out (no phase to train).

    ``replay``: whether the skills files hold any sample (the caller counted them as it wrote them).
    The skills mix replays knowledge samples only beside skills samples: without any (a knowledge-only
    taxonomy) it would be nothing but replay, a second pass over a share of the knowledge mix at a lower
    rate, and the run trains the knowledge phase alone. Measured on the cpu-small chickadee run
    (2026-12-07): the knowledge checkpoint against the replay-only skills phase after it answered 14 and 15
    of the bench's 20 questions, the dev split 22/35 and 15/35, MMLU 0.180 and 0.187 (150 questions), and
    the MT-Bench reference answers' log-likelihood was higher before that phase (-3.63 against -3.78); with
    the earlier zebu (11 and 9) and lapis lazuli (11 and 12) runs the bench questions gave 36 either way,
    and the phase took ~3 of the run's 53 minutes (docs/train.md, "One phase for a knowledge-only taxonomy").
    """
    outputs = {
        KNOWLEDGE_MIX: [(p, 1.0) for p in knowledge],
        SKILLS_MIX: [(p, 1.0) for p in skills] + ([(p, options.knowledge_replay) for p in knowledge] if replay else []),
    }
    counts = {}
    run_dir = DataRun(out_dir)
    for name, datasets in outputs.items():
        output = run_dir.mix_file(name, run)
        recipe = run_dir.recipe(name)
        write_recipe(recipe, output, list(datasets), options.seed)
        counts[name] = mix_recipe(recipe).rows
        if counts[name] == 0:
            output.unlink(missing_ok=True)
    return counts


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """The row as a training sample shows it: passages as plain text (no Markdown link targets), and for an
    answer-first row the paragraph holding its span rather than the whole chunk (a chunk is ~1,300 tokens;
    a paragraph is what the question needs, and keeps the with-context samples cheap to train on CPU)."""
    document = _plain(row.get("document") or "")
    span = row.get("answer_original") or row.get("span")
    if span:
        document = next((p for p in document.split("\n\n") if span in p), span)
    shown = {**row, "document": document}
    if row.get("raw_document"):
        shown["raw_document"] = _plain(row["raw_document"])
    return shown


def _plain(text: Any) -> str:
    return strip_markdown(str(text))


def _clear_mix(run: DataRun) -> None:
    for folder in MIX_FOLDERS:
        shutil.rmtree(run.part(folder), ignore_errors=True)
    for old in run.mixes():
        old.unlink()


def _copy_leaf(source: LeafSource, out_dir: Path) -> None:
    leaf, run = source.leaf.name, DataRun(out_dir)
    for folder in LEAF_FOLDERS:
        path = DataRun(source.folder).leaf_file(folder, leaf)
        target = run.leaf_file(folder, leaf)
        target.unlink(missing_ok=True)
        # a previous mix's dev split of this leaf is stale once the generation's files are copied again
        run.dev_file(folder, leaf).unlink(missing_ok=True)
        batches = batch_files(source.folder, folder, leaf) if folder in MORE_PARTS else []
        if len(batches) > 1:  # further batches a review asked for: their rows follow the first batch's
            fsio.write_jsonl(target, [row for batch in batches for row in fsio.read_jsonl(batch)])
        elif path.is_file():
            fsio.copy_file(path, target)


def _reviewed(source: LeafSource, rows: list[dict[str, Any]], heldout: list[dict[str, Any]]) -> Applied:
    if source.review is None:
        return Applied(rows, heldout)
    return Review.load(source.review, source.leaf.name).apply(rows, heldout)


def _read(path: Path) -> list[dict[str, Any]]:
    return fsio.read_jsonl(path) if path.is_file() else []
