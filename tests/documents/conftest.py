"""Fixtures for document tests: the real Summit_knowledge bundle, small git repos, a real PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxolab.testing.git import run_git

REPO_URL = "https://github.com/juliadenham/Summit_knowledge"
COMMIT = "5f7158a5ce83c4ff493bfe341fe31ecad64ff697"


git = run_git


@pytest.fixture
def bundle(shared_data: Path) -> Path:
    path = shared_data / "summit_knowledge.bundle"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A real one-page PDF with text (matplotlib's PDF backend embeds extractable text)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.5, 11))
    for index, line in enumerate(lines):
        figure.text(0.1, 0.9 - index * 0.05, line, fontsize=12)
    figure.savefig(path, format="pdf")
    return path


@pytest.fixture
def docs_repo(tmp_path: Path) -> tuple[Path, str]:
    """A local repo with Markdown, a PDF and a text file; returns (path, commit)."""
    repo = tmp_path / "docs-repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "notes.md").write_text("# Notes\n\nThe first note.\n")
    (repo / "docs" / "deep").mkdir()
    (repo / "docs" / "deep" / "more.md").write_text("Deeper notes.\n")
    make_pdf(repo / "docs" / "guide.pdf", ["The zebu is a humped cattle.", "It lives in South Asia."])
    (repo / "docs" / "data.txt").write_text("plain text\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "docs")
    return repo, git(repo, "rev-parse", "HEAD").strip()
