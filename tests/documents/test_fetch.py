"""Fetching knowledge documents: mirrors, bundles, local paths, caching, and the clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from taxolab.documents import DocumentError, fetch_documents, load_leaf_documents
from taxolab.taxonomy import DocumentRef, load_leaf

from .conftest import COMMIT, REPO_URL, git


def _ref(repo: str = REPO_URL, commit: str = COMMIT, *patterns: str) -> DocumentRef:
    return DocumentRef(repo, commit, patterns or ("chickadee.md",))


def test_fetch_through_a_bundle_mirror_then_from_the_cache(bundle: Path, cache: Path) -> None:
    mirrors = {REPO_URL: str(bundle)}
    (path,) = fetch_documents(_ref(), mirrors=mirrors, cache_dir=cache)
    assert path.name == "chickadee.md" and "black-capped chickadee" in path.read_text().lower()
    # the same repo spelled with .git and a trailing slash uses the same mirror and the same cache
    (again,) = fetch_documents(_ref(REPO_URL + ".git/"), mirrors=mirrors, cache_dir=cache)
    assert again == path
    # cached: no mirror needed any more, even offline
    (cached,) = fetch_documents(
        _ref(REPO_URL + ".git", COMMIT, "swifties.md"), mirrors={}, cache_dir=cache, offline=True
    )
    assert cached.name == "swifties.md"


def test_prefix_mirror_and_glob_patterns(bundle: Path, cache: Path, tmp_path: Path) -> None:
    mirror_dir = tmp_path / "mirrors"
    mirror_dir.mkdir()
    shutil.copy(bundle, mirror_dir / "Summit_knowledge.bundle")
    mirrors = {"https://github.com/juliadenham/": str(mirror_dir)}
    paths = fetch_documents(_ref(REPO_URL, COMMIT, "s*.md", "chickadee.md"), mirrors=mirrors, cache_dir=cache)
    assert [p.name for p in paths] == ["sham_surgery.md", "swifties.md", "chickadee.md"]


def test_local_path_and_file_url_need_no_mirror(bundle: Path, cache: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bundle), str(clone))
    (by_path,) = fetch_documents(_ref(str(clone)), mirrors={}, cache_dir=cache, offline=True)
    (by_url,) = fetch_documents(_ref(clone.as_uri()), mirrors={}, cache_dir=cache / "other", offline=True)
    assert by_path.read_text() == by_url.read_text()


def test_short_commit_and_new_commits_in_the_source(docs_repo: tuple[Path, str], cache: Path) -> None:
    repo, first = docs_repo
    (path,) = fetch_documents(_ref(str(repo), first[:10], "notes.md"), mirrors={}, cache_dir=cache)
    assert path.read_text() == "# Notes\n\nThe first note.\n"
    (repo / "notes.md").write_text("# Notes\n\nRevised.\n")
    git(repo, "commit", "-q", "-am", "revise")
    second = git(repo, "rev-parse", "HEAD").strip()
    (newer,) = fetch_documents(_ref(str(repo), second, "notes.md"), mirrors={}, cache_dir=cache)
    assert newer.read_text().endswith("Revised.\n") and path.read_text().endswith("The first note.\n")


def test_patterns_select_readable_documents_only(docs_repo: tuple[Path, str], cache: Path) -> None:
    repo, commit = docs_repo
    (repo / "docs" / "logo.png").write_bytes(b"\x89PNG")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "logo")
    commit = git(repo, "rev-parse", "HEAD").strip()
    paths = fetch_documents(_ref(str(repo), commit, "docs/*", "**/*.md"), mirrors={}, cache_dir=cache)
    # plain text (.txt, .rst) is read like Markdown; the image a wide pattern also matches is left out
    assert [p.name for p in paths] == ["data.txt", "guide.pdf", "more.md", "notes.md"]
    with pytest.raises(DocumentError) as caught:
        fetch_documents(_ref(str(repo), commit, "docs/*.png"), mirrors={}, cache_dir=cache)
    assert str(caught.value) == (
        f"pattern 'docs/*.png' in {repo} at {commit[:12]} matches only files taxolab cannot read "
        "(docs/logo.png); point it at Markdown, plain text (.txt, .rst, .adoc) or PDF documents"
    )


def test_unknown_commit(bundle: Path, cache: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        fetch_documents(_ref(REPO_URL, "0" * 40), mirrors={REPO_URL: str(bundle)}, cache_dir=cache)
    assert str(caught.value) == (
        f"commit {'0' * 40} is not in the document repo {REPO_URL} (mirror {bundle}); "
        "set document.commit to one of its commits"
    )


def test_no_file_matches(bundle: Path, cache: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        fetch_documents(_ref(REPO_URL, COMMIT, "penguins/*.md"), mirrors={REPO_URL: str(bundle)}, cache_dir=cache)
    message = str(caught.value)
    assert message.startswith(
        f"pattern 'penguins/*.md' matches no file in {REPO_URL} at {COMMIT[:12]} (top level holds: "
    )
    assert "LICENSE" in message and "\n" not in message


def test_offline_without_mirror(cache: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        fetch_documents(_ref(), mirrors={}, cache_dir=cache, offline=True)
    message = str(caught.value)
    assert "offline" in message and "documents.mirrors" in message and "\n" not in message


def test_unreachable_repo(cache: Path) -> None:
    # Port 9 (discard) on loopback refuses connections: the same failure as a network that is down.
    url = "http://127.0.0.1:9/nobody/docs.git"
    with pytest.raises(DocumentError) as caught:
        fetch_documents(_ref(url), mirrors={}, cache_dir=cache)
    assert str(caught.value) == f"cannot fetch {url}: repository unreachable (offline? map it in documents.mirrors)"


def test_missing_mirror_and_not_a_repo(cache: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.bundle"
    with pytest.raises(DocumentError, match=r"does not exist"):
        fetch_documents(_ref(), mirrors={REPO_URL: str(missing)}, cache_dir=cache)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DocumentError, match=rf"cannot fetch {REPO_URL} \(mirror {empty}\): "):
        fetch_documents(_ref(), mirrors={REPO_URL: str(empty)}, cache_dir=cache)


def test_load_leaf_documents_for_the_sample_leaves(shared_data: Path, bundle: Path, cache: Path) -> None:
    root = shared_data / "taxonomy"
    mirrors = {REPO_URL: str(bundle)}
    leaf = load_leaf(root / "knowledge/arts/music/fandom/swifties/qna.yaml", root)
    (document,) = load_leaf_documents(leaf, mirrors=mirrors, cache_dir=cache)
    assert document.name == "swifties.md" and "Swifties" in document.text
    skill = load_leaf(root / "compositional_skills/linguistics/synonyms/qna.yaml", root)
    assert load_leaf_documents(skill, mirrors=mirrors, cache_dir=cache) == []


def test_cache_is_not_nested_twice_and_an_old_nested_one_is_moved_up(tmp_path: Path) -> None:
    """QA: `taxonomy sample` printed a cache path with `documents/documents/` doubled."""
    from taxolab.documents.fetch import _store

    cache = tmp_path / "cache" / "documents"
    (cache / "documents" / "repos" / "x.git").mkdir(parents=True)
    (cache / "documents" / "trees").mkdir()
    assert _store(cache) == cache
    assert (cache / "repos" / "x.git").is_dir() and (cache / "trees").is_dir()
    assert not (cache / "documents").exists()
