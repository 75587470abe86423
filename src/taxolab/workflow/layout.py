"""Where a run keeps each stage's outputs inside its folder.

Folders whose contents depend on a stage's inputs are named by the first
characters of that stage's input hash, so a crashed attempt is found again by
the rerun (same inputs, same folder: it resumes there) while changed inputs
get a fresh folder and the stale one is removed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from taxolab.hashing import hash_text

HASH_CHARS = 12


@dataclass(frozen=True)
class RunLayout:
    root: Path

    @classmethod
    def for_taxonomy(cls, runs_dir: Path, taxonomy_root: Path) -> RunLayout:
        """The default run folder of a taxonomy: the same one every time, so a plain rerun resumes."""
        resolved = Path(taxonomy_root).expanduser().resolve()
        tag = hash_text(str(resolved))[:8]
        return cls(Path(runs_dir) / f"{resolved.name}-{tag}")

    @property
    def name(self) -> str:
        return self.root.name

    def leaf_data(self, leaf: str, input_hash: str) -> Path:
        return self.root / "data" / "leaves" / leaf / input_hash[:HASH_CHARS]

    def leaf_review(self, leaf: str) -> Path:
        """The leaf's review decisions (:mod:`taxolab.mixing.review`): beside its generation folders, so a
        regeneration of the leaf keeps them."""
        from taxolab.mixing.review import REVIEW_NAME

        return self.root / "data" / "leaves" / leaf / REVIEW_NAME

    @property
    def mix(self) -> Path:
        return self.root / "data" / "mix"

    def training(self, input_hash: str) -> Path:
        return self.root / "train" / input_hash[:HASH_CHARS]

    @property
    def evaluation(self) -> Path:
        return self.root / "eval"

    def gguf(self, outtype: str) -> Path:
        return self.root / "model" / f"{self.name}.{outtype.upper()}.gguf"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def report_assets(self) -> Path:
        return self.root / "report_files"


def remove_stale_siblings(folder: Path) -> None:
    """Delete the other folders next to ``folder``: outputs of inputs that no longer hold."""
    if folder.parent.is_dir():
        for other in folder.parent.iterdir():
            if other != folder and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
