"""A scripted teacher that answers every shipped prompt in its expected format, and hand-made leaves.

The teacher is the real HTTP fake server (taxolab.testing.fake_openai); its
answers depend only on the request, so two runs over the same seeds produce
the same rows, which is what the resume tests compare.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxolab.config import load_config
from taxolab.config.schema import Config
from taxolab.taxonomy.model import DocumentRef, Leaf, LeafKind, SeedExample
from taxolab.testing.fake_openai import FakeOpenAIServer

CHUNKS = [
    "The black-capped chickadee is a small bird of North America. It caches seeds for the winter.",
    "Chickadees lower their body temperature on cold nights. Their call sounds like chick-a-dee-dee-dee.",
]


def tag(request: dict[str, Any]) -> str:
    """A short deterministic id of the request, so different prompts give different rows."""
    return hashlib.sha256(str(request["messages"]).encode()).hexdigest()[:6]


def first_sentence(user: str) -> str:
    """The first sentence of the text a prompt shows (after its last "Document:" or "Facts:")."""
    shown = re.findall(r"(?:Document|Facts):\s*\n(.*?)(?:\n\n|$)", user, re.DOTALL)
    text = (shown[-1] if shown else user).strip().removeprefix("- ")
    return text.split(". ")[0].rstrip(".") + "."


def longest_words(text: str) -> tuple[str, str]:
    """The two longest words of ``text`` (the second repeats the first when it has one word)."""
    words = sorted((word.strip(".,;:()\"'") for word in text.split()), key=len, reverse=True)
    return words[0], (words[1:] or words)[0]


def scripted(request: dict[str, Any]) -> str:
    """Answer each shipped prompt kind, recognised by its system prompt."""
    system = request["messages"][0]["content"].lower()
    user = request["messages"][-1]["content"]
    t = tag(request)
    if "quiz question for a given answer" in system:
        # answer-first: a question per span, different per sample (the block seeds each request), made of
        # the span's own two longest words, so that the question check keeps it (issue 16)
        first, second = longest_words(user.removeprefix("Answer:"))
        return f"Question: What about {first} and {second} ({request.get('seed', 0) % 1000:03d})?\nAnswer: ..."
    if "multiple-choice" in system:
        return f"Question: Which bird {t}?\nA) Crow\nB) Chickadee\nC) Eagle\nD) Owl\nAnswer: B"
    if "summarise documents" in system:
        return f"Summary: {first_sentence(user)}"
    if "most important sentences" in system:
        return f"- {first_sentence(user)}"
    if "simple facts" in system:
        return f"- {first_sentence(user)}\n- Chickadees are birds."
    if "exam questions about a document" in system or "turn facts into" in system:
        # one answer taken from the text, one invented (the grounding check must drop it)
        return (
            f"Sure!\nQuestion: What about {' and '.join(longest_words(first_sentence(user)))} ({int(t, 16) % 1000:03d})?\n"
            f"Answer: {first_sentence(user)}\n\n"
            f"Question: Where did penguins {t} live?\nAnswer: Penguins lived in Antarctica in 1999."
        )
    if "realistic passages" in system:
        return f"Context: A new passage {t} about slaves and masters in databases."
    if "realistic requests" in system:
        return f"Question: Please rewrite sentence {t}."
    if "helpful, accurate assistant" in system:
        return f"Answer: Rewritten {t}."
    if "score" in user.lower():
        best = max(int(digit) for digit in "123" if f"Score {digit} if" in user)
        return f"Reasonable.\nScore: {best}"
    return "unexpected prompt"


def make_leaf(tmp_path: Path, kind: LeafKind, name: str) -> Leaf:
    folder = tmp_path / "taxonomy" / ("knowledge" if kind is LeafKind.KNOWLEDGE else "compositional_skills") / name
    folder.mkdir(parents=True, exist_ok=True)
    qna = folder / "qna.yaml"
    qna.write_text(f"# hand-made leaf {name}\n", encoding="utf-8")
    context = "A context passage." if kind is not LeafKind.FREEFORM_SKILL else None
    examples = [SeedExample(f"Question {i} of {name}?", f"Answer {i}.", context) for i in range(3)]
    return Leaf(
        qna_path=qna,
        taxonomy_root=tmp_path / "taxonomy",
        kind=kind,
        version=3,
        created_by="test",
        seed_examples=examples,
        task_description=f"Task of {name}",
        domain="birds" if kind is LeafKind.KNOWLEDGE else None,
        document_outline="Chickadees" if kind is LeafKind.KNOWLEDGE else None,
        document=DocumentRef("https://example.invalid/docs", "abc", ("*.md",)) if kind is LeafKind.KNOWLEDGE else None,
    )


@pytest.fixture
def leaves(tmp_path: Path) -> list[Leaf]:
    return [
        make_leaf(tmp_path, LeafKind.KNOWLEDGE, "birds"),
        make_leaf(tmp_path, LeafKind.FREEFORM_SKILL, "haiku"),
        make_leaf(tmp_path, LeafKind.GROUNDED_SKILL, "inclusion"),
    ]


@pytest.fixture
def teacher() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(scripted) as server:
        yield server


def config_for(url: str, tmp_path: Path, **generate: Any) -> Config:
    settings = {"endpoint_urls": [url], "sdg_scale_factor": 2, "batch_size": 2, "concurrency": 4, **generate}
    return load_config(None, {"generate": settings, "paths": {"datasets": str(tmp_path / "datasets")}})


def chunks_of(leaf: Leaf) -> list[str]:
    return list(CHUNKS)
