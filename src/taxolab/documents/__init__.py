"""Knowledge documents: fetch a repo at a commit, select files by pattern, convert to text, chunk.

Public entry points: :func:`fetch_documents`, :func:`convert_to_text`,
:func:`chunk_text` (:func:`split_text`), :func:`load_leaf_documents` (all three steps for a leaf) and
:func:`check_leaf_documents` (every leaf's documents, before any teacher time is spent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from taxolab.documents.chunk import Chunking, chunk_text, split_text
from taxolab.documents.convert import convert_to_text
from taxolab.documents.errors import DocumentError, LeafDocumentError, LeavesDocumentError
from taxolab.documents.fetch import fetch_documents, fetch_tree, select_files
from taxolab.documents.markup import Dropped, drop_data_uris
from taxolab.documents.mirrors import resolve_mirror
from taxolab.taxonomy.model import Leaf


@dataclass(frozen=True)
class Document:
    """One knowledge document as text; ``name`` is its path inside the document repo.

    ``dropped``: the embedded ``data:`` URIs (pictures as base64) taken out of ``text``; they carry no text.
    """

    name: str
    text: str
    path: Path
    dropped: Dropped = field(default_factory=Dropped)


def load_leaf_documents(
    leaf: Leaf, *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False
) -> list[Document]:
    """The text of every document a knowledge leaf names (none for skills).

    Any problem raises :class:`LeafDocumentError`: the leaf's qna.yaml and the
    line to fix (the commit, the pattern, or the ``document:`` key), then why.
    """
    if leaf.document is None:
        return []
    doc = leaf.document
    try:
        tree = fetch_tree(doc.repo, doc.commit, mirrors=mirrors, cache_dir=cache_dir, offline=offline)
    except DocumentError as exc:
        line = doc.commit_line if str(exc).startswith("commit ") else doc.line
        raise _for_leaf(leaf, line or doc.line, str(exc)) from None
    try:
        paths = select_files(tree, doc)
    except DocumentError as exc:
        pattern = next((p for p in doc.patterns if f"pattern {p!r}" in str(exc)), None)
        raise _for_leaf(leaf, doc.line_of(pattern), str(exc)) from None
    documents: list[Document] = []
    for path in paths:
        name = path.relative_to(tree).as_posix()
        try:
            text = convert_to_text(path)
        except DocumentError as exc:
            # the path is inside taxolab's cache: show the document's name in its repo instead
            reason = str(exc).replace(str(path), f"{name} in {doc.repo} at {doc.commit[:12]}")
            raise _for_leaf(leaf, doc.line, reason) from None
        text, dropped = drop_data_uris(text)
        documents.append(Document(name, text, path, dropped))
    return documents


def check_leaf_documents(
    leaves: Iterable[Leaf], *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False
) -> None:
    """Fetch and read the documents of every knowledge leaf; raise one error listing every leaf that fails.

    Call it before a teacher is started or asked anything: document problems are
    input mistakes, found in seconds, and one run should name all of them (one
    line per leaf, :class:`LeavesDocumentError`; a single failing leaf raises its
    :class:`LeafDocumentError`). Fetched repos stay in the cache for the run itself.
    """
    problems: list[LeafDocumentError] = []
    for leaf in leaves:
        try:
            load_leaf_documents(leaf, mirrors=mirrors, cache_dir=cache_dir, offline=offline)
        except LeafDocumentError as exc:
            problems.append(exc)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise LeavesDocumentError(problems)


def _for_leaf(leaf: Leaf, line: int, reason: str) -> LeafDocumentError:
    try:
        leaf_dir = leaf.relative_dir.as_posix()
    except ValueError:
        leaf_dir = leaf.qna_path.parent.name
    return LeafDocumentError(leaf.qna_path, line, leaf_dir, reason)


__all__ = [
    "Chunking",
    "Document",
    "DocumentError",
    "Dropped",
    "LeafDocumentError",
    "LeavesDocumentError",
    "check_leaf_documents",
    "chunk_text",
    "convert_to_text",
    "fetch_documents",
    "fetch_tree",
    "load_leaf_documents",
    "resolve_mirror",
    "split_text",
]
