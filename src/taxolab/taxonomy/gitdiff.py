"""Which taxonomy files changed against a git base: the leaves a contributor is working on.

Like ``ilab taxonomy diff``: files changed since the merge base with the base
ref (committed, staged or just edited) plus untracked files, deletions left
out. ``base="auto"`` diffs against the upstream main branch (``origin/main``,
then ``upstream/main``) and falls back to every leaf when neither exists;
``base="empty"`` means every leaf, with or without git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from taxolab.errors import TaxolabError
from taxolab.gitcmd import GitError, run_git
from taxolab.taxonomy.source import QNA_NAME
from taxolab.taxonomy.tree import ALL_SECTIONS, is_stray_leaf, is_taxonomy_file, taxonomy_files

EMPTY_BASE = "empty"
AUTO_BASE = "auto"
AUTO_CANDIDATES = ("origin/main", "upstream/main")


@dataclass(frozen=True)
class ChangedFiles:
    """The base actually used (a ref, or ``empty``) and the changed taxonomy YAML files (absolute, sorted).

    ``outside`` are changed ``qna.yaml`` files that are not generation leaves
    (under ``foundational_skills/`` or outside every section): never validated or
    generated from, but named to the user so that a new file does not vanish.
    """

    base: str
    paths: list[Path]
    outside: list[Path] = field(default_factory=list)


def changed_taxonomy_files(taxonomy_root: Path, base: str = AUTO_BASE) -> ChangedFiles:
    """Every YAML file under knowledge/ and compositional_skills/ added or changed against ``base``.

    Files not named qna.yaml are included so that validation can flag their name.
    """
    root = Path(taxonomy_root)
    if not root.is_dir():
        raise TaxolabError(f"{taxonomy_root}: taxonomy folder not found (set --taxonomy-path or paths.taxonomy)")
    if not any((root / section).is_dir() for section in ALL_SECTIONS):
        # a wrong folder (a parent, a typo) would otherwise read as "no changed leaves", exit 0;
        # the sample command writes only into an empty folder, so the hint names one that works
        sample = f"taxolab taxonomy sample {root}" if not any(root.iterdir()) else "taxolab taxonomy sample NEW_FOLDER"
        raise TaxolabError(
            f"{root}: not a taxonomy: it has no knowledge/ or compositional_skills/ folder; point --taxonomy-path "
            f"(paths.taxonomy) at your taxonomy repo, or start from the sample with `{sample}`"
        )
    base = (base or AUTO_BASE).strip()
    if base == EMPTY_BASE:
        return ChangedFiles(EMPTY_BASE, taxonomy_files(root))
    _require_repo(root, base)
    if base == AUTO_BASE:
        found = next((ref for ref in AUTO_CANDIDATES if _resolves(root, ref)), None)
        if found is None:
            return ChangedFiles(EMPTY_BASE, taxonomy_files(root))
        base = found
    elif not _resolves(root, base):
        raise TaxolabError(unknown_ref_message(root, base, "a commit, or `empty` for all leaves"))
    relative = _changed_since(root, base) | _untracked(root)
    paths = sorted(root / p for p in relative if is_taxonomy_file(p) and (root / p).is_file())
    outside = sorted(root / p for p in relative if is_stray_leaf(p) and (root / p).is_file())
    return ChangedFiles(base, paths, outside)


def changed_qna_files(taxonomy_root: Path, base: str = AUTO_BASE) -> list[Path]:
    """The ``qna.yaml`` leaves added or changed against ``base`` (see :func:`changed_taxonomy_files`)."""
    return [p for p in changed_taxonomy_files(taxonomy_root, base).paths if p.name == QNA_NAME]


def unknown_ref_message(root: Path, ref: str, also: str = "or a commit") -> str:
    """One line for a git ref that does not resolve in ``root``, naming up to 8 refs that do (never ``ref``).

    ``also`` ends the hint with what else is accepted (``"a commit, or `empty` for all leaves"``).
    """
    try:
        listed = run_git(
            "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes", "refs/tags", cwd=root
        ).split()
    except GitError:
        listed = []
    real = [name for name in listed if name != ref and not name.endswith("/HEAD")]
    if not real:
        return f"{root}: unknown git ref {ref!r}: the repository has no branches yet; use {also}"
    shown = ", ".join(real[:8]) + (", ..." if len(real) > 8 else "")
    return f"{root}: unknown git ref {ref!r} (branches and tags here: {shown}; or use {also})"


def _require_repo(root: Path, base: str) -> None:
    try:
        inside = run_git("rev-parse", "--is-inside-work-tree", cwd=root).strip()
    except GitError:
        inside = "false"
    if inside != "true":
        raise TaxolabError(
            f"{root}: not a git repository, so there is nothing to diff against {base!r}; "
            "use --taxonomy-base empty to check every leaf, or `taxolab taxonomy lint`"
        )


def _resolves(root: Path, ref: str) -> bool:
    try:
        run_git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", cwd=root)
    except GitError:
        return False
    return True


def _has_head(root: Path) -> bool:
    return _resolves(root, "HEAD")


def _changed_since(root: Path, base: str) -> set[Path]:
    """Files differing between the merge base and the working tree (committed, staged or unstaged)."""
    start = base
    if _has_head(root):
        try:
            start = run_git("merge-base", base, "HEAD", cwd=root).strip() or base
        except GitError:
            start = base  # unrelated histories: compare with the ref itself
    out = run_git("diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", "--relative", start, "--", cwd=root)
    return {Path(name) for name in out.split("\0") if name}


def _untracked(root: Path) -> set[Path]:
    out = run_git("ls-files", "-z", "--others", "--exclude-standard", cwd=root)
    return {Path(name) for name in out.split("\0") if name}
