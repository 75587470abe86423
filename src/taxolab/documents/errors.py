"""The errors the documents package raises: one line naming the repo, commit or file (and the leaf)."""

from __future__ import annotations

from pathlib import Path

from taxolab.errors import TaxolabError


class DocumentError(TaxolabError):
    """A knowledge document cannot be fetched, found or read."""


class LeafDocumentError(DocumentError):
    """A :class:`DocumentError` met while fetching the documents of one leaf, shown at its qna.yaml line.

    ``str()`` is ``qna.yaml:line: leaf <dir>: <reason>``: in a taxonomy of many
    leaves, the user must see which leaf (and which line of it) to fix.
    """

    def __init__(self, qna_path: Path, line: int, leaf_dir: str, reason: str) -> None:
        self.qna_path = Path(qna_path)
        self.line = line
        self.reason = reason
        where = f"{qna_path}:{line}" if line > 0 else str(qna_path)
        super().__init__(f"{where}: leaf {leaf_dir}: {reason}")


class LeavesDocumentError(DocumentError):
    """Document problems of several leaves, found together before any teacher request: one line each."""

    def __init__(self, problems: list[LeafDocumentError]) -> None:
        self.problems = problems
        lines = [f"documents of {len(problems)} knowledge leaves cannot be used:", *(str(p) for p in problems)]
        super().__init__("\n".join(lines))
