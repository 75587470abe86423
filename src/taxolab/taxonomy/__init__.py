"""The taxonomy: a tree of qna.yaml leaves, validated as InstructLab contributors expect.

Public entry points (stable across taxolab):

- :func:`load_leaf` / :func:`load_leaves`: validated leaves for generation;
- :func:`changed_qna_files`: leaves changed against a git base;
- :func:`diff_taxonomy` / :func:`lint_paths`: every problem of many files, for people and CI;
- :func:`load_foundational_skills`: the leaves only evaluation reads.
"""

from taxolab.taxonomy.gitdiff import changed_qna_files, changed_taxonomy_files
from taxolab.taxonomy.model import DocumentRef, Leaf, LeafKind, SeedExample
from taxolab.taxonomy.problems import Problem, Severity, TaxonomyValidationError
from taxolab.taxonomy.report import (
    TaxonomyReport,
    diff_taxonomy,
    lint_paths,
    load_foundational_skills,
    load_leaves,
    validate_files,
)
from taxolab.taxonomy.tree import foundational_skill_files, leaf_files
from taxolab.taxonomy.validate import FileReport, load_leaf, validate_file

__all__ = [
    "DocumentRef",
    "FileReport",
    "Leaf",
    "LeafKind",
    "Problem",
    "SeedExample",
    "Severity",
    "TaxonomyReport",
    "TaxonomyValidationError",
    "changed_qna_files",
    "changed_taxonomy_files",
    "diff_taxonomy",
    "foundational_skill_files",
    "leaf_files",
    "lint_paths",
    "load_foundational_skills",
    "load_leaf",
    "load_leaves",
    "validate_file",
    "validate_files",
]
