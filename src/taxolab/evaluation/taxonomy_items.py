"""Questions taken from the taxonomy's changed leaves, for mt_bench_branch and recall.

Also tells which leaves are *new* on the branch (their qna.yaml does not exist
at the base ref), which the report lists apart from improvements and
regressions: a new skill has no earlier version to regress from.
"""

from __future__ import annotations

from pathlib import Path

from taxolab.evaluation.benchmark import BenchmarkUnavailableError
from taxolab.taxonomy.model import Leaf


def changed_leaves(taxonomy_root: Path, base: str) -> list[Leaf]:
    """Valid changed leaves (all of them for ``base="empty"``), via the taxonomy package."""
    point = "pass --taxonomy-path (or set paths.taxonomy) to your taxonomy"
    if not taxonomy_root.exists():
        raise BenchmarkUnavailableError(f"taxonomy folder {taxonomy_root} does not exist: {point}")
    if not any((taxonomy_root / section).is_dir() for section in ("knowledge", "compositional_skills")):
        # skippable for a default run; an error when the benchmark was asked for (see evaluation.api)
        what = "is empty" if taxonomy_root.is_dir() and not any(taxonomy_root.iterdir()) else "has no leaves"
        raise BenchmarkUnavailableError(
            f"taxonomy folder {taxonomy_root} {what} (no knowledge/ or compositional_skills/): {point}, "
            f"or write the sample with `taxolab taxonomy sample`"
        )
    from taxolab.taxonomy import load_leaves

    return list(load_leaves(taxonomy_root, base=base))


def new_leaf_names(leaves: list[Leaf], taxonomy_root: Path, base: str) -> list[str]:
    """Names of leaves whose qna.yaml is absent at the base ref (none when every leaf is compared)."""
    from taxolab.gitcmd import GitError, run_git
    from taxolab.taxonomy import changed_taxonomy_files

    ref = changed_taxonomy_files(taxonomy_root, base).base
    if ref == "empty":
        return []
    names = []
    root = taxonomy_root.resolve()
    for leaf in leaves:
        relative = leaf.qna_path.resolve().relative_to(root).as_posix()
        try:
            run_git("cat-file", "-e", f"{ref}:{relative}", cwd=root)
        except GitError:
            names.append(leaf.name)
    return names
