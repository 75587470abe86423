"""Many true forms per fact: the teacher-free forms, the count per fact, and held-out questions kept out of all."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from taxolab import fsio
from taxolab.config import load_config
from taxolab.mixing import MixOptions, build_training_sets
from taxolab.mixing.forms import (
    Fact,
    count_forms,
    cue_question_samples,
    entity_items,
    entity_question_samples,
    fill_in_samples,
    leaf_facts,
    leaf_subject,
    permuted_passages,
    reverse_samples,
    salient_items,
    short_facts,
    subject_kind,
    teacher_free_samples,
    trained_counts,
    wh_phrase,
    wh_question_samples,
    without_heldout,
)
from taxolab.mixing.messages import validate_sample
from taxolab.mixing.settings import FORM_KINDS
from taxolab.mixing.splits import read_unsplit
from taxolab.mixing.training_sets import LeafSource
from taxolab.sdg.spans import document_spans, strip_markdown
from taxolab.taxonomy.model import Leaf, LeafKind
from taxolab.text import normalize

LEAF = "knowledge_animals_chickadee"
DOCUMENT = """# Black-capped chickadee

The black-capped chickadee (Poecile atricapillus) is a small songbird of North America. It is a member of the
Paridae family, also known as tits. The black-capped chickadee feeds primarily on insects and seeds in winter.

Black-capped chickadees build nests in tree cavities from late April until late June. They lay on average 6–8 eggs,
which hatch after 11–14 days. Both sexes weigh 10–14 g (0.35–0.49 oz) when they are fully grown.

The black-capped chickadee is the state bird of Maine and Massachusetts in the United States. Its call gives the
chickadee its name, and the bird is well known for the song it sings in spring.
"""
REVERSE_QUESTION = "Which animal feeds primarily on insects and seeds in winter?"
"""A held-out phrasing that a teacher-free form (reverse) would build word for word."""


def options(**changes: Any) -> MixOptions:
    base = MixOptions(seed=3, distractor_ratio=0.5, knowledge_replay=0.3, context_ratio=0.0, system_prompt="sys")
    return MixOptions(**{**base.__dict__, **changes})


def write_leaf(
    tmp_path: Path, *, heldout: list[str] | None = None, document: str = DOCUMENT
) -> tuple[Leaf, Path, list[str]]:
    """A one-chunk knowledge leaf as generation leaves it: two teacher phrasings of each span, held-out pairs."""
    qna = tmp_path / "taxonomy" / "knowledge" / "animals" / "chickadee" / "qna.yaml"
    qna.parent.mkdir(parents=True)
    qna.write_text("version: 3\n", encoding="utf-8")
    leaf = Leaf(qna, tmp_path / "taxonomy", LeafKind.KNOWLEDGE, 3, "me", [], domain="animals")
    assert leaf.name == LEAF
    folder = tmp_path / "generation"
    spans = document_spans(document)
    rows = [
        {"leaf": LEAF, "chunk_index": 0, "document": document, "span": span, "answer": span, "span_id": f"0:{i}",
         "dataset_type": "answer_first", "question": f"What does the document say, point {i} phrasing {k}?"}
        for i, span in enumerate(spans)
        for k in range(2)
    ]  # fmt: skip
    fsio.write_jsonl(folder / "generated" / f"{LEAF}.jsonl", rows)
    fsio.write_jsonl(
        folder / "passages" / f"{LEAF}.jsonl", [{"text": strip_markdown(document), "leaf": LEAF, "index": 0}]
    )
    held = [{"question": q, "answer": spans[0], "leaf": LEAF, "span_id": "0:0"} for q in heldout or []]
    if held:
        fsio.write_jsonl(folder / "heldout" / f"{LEAF}.jsonl", held)
    return leaf, folder, spans


def training_texts(out: Path) -> list[str]:
    """Every non-system message of every training file, normalised."""
    paths = [*out.glob("messages/*.jsonl"), *out.glob("*_train_msgs_*.jsonl")]
    return [
        normalize(message["content"])
        for path in paths
        for sample in fsio.read_jsonl(path)
        for message in sample["messages"]
        if message["role"] != "system"
    ]


def test_every_fact_gets_its_minimum_forms_or_is_listed_short(tmp_path: Path) -> None:
    leaf, folder, spans = write_leaf(tmp_path)
    out = tmp_path / "mix"
    built = build_training_sets([LeafSource(leaf, folder)], out, "r", options(min_forms_per_fact=8, forms=FORM_KINDS))
    counts = json.loads((out / "forms" / f"{LEAF}.json").read_text(encoding="utf-8"))
    assert counts["facts"] == len(spans) == len(counts["per_fact"])
    short = {fact["span_id"] for fact in counts["short"]}
    samples = fsio.read_jsonl(out / "messages" / f"{LEAF}.jsonl")
    assert all(validate_sample(sample) is None for sample in samples)
    for fact, span in zip(counts["per_fact"], spans, strict=True):
        # recount from the training file: distinct samples whose trained text holds the span
        holding = {
            json.dumps(sample["messages"])
            for sample in samples
            if any(
                f" {normalize(span)} " in f" {normalize(m['content'])} "
                for m in sample["messages"]
                if m["role"] in ("assistant", "pretraining")
            )
        }
        assert fact["forms"] == len(holding), span
        assert fact["forms"] >= 8 or fact["span_id"] in short
        # every fact is trained in several kinds, not only as teacher questions
        assert {"questions", "passages", "permuted_passages"} <= set(fact["by_kind"]), span
    assert counts["min"] >= 6 and not counts["none"]
    assert {"fill_in", "wh_questions", "reverse", "questions", "passages", "permuted_passages"} <= set(
        counts["by_kind"]
    )
    assert short_facts(out, LEAF) == counts["short"]
    mixed = built["leaves"][LEAF]
    assert mixed["facts"] == len(spans) and mixed["forms_min"] == counts["min"]
    assert mixed["facts_short"] == len(short) and mixed["forms_median"] == counts["median"]


def test_a_fact_with_no_trained_form_is_listed(tmp_path: Path) -> None:
    facts = [Fact("0:0", "The chickadee sings in spring.", "The chickadee sings in spring.", 0)]
    counts = count_forms(facts, [], min_forms=2)
    assert counts["none"] == [{"span_id": "0:0", "span": "The chickadee sings in spring."}]
    assert counts["short"][0]["forms"] == 0 and counts["min"] == 0


def test_the_same_sample_twice_is_one_form() -> None:
    fact = Fact("0:0", "The chickadee sings in spring.", "The chickadee sings in spring.", 0)
    sample = {"messages": [{"role": "pretraining", "content": "Intro. The chickadee sings in spring."}], "metadata": {}}
    other = {"messages": [{"role": "pretraining", "content": "The chickadee sings in spring. Outro."}], "metadata": {}}
    counts = count_forms([fact], [sample, dict(sample), other], min_forms=1)
    assert counts["per_fact"][0]["forms"] == 2 and not counts["short"]


def test_no_heldout_phrasing_reaches_a_training_file_through_any_form(tmp_path: Path) -> None:
    """Held-out questions chosen to collide with each kind: a reverse question built word for word, and a question
    the document itself asks (so its passages, restated and permuted passages and fill-ins all hold it): the first
    stays held out and no form carries it; the second leaves the held-out set and every passage is trained."""
    asked = "Why do chickadees cache food?"
    document = DOCUMENT.replace("in spring.\n", f"in spring. {asked} They remember where they hid it for months.\n")
    leaf, folder, _spans = write_leaf(tmp_path, heldout=[REVERSE_QUESTION, asked], document=document)
    passages = fsio.read_jsonl(folder / "passages" / f"{LEAF}.jsonl")
    rows = fsio.read_jsonl(folder / "generated" / f"{LEAF}.jsonl")
    facts = leaf_facts(passages, rows)
    unfiltered = teacher_free_samples(
        FORM_KINDS, facts, passages, subject=leaf_subject(rows), kind=subject_kind("animals"), system="s",
        fill_in_per_fact=3, permutations=2, rng=random.Random(0), wh_questions_per_fact=2,
        entity_questions_per_fact=2, cue_questions_per_fact=2, variants=1,
    )  # fmt: skip
    held = [normalize(REVERSE_QUESTION), normalize(asked)]
    colliding = {
        sample["metadata"]["sample_type"]
        for sample in unfiltered
        if any(q in normalize(" ".join(m["content"] for m in sample["messages"])) for q in held)
    }
    assert colliding >= {"reverse", "fill_in", "permuted_passage"}  # each kind would have carried one
    out = tmp_path / "mix"
    build_training_sets([LeafSource(leaf, folder)], out, "r", options())
    texts = training_texts(out)
    assert texts and not [text for text in texts if held[0] in text]
    counts = json.loads((out / "forms" / f"{LEAF}.json").read_text(encoding="utf-8"))
    assert counts["removed_as_heldout"] >= 1  # the reverse question built word for word
    # the question the document asks cannot be held out: holding it out would drop every passage of its sentence
    # (issue 16, "Is sister to the mountain chickadee?" took all forms of a fact); it leaves the evaluation set
    assert [normalize(h["question"]) for h in read_unsplit(out, "heldout", LEAF)] == [held[0]]
    samples = fsio.read_jsonl(out / "messages" / f"{LEAF}.jsonl")
    trained_passages = [s for s in samples if s["metadata"]["sample_type"] in ("passage", "permuted_passage")]
    assert any(held[1] in normalize(s["messages"][0]["content"]) for s in trained_passages)


@pytest.mark.parametrize("kind", FORM_KINDS)
def test_each_form_kind_can_be_turned_off_without_changing_the_others(tmp_path: Path, kind: str) -> None:
    leaf, folder, _spans = write_leaf(tmp_path)
    everything = fsio.read_jsonl(_mix(tmp_path / "all", leaf, folder, FORM_KINDS) / "messages" / f"{LEAF}.jsonl")
    kept = tuple(k for k in FORM_KINDS if k != kind)
    without = fsio.read_jsonl(_mix(tmp_path / "less", leaf, folder, kept) / "messages" / f"{LEAF}.jsonl")
    types = {
        "questions": {"closed_book", "context", "context_with_distractor"},
        "restated": {"restated_passage"},
        "fill_in": {"fill_in"},
        "wh_questions": {"wh_question"},
        "entity_questions": {"entity_question"},
        "cue_questions": {"cue_question"},
        "reverse": {"reverse"},
        "permuted_passages": {"permuted_passage"},
    }[kind]
    assert not [s for s in without if s["metadata"]["sample_type"] in types]
    assert [s for s in everything if s["metadata"]["sample_type"] not in types] == without


def _mix(out: Path, leaf: Leaf, folder: Path, kinds: tuple[str, ...]) -> Path:
    build_training_sets([LeafSource(leaf, folder)], out, "r", options(forms=kinds))
    return out


def test_restated_passages_use_the_standalone_answer() -> None:
    text = "The chickadee is a small bird of the north. It eats seeds and insects in the winter months."
    passages = [{"text": text, "leaf": LEAF, "index": 0}]
    resolved = "The chickadee eats seeds and insects in the winter months."
    rows = [{"span": "It eats seeds and insects in the winter months.", "answer": resolved}]
    facts = leaf_facts(passages, rows)
    assert facts[1].standalone == resolved and facts[1].span.startswith("It ")
    (restated,) = teacher_free_samples(
        ["restated"], facts, passages, subject=None, kind=None, system="s", fill_in_per_fact=1, permutations=0,
        rng=random.Random(0), wh_questions_per_fact=0, entity_questions_per_fact=0, cue_questions_per_fact=0,
        variants=1,
    )  # fmt: skip
    assert restated["messages"][0]["content"] == f"The chickadee is a small bird of the north. {resolved}"
    assert count_forms(facts, [restated], min_forms=1)["per_fact"][1]["forms"] == 1  # the restatement holds the fact


def test_salient_items_names_numbers_not_the_subject_or_a_unit_conversion() -> None:
    subject = "the black-capped chickadee"
    items = salient_items("Both sexes weigh 10–14 g (0.35–0.49 oz) in Maine and North America.", subject)
    assert items == ["10–14", "Maine", "North America"]
    assert "Poecile atricapillus" in salient_items("The black-capped chickadee (Poecile atricapillus) sings.", subject)
    assert salient_items("It has a white belly, buff sides, and grey wings.", subject) == ["buff sides", "grey wings"]
    assert salient_items("The black-capped chickadee sings loudly in the dark forest.", subject) == ["the dark forest"]


def test_fill_in_blanks_one_item_and_answers_with_the_whole_sentence() -> None:
    span = "They lay on average 6–8 eggs, which hatch after 11–14 days."
    samples = fill_in_samples([Fact("0:1", span, span, 0, LEAF)], "the chickadee", system="s", per_fact=5)
    users = [s["messages"][1]["content"] for s in samples]
    assert users == [
        "Fill in the blank in this sentence about the chickadee: They lay on average ___ eggs, which hatch after 11–14 days.",
        "Fill in the blank in this sentence about the chickadee: They lay on average 6–8 eggs, which hatch after ___ days.",
    ]
    assert {s["messages"][2]["content"] for s in samples} == {span}
    assert samples[0]["metadata"] == {"leaf": LEAF, "kind": "knowledge", "sample_type": "fill_in", "span_id": "0:1"}


def test_fill_in_with_item_answers_trains_the_item_alone_and_still_counts_as_a_form_of_its_fact() -> None:
    span = "The edges of the wings are paler than the Carolina chickadee, and the bib than the Carolina chickadee."
    fact = Fact("0:1", span, span, 0, LEAF)
    samples = fill_in_samples([fact], "the black-capped chickadee", system="s", per_fact=1, answer="item")
    assert [s["messages"][2]["content"] for s in samples] == ["Carolina"]
    assert samples[0]["messages"][1]["content"].count("___") == 2  # the item is blanked wherever it stands
    # the prompt's sentence with its blanks filled is the fact: the item-only sample is one of its forms
    assert count_forms([fact], samples, min_forms=1)["per_fact"][0]["forms"] == 1
    with pytest.raises(ValueError, match="'sentence' or 'item'"):
        fill_in_samples([fact], None, system="s", per_fact=1, answer="word")


def test_wh_questions_ask_for_an_item_from_the_sentence_end_and_answer_with_the_whole_sentence() -> None:
    span = "They lay on average 6–8 eggs, which hatch after 11–14 days."
    named = "In 1999, researchers at Texas A&M University cloned a zebu (Bos indicus)."
    facts = [Fact("0:1", span, span, 0, LEAF), Fact("0:2", named, named, 0, LEAF)]
    samples = wh_question_samples(facts, "the zebu", system="s", per_fact=2)
    asked = [(s["messages"][1]["content"], s["messages"][2]["content"]) for s in samples]
    assert asked == [
        ("They lay on average 6–8 eggs, which hatch after how many days?", span),
        ("They lay on average how many eggs, which hatch after 11–14 days?", span),
        ("In 1999, researchers at what cloned a zebu (Bos indicus)?", named),  # the parenthesis stays whole
        ("In 1999, researchers at Texas A&M University cloned a zebu (what)?", named),
    ]
    assert samples[0]["metadata"]["sample_type"] == "wh_question" and samples[0]["questions"] == [asked[0][0]]
    assert len(wh_question_samples(facts, "the zebu", system="s", per_fact=1)) == 2
    # an item that occurs twice cannot be asked for unambiguously
    twice = "Maine borders Quebec, and Quebec borders Ontario."
    asked = [s["messages"][1]["content"] for s in wh_question_samples([Fact("0:0", twice, twice, 0)], None,
             system="s", per_fact=3)]  # fmt: skip
    assert asked == ["Maine borders Quebec, and Quebec borders what?"]


def test_entity_questions_are_keyed_on_a_name_or_year_of_the_fact_and_answered_with_the_whole_sentence() -> None:
    canchim = "The resulting breed, 63% Charolais and 37% zebu, is called the Canchim."
    cloned = "In 1999, researchers at Texas A&M University successfully cloned a zebu."
    gestation = "The gestation period averages 285 days, but varies with the age of the mother."
    charolais = "In the early 20th century in Brazil, zebu were crossbred with Charolais cattle."
    facts = [Fact(f"0:{i}", text, text, 0, LEAF) for i, text in enumerate([canchim, cloned, gestation, charolais])]
    assert entity_items(canchim, "the zebu") == ["Charolais", "Canchim"]  # no "63%": that is asked for, not about
    assert entity_items(gestation, "the zebu") == []  # "285 days" is no year
    assert entity_items(cloned, "the zebu") == ["1999", "Texas A&M University"]
    samples = entity_question_samples(facts, "the zebu", system="s", per_fact=1)
    asked = {s["messages"][2]["content"]: s["messages"][1]["content"] for s in samples}
    assert "Canchim" in asked[canchim]  # "Charolais" is a key of two facts: the one only this fact has goes first
    assert asked[cloned] == "What happened in 1999 concerning the zebu?"
    assert "gestation" in asked[gestation]  # no name or year: a word no other fact has
    assert asked[charolais].endswith(("?", ".")) and "the zebu" in asked[charolais]
    assert all(s["metadata"]["sample_type"] == "entity_question" for s in samples)
    assert samples[0]["questions"] == [samples[0]["messages"][1]["content"]]
    assert len(entity_question_samples(facts, "the zebu", system="s", per_fact=2)) > len(samples)
    # without a subject the question names the key alone; reruns ask the same
    alone = entity_question_samples(facts[:1], None, system="s", per_fact=1)
    assert alone[0]["messages"][1]["content"] in (
        "What do you know about Charolais?",
        "What is known about Charolais?",
        "Tell me about Charolais.",
    )
    assert alone == entity_question_samples(facts[:1], None, system="s", per_fact=1)


def test_cue_questions_name_three_content_words_but_not_the_item_and_are_answered_whole() -> None:
    weaning = (
        "Studies on the natural weaning of zebu cattle have shown that cows wean their calves over a 2-week period."
    )
    short = "Zebu graze."
    facts = [Fact("0:0", weaning, weaning, 0, LEAF), Fact("0:1", short, short, 0, LEAF)]
    samples = cue_question_samples(facts, "Zebu", system="s", per_fact=2)
    assert {s["messages"][2]["content"] for s in samples} == {weaning}  # "Zebu graze." has one content word: none
    assert len(samples) == 1  # one salient item (the closing phrase "a 2-week period") asks one question
    question = samples[0]["messages"][1]["content"]
    assert question.endswith(("(Zebu)?", "(Zebu)."))
    named = question.split(" about ")[-1].split(" (")[0].replace(" and ", ", ").split(", ")
    content = {"Studies", "natural", "weaning", "cattle", "shown", "cows", "wean", "calves", "period"}
    assert len(named) == 3 and set(named) <= content  # three content words, in the sentence's order
    assert named == sorted(named, key=weaning.index)
    assert (
        "2-week" not in question and "period" not in named and "zebu" not in " ".join(named).lower()
    )  # not the item, not the subject
    assert samples[0]["metadata"]["sample_type"] == "cue_question"
    assert samples == cue_question_samples(facts, "Zebu", system="s", per_fact=2)  # reruns ask the same
    counted = count_forms(facts[:1], samples, min_forms=1)
    assert counted["by_kind"] == {"cue_questions": 1}


def test_asked_cue_questions_name_what_they_ask_for_and_not_the_item() -> None:
    """mix.cue_question_style=asked: each question names the withheld item's kind ("how many", "in what year",
    "what percentage", "which" for a name) beside three content words, in either order, answered whole."""
    canchim = "The resulting breed, 63% Charolais and 37% zebu, is called the Canchim."
    cloned = "In 1999, researchers at Texas A&M University successfully cloned a zebu."
    proverbs = "In Madagascar there are 6,813 proverbs, sayings and expressions referring to zebu."
    facts = [Fact(f"0:{i}", t, t, 0, LEAF) for i, t in enumerate((canchim, cloned, proverbs))]
    samples = [
        s
        for v in range(3)
        for s in cue_question_samples(facts, "Zebu", system="s", per_fact=2, variant=v, style="asked")
    ]
    asked = {}
    for sample in samples:
        question, answer = sample["messages"][1]["content"], sample["messages"][2]["content"]
        wh = question[:-1].split(" - ")[0].lower() if " - " in question else question[:-1].split(": ")[-1]
        asked.setdefault(answer, set()).add(wh)
        assert "(Zebu)" in question and question.endswith("?")
        assert not any(item in question for item in ("63%", "37%", "1999", "6,813"))
    assert asked[canchim] >= {"what percentage"} and asked[canchim] <= {"what percentage", "which"}
    assert asked[cloned] >= {"in what year"} and asked[cloned] <= {"in what year", "which"}
    assert "how many" in asked[proverbs]
    assert {q["messages"][1]["content"].startswith(("Which", "What", "How", "In what")) for q in samples} == {
        True,
        False,
    }  # the kind of question first in some, after the cues in others
    about = cue_question_samples(facts, "Zebu", system="s", per_fact=2)
    assert about == cue_question_samples(facts, "Zebu", system="s", per_fact=2, style="about")
    assert [s["messages"][2] for s in about] == [s["messages"][2] for s in samples[: len(about)]]
    with pytest.raises(ValueError, match="cue question style"):
        cue_question_samples(facts, "Zebu", system="s", per_fact=2, style="loud")


@pytest.mark.parametrize(
    ("item", "before", "phrase"),
    [
        ("1999", "In ", "what year"),
        ("7570 BC", "dated to ", "what year"),
        ("63%", "The breed, ", "what percentage"),
        ("6,813", "there are ", "how many"),
        ("Texas A&M University", "researchers at ", "what"),
    ],
)
def test_wh_phrase_by_kind_of_item(item: str, before: str, phrase: str) -> None:
    assert wh_phrase(item, before) == phrase


def test_reverse_questions_only_where_the_leaf_subject_is_the_grammatical_subject() -> None:
    def fact(text: str) -> Fact:
        return Fact("0:0", text, text, 0)

    texts = [
        "The black-capped chickadee (Poecile atricapillus) feeds on insects and seeds.",
        "Black-capped chickadees build nests in tree cavities.",
        "The hippocampus of the black-capped chickadee grows in autumn.",
        "The black-capped chickadee's song has two notes.",
        "It lays six to eight eggs each year.",
        "The black-capped chickadee is often confused with the black-capped chickadee hybrid.",
    ]
    samples = reverse_samples([fact(t) for t in texts], "the black-capped chickadee", ("animal", "animals"), system="s")
    assert [s["messages"][1]["content"] for s in samples] == [
        "Which animal feeds on insects and seeds?",
        "Which animals build nests in tree cavities?",
    ]
    assert samples[1]["messages"][2]["content"] == texts[1]
    assert reverse_samples([fact(texts[0])], None, ("animal", "animals"), system="s") == []
    (no_kind,) = reverse_samples([fact(texts[0])], "the black-capped chickadee", None, system="s")
    assert no_kind["messages"][1]["content"] == "What feeds on insects and seeds?"


def test_subject_from_the_title_and_kind_from_the_domain() -> None:
    assert (
        leaf_subject([{"chunk_index": 0, "document": "# Black-capped chickadee\nText."}])
        == "the black-capped chickadee"
    )
    assert leaf_subject([{"chunk_index": 0, "document": "# Phoenix (constellation)\n\nText."}]) == "Phoenix"
    assert leaf_subject([{"document": "no title"}]) is None
    assert subject_kind("animals") == ("animal", "animals") and subject_kind("species") == ("species", "species")
    assert subject_kind("Astronomy") is None and subject_kind("galaxies") == ("galaxy", "galaxies")


def test_permuted_passages_are_new_orders_of_the_same_sentences_and_reproducible() -> None:
    text = " ".join(f"Sentence number {i} says something true about the bird." for i in range(5))
    passages = [{"text": text, "leaf": LEAF, "index": 0}]
    facts = leaf_facts(passages, [])
    (first,) = permuted_passages(passages, facts, count=3, rng=random.Random(4))
    (again,) = permuted_passages(passages, facts, count=3, rng=random.Random(4))
    contents = [s["messages"][0]["content"] for s in first]
    assert contents == [s["messages"][0]["content"] for s in again] and len(set(contents)) == 3
    assert text not in contents
    assert all(sorted(document_spans(c)) == sorted(document_spans(text)) for c in contents)


def test_data_show_gives_forms_per_fact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from taxolab.cli.main import main

    leaf, folder, spans = write_leaf(tmp_path)
    out = tmp_path / "run" / "data" / "mix"
    build_training_sets([LeafSource(leaf, folder)], out, "r", options(min_forms_per_fact=100))
    for target in (out, tmp_path / "run", out / "forms" / f"{LEAF}.json"):
        assert main(["data", "show", str(target), "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown[LEAF]["facts"] == len(spans) and len(shown[LEAF]["short"]) == len(spans)
    assert main(["data", "show", str(out)]) == 0
    text = capsys.readouterr().out
    assert "forms per fact" in text and LEAF in text and "more short facts" in text
    assert main(["data", "show", str(out / "knowledge_train_msgs_r.jsonl"), "-n", "1"]) == 0
    assert "forms per fact" in capsys.readouterr().out  # a training file is followed by its mix's forms
    assert main(["data", "show", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "no forms per fact recorded" in err and "Traceback" not in err


def test_run_report_shows_forms_per_fact(tmp_path: Path) -> None:
    from taxolab.reports.run_report import write_run_report
    from taxolab.workflow.data import LeafData, mix_leaves
    from taxolab.workflow.layout import RunLayout
    from taxolab.workflow.manifest import RunManifest, StageRecord

    leaf, folder, spans = write_leaf(tmp_path)
    layout = RunLayout(tmp_path / "run")
    config = load_config(None, {"mix": {"min_forms_per_fact": 9}})
    mixed = mix_leaves([LeafData(leaf, folder)], layout.mix, "run", config)
    counts = mixed["leaves"][LEAF]
    manifest = RunManifest.load(layout.root)
    manifest.info.update(profile={"name": "cpu-small", "summary": "small"}, options={"taxonomy_base": "empty"})
    entry = {"name": LEAF, "kind": "knowledge", "version": 3, "path": "knowledge/animals/chickadee/qna.yaml"}
    manifest.stages["taxonomy"] = StageRecord("h", {"leaves": [entry]}, 0.0, 1.0)
    manifest.stages["mix"] = StageRecord("h", json.loads(json.dumps(mixed)), 0.0, 1.0)
    html = write_run_report(layout, manifest, chat_command="taxolab model chat").read_text(encoding="utf-8")
    row = (
        f"<td>{LEAF}</td><td>{len(spans)}</td><td>{counts['forms_min']}</td><td>{counts['forms_median']}</td>\n"
        f"    <td>{counts['facts_short']} (&lt; 9)</td><td>0</td>"
    )
    assert "Forms per fact" in html and row in html
    shortest = min(fact["forms"] for fact in short_facts(layout.mix, LEAF))
    assert f"<td>{shortest}</td>" in html and "fill_in " in html


def test_heldout_search_is_by_normalised_whole_words() -> None:
    def chat(user: str) -> dict[str, Any]:
        return {"messages": [{"role": "system", "content": "What eats seeds?"}, {"role": "user", "content": user},
                             {"role": "assistant", "content": "ok"}]}  # fmt: skip

    held = {normalize("What eats seeds?"), normalize("Why?"), normalize("Where does the chickadee nest in spring?")}
    samples = [
        chat("Tell me: WHAT eats  seeds, then?"),  # case, spacing and punctuation do not hide it
        chat("What eats seedsmen?"),  # not the whole word
        chat("why not"),  # a one-word question is a whole word too
        chat("Where does the chickadee nest in summer?"),
        chat("Q: where does the chickadee nest in spring"),
    ]
    kept, removed = without_heldout(samples, held)
    assert removed == 3 and [s["messages"][1]["content"] for s in kept] == [
        "What eats seedsmen?",
        "Where does the chickadee nest in summer?",
    ]  # the system prompt is never searched


def test_a_teacher_test_question_never_reaches_a_training_sample(tmp_path: Path) -> None:
    leaf, folder, _spans = write_leaf(tmp_path)
    build_training_sets([LeafSource(leaf, folder)], tmp_path / "before", "r", options())
    assert [text for text in training_texts(tmp_path / "before") if normalize(REVERSE_QUESTION) in text]
    mcq = {
        "question": REVERSE_QUESTION,
        "choices": ["a", "b", "c", "d"],
        "answer": 0,
        "leaf": LEAF,
        "source": "teacher",
    }
    fsio.write_jsonl(folder / "test" / f"{LEAF}.jsonl", [mcq])
    out = tmp_path / "mix"
    built = build_training_sets([LeafSource(leaf, folder)], out, "r", options())
    assert not [text for text in training_texts(out) if normalize(REVERSE_QUESTION) in text]
    assert read_unsplit(out, "test", LEAF) == [mcq] and built["leaves"][LEAF]["test_source"] == "teacher"


def test_a_teacher_test_question_made_of_document_text_leaves_the_test_set(tmp_path: Path) -> None:
    """The test-question side of the held-out rule above: a question whose words are a run of the document cannot
    be kept out of training without dropping the document's passages, so it is not asked and the passages stay."""
    asked = "Why do chickadees cache food?"
    document = DOCUMENT.replace("in spring.\n", f"in spring. {asked} They remember where they hid it for months.\n")
    leaf, folder, _spans = write_leaf(tmp_path, document=document)
    mcq = {"question": asked, "choices": ["a", "b", "c", "d"], "answer": 0, "leaf": LEAF, "source": "teacher"}
    fsio.write_jsonl(folder / "test" / f"{LEAF}.jsonl", [mcq])
    out = tmp_path / "mix"
    build_training_sets([LeafSource(leaf, folder)], out, "r", options())
    assert [text for text in training_texts(out) if normalize(asked) in text]  # the passages are trained
    assert normalize(asked) not in {normalize(str(t["question"])) for t in read_unsplit(out, "test", LEAF)}


def test_mix_fill_in_answer_reaches_the_training_file(tmp_path: Path) -> None:
    leaf, folder, _ = write_leaf(tmp_path)
    config = load_config(None, {"mix": {"fill_in_answer": "item", "forms": ["questions", "fill_in"]}})
    out = tmp_path / "mix"
    build_training_sets([LeafSource(leaf, folder)], out, "r", MixOptions.from_config(config))
    rows = [json.loads(line) for line in (out / "knowledge_train_msgs_r.jsonl").read_text().splitlines()]
    fill_ins = [r["messages"] for r in rows if r["metadata"].get("sample_type") == "fill_in"]
    assert fill_ins and all(len(m[-1]["content"].split()) <= 6 for m in fill_ins)  # the item, never the sentence
    counted = json.loads((out / "forms" / f"{LEAF}.json").read_text())
    assert counted["by_kind"]["fill_in"] == len(fill_ins)  # each still counts as a form of its fact


def test_epoch_variants_draw_new_blanks_cues_and_orders_per_epoch_with_the_same_samples_per_epoch(
    tmp_path: Path,
) -> None:
    """mix.epoch_variants=3 (one fill-in per fact, as cpu-small): fill-ins, cue questions and permuted passages
    are drawn three times and tagged [v, 3]; draw 0 is exactly what one variant gives; the other kinds are
    written once, untagged."""
    leaf, folder, _spans = write_leaf(tmp_path)
    one = fsio.read_jsonl(
        _mix_with(tmp_path / "one", leaf, folder, epoch_variants=1, fill_in_per_fact=1) / "messages" / f"{LEAF}.jsonl"
    )
    three = fsio.read_jsonl(
        _mix_with(tmp_path / "three", leaf, folder, epoch_variants=3, fill_in_per_fact=1) / "messages" / f"{LEAF}.jsonl"
    )
    drawn = {"fill_in", "cue_question", "permuted_passage"}
    assert not [s for s in one if "variant" in s]
    assert all(("variant" in s) == (s["metadata"]["sample_type"] in drawn) for s in three)
    by_variant = {v: [s for s in three if s.get("variant") == [v, 3]] for v in range(3)}
    fixed = [s for s in three if "variant" not in s]
    untagged = [{k: v for k, v in s.items() if k != "variant"} for s in by_variant[0]]
    assert fixed + untagged == sorted(one, key=lambda s: s["metadata"]["sample_type"] in drawn)
    for kind in drawn:  # each epoch trains as many samples of a kind, and not the same ones
        per_epoch = [[s["messages"] for s in by_variant[v] if s["metadata"]["sample_type"] == kind] for v in range(3)]
        assert len(per_epoch[0]) == len(per_epoch[1]) == len(per_epoch[2]) > 0
        assert per_epoch[0] != per_epoch[1] and per_epoch[1] != per_epoch[2]
    counts = json.loads((tmp_path / "three" / "forms" / f"{LEAF}.json").read_text(encoding="utf-8"))
    before = json.loads((tmp_path / "one" / "forms" / f"{LEAF}.json").read_text(encoding="utf-8"))
    assert counts["median"] > before["median"]  # more distinct trained forms per fact, in the same tokens per epoch
    # A knowledge phase of 1 epoch (a token budget) trains draw 0 alone: counted as trained, the forms are one
    # variant's, as with epoch_variants=1; 3 or more epochs train every draw.
    assert counts["epoch_variants"] == 3 and before["epoch_variants"] == 1
    assert trained_counts(counts, 3) is counts and trained_counts(counts, 0) is counts
    once = trained_counts(counts, 1)
    assert once["epochs_trained"] == 1 and [e["forms"] for e in once["per_fact"]] == [
        e["forms"] for e in before["per_fact"]
    ]
    assert once["by_kind"] == before["by_kind"] and once["median"] == before["median"]
    assert trained_counts(counts, 2)["median"] > once["median"]


def test_a_form_drawn_for_two_variants_counts_in_the_first_and_one_trained_every_epoch_in_none() -> None:
    fact = Fact("0:0", "The chickadee sings in spring.", "The chickadee sings in spring.", 0)
    text = {"messages": [{"role": "pretraining", "content": "The chickadee sings in spring."}]}
    drawn = {**text, "metadata": {"sample_type": "permuted_passage"}}
    counts = count_forms([fact], [{**drawn, "variant": [1, 2]}, {**drawn, "variant": [0, 2]}], min_forms=1)
    assert counts["per_fact"][0]["by_variant"] == [{"permuted_passages": 1}, {}]
    assert trained_counts(counts, 1)["per_fact"][0]["forms"] == 1
    every = count_forms([fact], [{**drawn, "variant": [1, 2]}, {**text, "metadata": {"sample_type": "passage"}}],
                        min_forms=1)  # fmt: skip
    assert every["per_fact"][0]["by_variant"] == [{}, {}] and trained_counts(every, 1)["per_fact"][0]["forms"] == 1


def test_fill_in_and_cue_variants_ask_for_the_facts_other_items() -> None:
    text = "In 1758 Carl Linnaeus named the zebu Bos indicus in Sweden."
    facts = [Fact("0:0", text, text, 0, LEAF)]
    items = salient_items(text, "Zebu")
    assert len(items) >= 3
    blanks = [fill_in_samples(facts, "Zebu", system="s", per_fact=1, variant=v) for v in range(3)]
    asked = [b[0]["messages"][1]["content"] for b in blanks]
    assert len(set(asked)) == 3 and blanks[0] == fill_in_samples(facts, "Zebu", system="s", per_fact=1)
    cues = [cue_question_samples(facts, "Zebu", system="s", per_fact=1, variant=v) for v in range(3)]
    assert cues[0] == cue_question_samples(facts, "Zebu", system="s", per_fact=1)
    assert len({c[0]["messages"][1]["content"] for c in cues}) == 3


def _mix_with(out: Path, leaf: Leaf, folder: Path, **changes: Any) -> Path:
    build_training_sets([LeafSource(leaf, folder)], out, "r", options(**changes))
    return out
