"""Run folders: the manifest, the fingerprint that decides whether a rerun may resume, listing runs.

A run folder is resumable only by the same work: the fingerprint hashes
everything that shapes the rows (leaves, pipeline and prompt files, teacher,
settings that change what is generated) and nothing that only changes speed
(concurrency, progress display).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.errors import TaxolabError

MANIFEST = "manifest.json"
SPEED_ONLY = {"concurrency", "executor", "ray_address", "endpoint_urls"}


def fingerprint(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def new_run_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    fsio.write_json(folder / MANIFEST, manifest)


def choose_run_folder(datasets_dir: Path, explicit: Path | None, print_: str, resume: bool) -> Path:
    """The folder for this run: the explicit one, an unfinished run with the same fingerprint, or a new one.

    Rerunning the same command after a crash finds the unfinished run by its
    fingerprint, so ``--resume`` is only needed to insist (it fails when there
    is nothing to resume).
    """
    if explicit is not None:
        manifest = read_manifest(explicit)
        if manifest is not None and manifest.get("fingerprint") != print_:
            raise TaxolabError(
                f"{explicit} holds a run with other inputs or settings; choose another --output-dir "
                "(or delete that folder to start over)"
            )
        return explicit
    unfinished = [
        folder
        for folder in sorted(datasets_dir.glob("*"), reverse=True)
        if (manifest := read_manifest(folder)) is not None
        and manifest.get("status") != "complete"
        and manifest.get("fingerprint") == print_
    ]
    if unfinished:
        return unfinished[0]
    if resume:
        raise TaxolabError(f"nothing to resume: no unfinished run with these inputs and settings in {datasets_dir}")
    folder = datasets_dir / new_run_name()
    while folder.exists():
        folder = folder.with_name(folder.name + "_")
    return folder


def taxonomy_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


@dataclass(frozen=True)
class RunSummary:
    folder: Path
    status: str
    created: str
    pipeline: str
    teacher: str
    leaves: int
    rows: int
    test_questions: int
    knowledge_samples: int
    skills_samples: int


def list_runs(datasets_dir: Path) -> list[RunSummary]:
    """Every run folder with a manifest under ``datasets_dir``, newest first."""
    runs = []
    for folder in sorted(datasets_dir.glob("*"), reverse=True):
        manifest = read_manifest(folder)
        if manifest is None:
            continue
        counts = manifest.get("counts", {})
        runs.append(
            RunSummary(
                folder=folder,
                status=str(manifest.get("status", "?")),
                created=str(manifest.get("created", "")),
                pipeline=str(manifest.get("pipeline", {}).get("name", "")),
                teacher=str(manifest.get("teacher", {}).get("model", "")),
                leaves=len(manifest.get("leaves", [])),
                rows=sum(int(c.get("rows") or 0) for c in counts.get("leaves", {}).values()),
                test_questions=sum(int(c.get("test_questions") or 0) for c in counts.get("leaves", {}).values()),
                knowledge_samples=int(counts.get("knowledge_train_msgs", 0)),
                skills_samples=int(counts.get("skills_train_msgs", 0)),
            )
        )
    return runs
