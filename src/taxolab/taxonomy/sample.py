"""The quick-start taxonomy that ships inside the package: ``taxolab taxonomy sample DEST``.

Two small leaves of the public InstructLab taxonomy (a knowledge leaf about the
black-capped chickadee and the freeform ``synonyms`` skill) are written to
``DEST`` as a git repository, committed on ``main`` with no upstream, so every
leaf counts as new for ``taxonomy diff`` and ``taxolab run``.

The knowledge leaf names its document by repo URL and commit. The package
carries that one document (``chickadee.md``, with its licence and attribution;
see ``sample_data/NOTICE.md``); this module commits it with a fixed author,
committer and date, so the commit id is the same on every machine, and puts
that commit into taxolab's document cache under the leaf's repo URL. The leaf's
``document.commit`` names exactly that commit, so ``taxolab run --taxonomy-path
DEST`` reads its document with no network, no mirror setting and no other file.
"""

from __future__ import annotations

import importlib.resources
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab.config import paths
from taxolab.errors import TaxolabError
from taxolab.gitcmd import git_env, last_line
from taxolab.taxonomy.validate import load_leaf

KNOWLEDGE_LEAF = "knowledge/science/animals/birds/black_capped_chickadee"
SKILL_LEAF = "compositional_skills/linguistics/synonyms"
LEAVES = (KNOWLEDGE_LEAF, SKILL_LEAF)
DOCUMENT_FOLDER = "Summit_knowledge"

# One identity and instant for every commit the sample makes (the upstream commit's own date),
# and config that would change a commit's bytes (signing, encoding) switched off.
_IDENTITY = {
    "GIT_AUTHOR_NAME": "taxolab sample",
    "GIT_AUTHOR_EMAIL": "sample@taxolab.invalid",
    "GIT_AUTHOR_DATE": "2024-08-21T12:09:03-04:00",
    "GIT_COMMITTER_NAME": "taxolab sample",
    "GIT_COMMITTER_EMAIL": "sample@taxolab.invalid",
    "GIT_COMMITTER_DATE": "2024-08-21T12:09:03-04:00",
}
_CONFIG = ("-c", "commit.gpgSign=false", "-c", "i18n.commitEncoding=UTF-8", "-c", "core.autocrlf=false")
DOCUMENT_MESSAGE = "chickadee.md of juliadenham/Summit_knowledge at 5f7158a5, for the taxolab sample\n"


@dataclass(frozen=True)
class SampleTaxonomy:
    """What :func:`write_sample` made: the taxonomy repo and where its document's commit is cached."""

    taxonomy: Path
    leaves: tuple[str, ...]
    commit: str
    document_repo: str
    document_commit: str
    document_cache: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "taxonomy": str(self.taxonomy),
            "leaves": list(self.leaves),
            "commit": self.commit,
            "document": {
                "repo": self.document_repo,
                "commit": self.document_commit,
                "cache": str(self.document_cache),
            },
        }


def sample_files() -> importlib.resources.abc.Traversable:
    """The packaged sample: ``taxonomy/`` (the leaves and LICENSE), ``documents/`` and ``NOTICE.md``."""
    return importlib.resources.files("taxolab.taxonomy") / "sample_data"


def write_sample(dest: Path, *, cache_dir: Path | None = None) -> SampleTaxonomy:
    """Write the sample taxonomy to ``dest`` (absent or empty) as a committed git repo and cache its document.

    ``cache_dir`` is the document cache (default: ``<cache>/documents``, where ``data generate``
    and ``run`` look). Reads only package data. Raises :class:`TaxolabError` when ``dest`` holds
    files or git fails, and when the document commit made here is not the one the leaf names
    (a git that writes commits differently; the message says so).
    """
    dest = Path(dest).expanduser()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise TaxolabError(f"{dest} exists and is not empty; choose a new folder for the sample taxonomy")
    source = sample_files()
    cache = Path(cache_dir) if cache_dir is not None else paths.cache_dir() / "documents"
    with tempfile.TemporaryDirectory(prefix="taxolab-sample-") as tmp:
        document_repo = Path(tmp) / DOCUMENT_FOLDER
        document_commit = _commit_tree(document_repo, source / "documents" / DOCUMENT_FOLDER, DOCUMENT_MESSAGE)
        dest.mkdir(parents=True, exist_ok=True)
        _copy_tree(source / "taxonomy", dest)
        leaf = load_leaf(dest / KNOWLEDGE_LEAF / "qna.yaml", dest)
        assert leaf.document is not None  # the packaged knowledge leaf always names its document
        if leaf.document.commit != document_commit:
            raise TaxolabError(
                f"{dest / KNOWLEDGE_LEAF / 'qna.yaml'}: names document commit {leaf.document.commit}, but this "
                f"git made {document_commit} from the packaged document; report it with `git --version`"
            )
        from taxolab.documents.fetch import seed_cache

        cached = seed_cache(leaf.document.repo, document_repo, cache_dir=cache)
    commit = _commit_worktree(dest, "taxolab sample taxonomy: " + ", ".join(LEAVES) + "\n")
    return SampleTaxonomy(dest, LEAVES, commit, leaf.document.repo, document_commit, cached)


def _git(*args: str, cwd: Path, stdin: str | None = None) -> str:
    """``git ARGS`` in ``cwd`` with the fixed identity (it beats any GIT_* variable the user set); stdout, stripped."""
    if shutil.which("git") is None:
        raise TaxolabError("git is not installed; install git to write the sample taxonomy")
    result = subprocess.run(
        ["git", *_CONFIG, *args],
        cwd=cwd,
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        env={**git_env(), **_IDENTITY},
        check=False,
    )
    if result.returncode != 0:
        reason = last_line(result.stderr.decode("utf-8", "replace"))
        raise TaxolabError(f"{cwd}: git {args[0]} failed while writing the sample taxonomy: {reason}")
    return result.stdout.decode().strip()


def _commit_tree(repo: Path, files: importlib.resources.abc.Traversable, message: str) -> str:
    """A repo whose ``main`` is one commit of ``files`` (flat folder), made with git plumbing so that
    hooks, templates and user config cannot change its id."""
    repo.mkdir(parents=True)
    _git("init", "--quiet", "--object-format=sha1", cwd=repo)
    entries = []
    for item in sorted(_files(files), key=lambda f: f.name):
        blob = repo / ".blob"
        blob.write_bytes(item.read_bytes())
        sha = _git("hash-object", "-w", "--no-filters", str(blob), cwd=repo)
        entries.append(f"100644 blob {sha}\t{item.name}\n")
        blob.unlink()
    tree = _git("mktree", cwd=repo, stdin="".join(entries))
    commit = _git("commit-tree", "--no-gpg-sign", tree, "-m", message.rstrip("\n"), cwd=repo)
    _git("update-ref", "refs/heads/main", commit, cwd=repo)
    return commit


def _commit_worktree(dest: Path, message: str) -> str:
    _git("init", "--quiet", "--initial-branch=main", cwd=dest)
    _git("add", "--all", cwd=dest)
    _git("commit", "--quiet", "--no-verify", "-m", message.rstrip("\n"), cwd=dest)
    return _git("rev-parse", "HEAD", cwd=dest)


def _files(folder: importlib.resources.abc.Traversable) -> Iterator[importlib.resources.abc.Traversable]:
    for item in folder.iterdir():
        if item.is_file() and not item.name.startswith("."):
            yield item


def _copy_tree(folder: importlib.resources.abc.Traversable, dest: Path) -> None:
    """Copy packaged files (they may live in a zip) into ``dest``, keeping relative paths."""
    for item in folder.iterdir():
        if item.name.startswith(".") or item.name == "__pycache__":
            continue
        target = dest / item.name
        if item.is_dir():
            target.mkdir(exist_ok=True)
            _copy_tree(item, target)
        else:
            with item.open("rb") as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)
