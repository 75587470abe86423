"""Fetch a knowledge leaf's documents: a git repo at a pinned commit, files chosen by glob patterns.

Repos are cloned once (bare) into the cache, keyed by repo URL; a commit's
files are extracted once per commit (commits never change, so a cached tree
is final). A missing commit triggers one fetch from the source before giving
up. With ``offline=True`` nothing goes to the network: mirrors, local paths,
``file://`` URLs and the cache still work.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import re
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from taxolab.documents.errors import DocumentError
from taxolab.documents.mirrors import is_remote, normalize_url, resolve_mirror
from taxolab.gitcmd import GitError, last_line, run_git, run_git_bytes
from taxolab.taxonomy.model import DocumentRef

DOCUMENT_SUFFIXES = (".md", ".pdf")


def fetch_documents(
    doc: DocumentRef, *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False
) -> list[Path]:
    """The Markdown and PDF files of ``doc.repo`` at ``doc.commit`` that match ``doc.patterns``."""
    tree = fetch_tree(doc.repo, doc.commit, mirrors=mirrors, cache_dir=cache_dir, offline=offline)
    return select_files(tree, doc)


def fetch_tree(repo: str, commit: str, *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False) -> Path:
    """A folder holding the repo's files at ``commit`` (extracted once, then reused)."""
    source, mirrored = resolve_mirror(repo, mirrors)
    via = f" (mirror {source})" if mirrored else ""
    store = Path(cache_dir) / "documents"
    key = _cache_key(repo)
    bare = store / "repos" / f"{key}.git"
    if not bare.exists():
        _check_reachable(repo, source, offline, via)
        _clone(repo, source, bare, via)
    sha = _resolve_commit(bare, commit)
    if sha is None:
        if offline and is_remote(source):
            raise DocumentError(
                f"commit {commit} of {repo} is not in the cache and taxolab is offline; "
                "map the repo to a local mirror in documents.mirrors"
            )
        _fetch(repo, source, bare, commit, via)
        sha = _resolve_commit(bare, commit)
        if sha is None:
            raise DocumentError(f"commit {commit} not found in {repo}{via}")
    tree = store / "trees" / key / sha
    if not tree.exists():
        _extract(bare, sha, tree)
    return tree


def select_files(tree: Path, doc: DocumentRef) -> list[Path]:
    """Files under ``tree`` matching the patterns (``**`` allowed), Markdown and PDF only, in pattern order."""
    matched: dict[Path, None] = {}
    for pattern in doc.patterns:
        # glob.glob, not Path.glob: the same matching rules as upstream InstructLab (``**`` recursive).
        for name in sorted(glob.glob(pattern.lstrip("/"), root_dir=tree, recursive=True)):  # noqa: PTH207
            path = tree / name
            if path.is_file():
                matched[path] = None
    if not matched:
        raise DocumentError(f"no file in {doc.repo} at {doc.commit[:12]} matches {', '.join(doc.patterns)}")
    documents = [p for p in matched if p.suffix.lower() in DOCUMENT_SUFFIXES]
    if not documents:
        names = ", ".join(p.relative_to(tree).as_posix() for p in list(matched)[:5])
        raise DocumentError(f"files matching {', '.join(doc.patterns)} in {doc.repo} are not Markdown or PDF: {names}")
    return documents


def _cache_key(repo: str) -> str:
    """A readable, collision-free folder name for a repo URL."""
    url = normalize_url(repo)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", url.split("://", 1)[-1]).strip("_")[-60:]
    return f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def _check_reachable(repo: str, source: str, offline: bool, via: str) -> None:
    if offline and is_remote(source):
        raise DocumentError(
            f"cannot fetch {repo}: taxolab is offline and the repo is not cached; "
            "map it to a local path or bundle in documents.mirrors"
        )
    if not is_remote(source):
        local = Path(source.removeprefix("file://"))
        if not local.exists():
            raise DocumentError(f"cannot fetch {repo}{via}: {local} does not exist")


def _clone(repo: str, source: str, bare: Path, via: str) -> None:
    bare.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=bare.parent, prefix=".clone-") as tmp:
        target = Path(tmp) / "repo.git"
        try:
            run_git("clone", "--bare", "--quiet", "--", source, str(target))
        except GitError as exc:
            raise DocumentError(f"cannot fetch {repo}{via}: {_reason(exc)}") from None
        try:
            target.rename(bare)
        except OSError:
            if not bare.exists():  # another process won the race otherwise
                raise


def _fetch(repo: str, source: str, bare: Path, commit: str, via: str) -> None:
    """Bring ``bare`` up to date with the source: all branches and tags, then the commit itself."""
    try:
        run_git(
            "fetch", "--quiet", "--force", source, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", cwd=bare
        )
    except GitError as exc:
        raise DocumentError(f"cannot fetch {repo}{via}: {_reason(exc)}") from None
    if re.fullmatch(r"[0-9a-fA-F]{40}", commit):
        # Servers may refuse fetching by commit id; the caller then reports the commit as missing.
        with contextlib.suppress(GitError):
            run_git("fetch", "--quiet", source, commit, cwd=bare)


def _resolve_commit(bare: Path, commit: str) -> str | None:
    try:
        return (
            run_git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}", cwd=bare).strip()
            or None
        )
    except GitError:
        return None


def _extract(bare: Path, sha: str, tree: Path) -> None:
    """Unpack the commit's files with ``git archive`` (no work tree, no index) into ``tree``, atomically."""
    data = run_git_bytes("archive", "--format=tar", sha, cwd=bare)
    tree.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=tree.parent, prefix=f".{sha[:12]}-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(tmp, filter="data")
        tmp.rename(tree)
    except OSError:
        if not tree.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _reason(exc: GitError) -> str:
    text = exc.stderr or str(exc)
    lowered = text.lower()
    if "could not resolve host" in lowered or "connection refused" in lowered or "failed to connect" in lowered:
        return "repository unreachable (offline? map it in documents.mirrors)"
    if "not found" in lowered or "does not appear to be a git repository" in lowered or "not a git repo" in lowered:
        return "no git repository there"
    return last_line(text)
