"""Settings of mixing: how generated rows and seed examples become the training sets (``mix.*``).

Only the mix stage reads them (:mod:`taxolab.mixing.training_sets`), so
changing one re-mixes and retrains but never asks the teacher again: they
used to sit under ``generate.*``, ``run.seed_examples`` and
``models.system_prompt``, where every change regenerated each leaf
(:mod:`taxolab.config.moved` still reads those keys, with a notice).

``system_prompt`` is the prompt of every training sample, so it lives here,
where training data is made; chat and evaluation send the same one by default
(``taxolab model chat``, every evaluation question) so the trained model is
asked the way it was taught. One key, one source of truth; the evaluate stage
declares that it reads it too (:data:`taxolab.workflow.stages.STAGES`).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from taxolab.config.sections import Section

FormKind = Literal[
    "questions",
    "restated",
    "fill_in",
    "wh_questions",
    "entity_questions",
    "cue_questions",
    "reverse",
    "permuted_passages",
]
FORM_KINDS: tuple[FormKind, ...] = get_args(FormKind)
"""The knowledge forms ``mix.forms`` may name (:mod:`taxolab.mixing.forms` builds them)."""
DEFAULT_FORMS: tuple[FormKind, ...] = tuple(
    kind for kind in FORM_KINDS if kind not in ("wh_questions", "entity_questions")
)
"""The forms trained unless ``mix.forms`` says otherwise. ``wh_questions`` is opt-in (in place of the fill-ins
the chickadee bench leaf answered 7/20 against 14; added to them, zebu 10/20 against 7 and lapis lazuli 7/20 against 10),
and so is ``entity_questions`` (added to them, zebu 10/20 against 8 and lapis lazuli 7/20 against 12, for 1.4x the
knowledge tokens per epoch; docs/train.md "The knowledge recipe"). ``cue_questions`` is on: each bench leaf's own
generation retrained with it added, nothing else changed, answered zebu 11/20 against 7 (5 questions gained, 1 lost)
and lapis lazuli 14/20 against 7 (8 gained, 1 lost; the run's own recall 90% against 57%), for 1.4x the knowledge
tokens per epoch: 13 gained against 2 lost, p = 0.007 (exact sign test), where retraining alone moved 4 and 3."""

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer accurately and concisely."


class MixSettings(Section):
    """Read only by mixing: a change mixes again from the generated rows and retrains, with no teacher request."""

    seed_examples: bool = Field(
        True,
        description="Add each leaf's human-written seed examples to the training mix (false: generated rows only).",
    )
    system_prompt: str = Field(
        DEFAULT_SYSTEM_PROMPT,
        description=(
            "System prompt of every training sample; chat and every evaluation question send it first by default, "
            "so the trained model is asked the way it was taught."
        ),
    )
    context_ratio: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Share of knowledge pairs also trained with their passage shown (RAFT); every pair is trained "
            "closed-book, and the document's passages are trained as plain text."
        ),
    )
    distractor_ratio: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of with-passage knowledge samples that get an unrelated passage next to the right one.",
    )
    knowledge_replay: float = Field(
        0.3, ge=0, description="Ratio of the knowledge samples replayed in the skills mix (phase 2)."
    )
    seed: int = Field(42, description="Seed for sampling and shuffling the mixes and for held-out test choices.")
    dev_fraction: float = Field(
        0.5,
        ge=0,
        lt=1,
        description=(
            "Share of each knowledge leaf's held-out pairs and test questions put in the dev split (checkpoint "
            "selection); the rest is the test split the report scores. Fixed by mix.seed and each question's text."
        ),
    )
    forms: list[FormKind] = Field(
        default_factory=lambda: list(DEFAULT_FORMS),
        description=(
            "Forms each knowledge fact is trained in: `questions` (the teacher's phrasings, closed-book and with "
            "the passage), `restated` (passages with every sentence standing alone), `fill_in` (a salient name or "
            "number blanked), `wh_questions` (the sentence asking for one of its names or numbers, answered whole), "
            "`entity_questions` (a short question about one of its names or years, answered whole), `cue_questions` "
            "(a question naming three of its words, answered whole), `reverse` (the subject asked for from the "
            "attribute), `permuted_passages` (sentence order shuffled). The document's passages are always trained; "
            "remove a kind to leave it out (`wh_questions` and `entity_questions` are off unless named)."
        ),
    )
    min_forms_per_fact: int = Field(
        8,
        ge=0,
        description="Facts (document spans) with fewer distinct trained forms are listed as short in forms/<leaf>.json.",
    )
    fill_in_per_fact: int = Field(
        3, ge=0, description="At most this many fill-in samples per fact (one per salient item)."
    )
    fill_in_answer: Literal["sentence", "item"] = Field(
        "sentence",
        description=(
            "What a fill-in sample's assistant turn holds: `sentence` (the whole sentence, the blank filled) or "
            "`item` (only the blanked name or number: the loss falls on the fact alone, in 0.75x the tokens; "
            "measured no better than `sentence` beyond run-to-run noise, docs/train.md)."
        ),
    )
    wh_questions_per_fact: int = Field(
        2,
        ge=0,
        description="At most this many wh-questions per fact (one per salient item, from the sentence's end).",
    )
    entity_questions_per_fact: int = Field(
        2,
        ge=0,
        description="At most this many entity-keyed questions per fact (one per name or year no other fact has).",
    )
    cue_questions_per_fact: int = Field(
        2,
        ge=0,
        description="At most this many cue questions per fact (each naming a different three of its content words).",
    )
    cue_question_style: Literal["about", "asked"] = Field(
        "about",
        description=(
            'How a cue question is put: `about` names three content words of the fact ("What is known about '
            "weaning, cows and calves (Zebu)?\"); `asked` also names what it asks for, as a user's question does "
            '("How many - Malagasy, proverbs and parlance (Zebu)?"; measured no better than `about` beyond '
            "run-to-run noise, docs/train.md)."
        ),
    )
    passage_permutations: int = Field(
        2, ge=0, description="Shuffled sentence orders of each passage trained besides the original order."
    )
    epoch_variants: int = Field(
        1,
        ge=1,
        description=(
            "Draws of the drawn forms (`fill_in`, `cue_questions`, `permuted_passages`): with N > 1 each is drawn "
            "N times and draw v is trained in the knowledge epochs e with e mod N = v, so each epoch sees other "
            "blanks, cue words and sentence orders in the same tokens (dynamic masking, as RoBERTa; docs/train.md)."
        ),
    )
