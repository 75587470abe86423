"""A taxonomy as committed on a git ref, checked out beside the user's work tree for the duration of a block.

``taxolab model evaluate --taxonomy-ref BRANCH`` (``ilab``'s ``--branch``)
evaluates the leaves of a branch without touching the user's checkout: a
detached ``git worktree`` shares the repository's refs, so the diff base
(``origin/main``, ``main``, ...) resolves there exactly as in the work tree.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from taxolab.errors import TaxolabError
from taxolab.gitcmd import GitError, last_line, run_git


@contextlib.contextmanager
def taxonomy_at(root: Path, ref: str | None) -> Iterator[Path]:
    """``root`` itself when ``ref`` is None, else a temporary checkout of ``ref`` (removed afterwards).

    Raises :class:`TaxolabError` (one line) when ``root`` is not a git repository or ``ref`` does not exist.
    """
    if not ref:
        yield Path(root)
        return
    root = Path(root)
    try:
        run_git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", cwd=root)
    except GitError as exc:
        if exc.stderr.strip():  # not a repository, git missing, ...: git's own line says it best
            raise TaxolabError(f"{root}: cannot check out taxonomy ref {ref!r}: {last_line(exc.stderr)}") from None
        from taxolab.taxonomy.gitdiff import unknown_ref_message

        raise TaxolabError(unknown_ref_message(root, ref)) from None
    with tempfile.TemporaryDirectory(prefix="taxolab-taxonomy-") as tmp:
        checkout = Path(tmp) / "taxonomy"
        run_git("worktree", "add", "--quiet", "--detach", str(checkout), ref, cwd=root)
        try:
            yield checkout
        finally:
            with contextlib.suppress(GitError):
                run_git("worktree", "remove", "--force", str(checkout), cwd=root)
