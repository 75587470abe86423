"""Where the leaves of a taxonomy tree are.

A leaf is a folder holding a ``qna.yaml`` under ``knowledge/`` or
``compositional_skills/``; ``foundational_skills/`` holds leaves too, but only
evaluation reads them (data generation never does).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from taxolab.taxonomy.source import QNA_NAME

LEAF_SECTIONS = ("knowledge", "compositional_skills")
FOUNDATIONAL_SECTION = "foundational_skills"
ALL_SECTIONS = (*LEAF_SECTIONS, FOUNDATIONAL_SECTION)
YAML_SUFFIXES = (".yaml", ".yml")


def find_taxonomy_root(path: Path) -> Path | None:
    """The taxonomy root above ``path``: the parent of its nearest ``knowledge/``-like ancestor, if any."""
    for ancestor in Path(path).absolute().parents:
        if ancestor.name in ALL_SECTIONS:
            return ancestor.parent
    return None


def section_of(path: Path, taxonomy_root: Path | None) -> str | None:
    """``knowledge``, ``compositional_skills`` or ``foundational_skills`` for a file in a tree, else None."""
    if taxonomy_root is None:
        return None
    # absolute(), not resolve(): no file system calls per file (thousands of leaves), same answer inside a tree
    try:
        first = Path(path).absolute().relative_to(Path(taxonomy_root).absolute()).parts[0]
    except (ValueError, IndexError):
        return None
    return first if first in ALL_SECTIONS else None


def is_taxonomy_file(relative: Path, sections: Iterable[str] = LEAF_SECTIONS) -> bool:
    """A YAML file inside one of ``sections`` (upstream validates every one, and names must be qna.yaml)."""
    return len(relative.parts) > 1 and relative.parts[0] in tuple(sections) and relative.suffix in YAML_SUFFIXES


def is_stray_leaf(relative: Path) -> bool:
    """A ``qna.yaml`` that generation never reads: under ``foundational_skills/`` or outside every section.

    Files in hidden folders (``.github/``) are repository plumbing, not leaves.
    """
    parts = relative.parts
    if relative.name != QNA_NAME or any(part.startswith(".") for part in parts[:-1]):
        return False
    return not (len(parts) > 1 and parts[0] in LEAF_SECTIONS)


def stray_leaf_files(taxonomy_root: Path) -> list[Path]:
    """Every ``qna.yaml`` below ``taxonomy_root`` outside all three sections (for ``taxonomy lint`` of a tree).

    ``foundational_skills/`` files are not stray for lint: lint validates them.
    """
    root = Path(taxonomy_root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here == root and d in ALL_SECTIONS))
        if QNA_NAME in filenames and is_stray_leaf((here / QNA_NAME).relative_to(root)):
            found.append(here / QNA_NAME)
    return sorted(found)


def outside_notice(relative: Path) -> str:
    """Why a :func:`is_stray_leaf` file is not used, and what to do if it should be."""
    if relative.parts[0] == FOUNDATIONAL_SECTION:
        return (
            f"{relative.as_posix()}: not used for data generation: only knowledge/ and compositional_skills/ "
            f"leaves feed generation ({FOUNDATIONAL_SECTION}/ is read by evaluation only); "
            "move it under compositional_skills/ to generate from it"
        )
    return (
        f"{relative.as_posix()}: not a taxonomy leaf: qna.yaml files are read only under knowledge/, "
        f"compositional_skills/ (generation) or {FOUNDATIONAL_SECTION}/ (evaluation); move it into one of them"
    )


def taxonomy_files(taxonomy_root: Path, sections: Iterable[str] = LEAF_SECTIONS) -> list[Path]:
    """Every YAML file under ``sections``, sorted; hidden folders (``.git``) are skipped."""
    found: list[Path] = []
    for section in sections:
        found.extend(_yaml_files_below(taxonomy_root / section))
    return sorted(found)


def leaf_files(taxonomy_root: Path, sections: Iterable[str] = LEAF_SECTIONS) -> list[Path]:
    """Every ``qna.yaml`` under ``sections``, sorted."""
    return [p for p in taxonomy_files(taxonomy_root, sections) if p.name == QNA_NAME]


def foundational_skill_files(taxonomy_root: Path) -> list[Path]:
    """The ``qna.yaml`` files under ``foundational_skills/`` (read by evaluation only)."""
    return leaf_files(taxonomy_root, (FOUNDATIONAL_SECTION,))


def expand_lint_targets(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded to the YAML files of their taxonomy sections (or all YAML files)."""
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        sections = [s for s in ALL_SECTIONS if (path / s).is_dir()]
        if sections:
            files.extend(taxonomy_files(path, sections))
        else:
            files.extend(_yaml_files_below(path))
    return list(dict.fromkeys(files))


def _yaml_files_below(folder: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / name for name in filenames if Path(name).suffix in YAML_SUFFIXES)
    return sorted(found)
