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

from taxolab.documents.convert import DOCUMENT_SUFFIXES, FORMATS
from taxolab.documents.errors import DocumentError
from taxolab.documents.mirrors import is_remote, normalize_url, resolve_mirror
from taxolab.gitcmd import GitError, last_line, run_git, run_git_bytes
from taxolab.taxonomy.model import DocumentRef


def fetch_documents(
    doc: DocumentRef, *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False
) -> list[Path]:
    """The readable documents of ``doc.repo`` at ``doc.commit`` that match ``doc.patterns``."""
    tree = fetch_tree(doc.repo, doc.commit, mirrors=mirrors, cache_dir=cache_dir, offline=offline)
    return select_files(tree, doc)


def fetch_tree(repo: str, commit: str, *, mirrors: Mapping[str, str], cache_dir: Path, offline: bool = False) -> Path:
    """A folder holding the repo's files at ``commit`` (extracted once, then reused)."""
    source, mirrored = resolve_mirror(repo, mirrors)
    via = f" (mirror {source})" if mirrored else ""
    store = _store(cache_dir)
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
            raise DocumentError(
                f"commit {commit} is not in the document repo {repo}{via}; set document.commit to one of its commits"
            )
    tree = store / "trees" / key / sha
    if not tree.exists():
        _extract(bare, sha, tree)
    return tree


def _store(cache_dir: Path) -> Path:
    """The document cache folder itself: ``cache_dir`` (callers pass ``<cache>/documents``).

    Before this was fixed the cache lived one level deeper (``<cache>/documents/documents``);
    such a folder is moved up once, so seeded and fetched repositories are kept.
    """
    store = Path(cache_dir)
    legacy = store / "documents"
    if (legacy / "repos").is_dir() and not (store / "repos").exists():
        for name in ("repos", "trees"):
            if (legacy / name).exists():
                (legacy / name).rename(store / name)
        with contextlib.suppress(OSError):
            legacy.rmdir()
    return store


def seed_cache(repo: str, source: Path, *, cache_dir: Path) -> Path:
    """Put every branch of the local git repo ``source`` into the cache as commits of ``repo``; returns the cached repo.

    After this, :func:`fetch_tree` finds those commits of ``repo`` with no network and no
    mirror setting (``taxolab taxonomy sample`` does this for its packaged document). The
    branches land under ``refs/seeded/`` so a later fetch from upstream never drops them.
    """
    bare = _store(cache_dir) / "repos" / f"{_cache_key(repo)}.git"
    if not bare.exists():
        _clone(repo, str(source), bare, f" (seeding from {source})")
    try:
        run_git("fetch", "--quiet", "--force", str(source), "+refs/heads/*:refs/seeded/*", cwd=bare)
    except GitError as exc:
        raise DocumentError(f"cannot add {source} to the document cache {bare}: {_reason(exc)}") from None
    return bare


def select_files(tree: Path, doc: DocumentRef) -> list[Path]:
    """Files under ``tree`` matching the patterns (``**`` allowed) in a readable format, in pattern order.

    Every pattern must match at least one file, and at least one readable
    document (:data:`~taxolab.documents.convert.DOCUMENT_SUFFIXES`): a pattern
    is something the user asked for, so one that yields nothing is an error
    naming it, never a silent skip. Files of other formats that a wider pattern
    also matches (``docs/*`` next to images) are left out.
    Raises :class:`DocumentError` (one line, naming the pattern, repo and commit).
    """
    matched: dict[Path, None] = {}
    at = f"{doc.repo} at {doc.commit[:12]}"
    for pattern in doc.patterns:
        # glob.glob, not Path.glob: the same matching rules as upstream InstructLab (``**`` recursive).
        names = sorted(glob.glob(pattern.lstrip("/"), root_dir=tree, recursive=True))  # noqa: PTH207
        files = [tree / name for name in names if (tree / name).is_file()]
        if not files:
            raise DocumentError(f"pattern {pattern!r} matches no file in {at}{_listing(tree)}")
        readable = [p for p in files if p.suffix.lower() in DOCUMENT_SUFFIXES]
        if not readable:
            shown = ", ".join(p.relative_to(tree).as_posix() for p in files[:_SHOWN])
            more = f" and {len(files) - _SHOWN} more" if len(files) > _SHOWN else ""
            raise DocumentError(
                f"pattern {pattern!r} in {at} matches only files taxolab cannot read ({shown}{more}); "
                f"point it at {FORMATS} documents"
            )
        matched.update(dict.fromkeys(readable))
    return list(matched)


_SHOWN = 8


def _listing(tree: Path) -> str:
    """``" (it holds: a.md, docs/, ...)"``: the top of the tree, so a wrong folder or extension shows at once."""
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in tree.iterdir() if not p.name.startswith("."))
    if not entries:
        return " (the commit holds no files)"
    more = f", ... {len(entries) - _SHOWN} more" if len(entries) > _SHOWN else ""
    return f" (top level holds: {', '.join(entries[:_SHOWN])}{more})"


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
