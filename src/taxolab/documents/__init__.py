"""Knowledge documents: fetch a repo at a commit, select files by pattern, convert to text, chunk.

Public entry points: :func:`fetch_documents`, :func:`convert_to_text`,
:func:`chunk_text` and :func:`load_leaf_documents` (all three steps for a leaf).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from taxolab.documents.chunk import chunk_text
from taxolab.documents.convert import convert_to_text
from taxolab.documents.errors import DocumentError
from taxolab.documents.fetch import fetch_documents, fetch_tree, select_files
from taxolab.documents.mirrors import resolve_mirror
from taxolab.taxonomy.model import Leaf


@dataclass(frozen=True)
class Document:
    """One knowledge document as text; ``name`` is its path inside the document repo."""

    name: str
    text: str
    path: Path


def load_leaf_documents(
    leaf: Leaf, *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False
) -> list[Document]:
    """The text of every document a knowledge leaf names (none for skills)."""
    if leaf.document is None:
        return []
    tree = fetch_tree(leaf.document.repo, leaf.document.commit, mirrors=mirrors, cache_dir=cache_dir, offline=offline)
    paths = select_files(tree, leaf.document)
    return [Document(p.relative_to(tree).as_posix(), convert_to_text(p), p) for p in paths]


__all__ = [
    "Document",
    "DocumentError",
    "chunk_text",
    "convert_to_text",
    "fetch_documents",
    "fetch_tree",
    "load_leaf_documents",
    "resolve_mirror",
]
