"""``taxolab data review``: list a run's rows with stable ids and record a person's decisions on them.

Works on a ``taxolab run`` folder (each leaf's current generation folder, the
one ``run.json`` records for ``generate:<leaf>``, under ``data/leaves/<leaf>/``)
and on a ``taxolab data generate`` folder (``generated/<leaf>.jsonl`` ...).
The decisions themselves, their file and how the mix applies them are
:mod:`taxolab.mixing.review`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.datarun import DROPPED, GENERATED, HELDOUT, DataRun
from taxolab.errors import TaxolabError
from taxolab.mixing.review import Review, RowDecision, batch_files, review_file, row_id
from taxolab.mixing.splits import read_unsplit


@dataclass(frozen=True)
class ReviewLeaf:
    """One leaf of a reviewed folder: its generation ``folder``, its decisions file and where it came from.

    ``in_run`` is True for a ``taxolab run`` folder (held-out pairs may be
    reviewed there: the mix copies them into its own folder), False for a
    ``data generate`` folder (its mix rewrites the held-out files in place).
    """

    name: str
    folder: Path
    review: Path
    in_run: bool

    def rows(self) -> list[dict[str, Any]]:
        return [row for path in batch_files(self.folder, GENERATED, self.name) for row in fsio.read_jsonl(path)]

    def heldout(self) -> list[dict[str, Any]]:
        return read_unsplit(self.folder, HELDOUT, self.name)

    def dropped(self) -> list[dict[str, Any]]:
        return [row for path in batch_files(self.folder, DROPPED, self.name) for row in fsio.read_jsonl(path)]

    def decisions(self) -> Review:
        return Review.load(self.review, self.name)


def review_leaves(folder: Path) -> list[ReviewLeaf]:
    """The leaves of a ``taxolab run`` folder or a ``data generate`` folder, by name.

    Raises :class:`TaxolabError` when ``folder`` is neither (or holds no generated rows yet).
    """
    from taxolab.workflow.layout import RunLayout
    from taxolab.workflow.manifest import MANIFEST_NAME, RunManifest

    folder = Path(folder).expanduser()
    if (folder / MANIFEST_NAME).is_file() and (folder / "data" / "leaves").is_dir():
        layout = RunLayout(folder)
        stages = RunManifest.load(folder).stages
        found = []
        for leaf_dir in sorted(p for p in (folder / "data" / "leaves").iterdir() if p.is_dir()):
            record = stages.get(f"generate:{leaf_dir.name}")
            current = Path(record.outputs["folder"]) if record and record.outputs.get("folder") else None
            if current is None or not current.is_dir():
                candidates = [p for p in leaf_dir.iterdir() if DataRun(p).part(GENERATED).is_dir()]
                current = max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None
            if current is not None:
                found.append(ReviewLeaf(leaf_dir.name, current, layout.leaf_review(leaf_dir.name), True))
        if found:
            return found
    elif DataRun(folder).part(GENERATED).is_dir():
        names = sorted(p.stem for p in DataRun(folder).files(GENERATED))
        if names:
            return [ReviewLeaf(name, folder, review_file(folder, name), False) for name in names]
    raise TaxolabError(
        f"{folder}: no generated rows here; give a `taxolab run` folder (after `--stop-after generate` or later) "
        "or a `taxolab data generate` folder"
    )


def list_rows(leaf: ReviewLeaf, *, dropped: bool = False) -> list[dict[str, Any]]:
    """The leaf's rows as the review shows them, each ``{"id", "leaf", "status", "question", "answer", ...}``.

    ``status``: ``kept`` (passed every check, generated/), ``heldout`` (a held-out
    pair, kept out of training for evaluation), or with ``dropped`` also
    ``dropped`` (refused by a check; ``reason`` names it). ``decision`` is
    ``reject``/``edit`` where one is recorded, with the edited texts under ``edited``.
    """
    decisions = leaf.decisions().rows
    shown = []
    for status, rows in (("kept", leaf.rows()), ("heldout", leaf.heldout())):
        for row in rows:
            key = row_id(row, heldout=status == "heldout")
            entry = _entry(key, leaf.name, status, row)
            if (decision := decisions.get(key)) is not None:
                entry["decision"] = decision.decision
                if decision.decision == "edit":
                    entry["edited"] = {"question": decision.question, "answer": decision.answer}
            shown.append(entry)
    if dropped:
        for dropped_row in leaf.dropped():
            row = dropped_row.get("row") or {}
            entry = _entry(row_id(row), leaf.name, "dropped", row)
            entry["reason"] = dropped_row.get("reason")
            shown.append(entry)
    return shown


def _entry(key: str, leaf: str, status: str, row: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": key, "leaf": leaf, "status": status}
    for name in ("dataset_type", "span_id", "question", "answer"):
        if row.get(name) is not None:
            entry[name] = row[name]
    return entry


@dataclass(frozen=True)
class Decided:
    """One decision as recorded: the row ``id``, its leaf, what was done (``reject``, ``edit``, ``restore``)."""

    id: str
    leaf: str
    action: str
    question: str | None = None
    answer: str | None = None


def decide(
    leaves: list[ReviewLeaf],
    *,
    reject: tuple[str, ...] = (),
    restore: tuple[str, ...] = (),
    edit: str | None = None,
    question: str | None = None,
    answer: str | None = None,
) -> list[Decided]:
    """Record decisions on rows by id, each in its leaf's file (written atomically); returns what was recorded.

    Raises :class:`TaxolabError` for an id that no row has (restore also
    accepts an id only the file still names), an edit without new text, or a
    held-out pair of a ``data generate`` folder.
    """
    if edit is not None and question is None and answer is None:
        raise TaxolabError(f"--edit {edit}: give --question TEXT and/or --answer TEXT")
    if edit is None and (question is not None or answer is not None):
        raise TaxolabError("--question/--answer go with --edit ID")
    index = _index(leaves)
    reviews: dict[str, Review] = {}
    done: list[Decided] = []

    def review_of(leaf: ReviewLeaf) -> Review:
        return reviews.setdefault(leaf.name, leaf.decisions())

    def located(key: str) -> tuple[ReviewLeaf, dict[str, Any], bool]:
        if key not in index:
            raise TaxolabError(f"no row {key} here; `taxolab data review FOLDER` lists the ids")
        leaf, row, pair = index[key]
        if pair and not leaf.in_run:
            raise TaxolabError(
                f"{key} is a held-out pair of a `data generate` folder, whose mix rewrites them in place; "
                "review held-out pairs in a `taxolab run` folder"
            )
        return leaf, row, pair

    for key in reject:
        leaf, row, _ = located(key)
        review_of(leaf).rows[key] = RowDecision("reject", was=str(row.get("question") or ""))
        done.append(Decided(key, leaf.name, "reject"))
    if edit is not None:
        leaf, row, _ = located(edit)
        review_of(leaf).rows[edit] = RowDecision("edit", question, answer, was=str(row.get("question") or ""))
        done.append(Decided(edit, leaf.name, "edit", question, answer))
    for key in restore:
        owner = next((leaf for leaf in leaves if key in review_of(leaf).rows), None)
        if owner is None:
            raise TaxolabError(f"no decision on {key} to undo; `taxolab data review FOLDER` shows the decisions")
        del review_of(owner).rows[key]
        done.append(Decided(key, owner.name, "restore"))
    for review in reviews.values():
        review.save()
    return done


def ask_more(leaves: list[ReviewLeaf], leaf_name: str, rows: int | None) -> Review:
    """Record that ``leaf_name`` wants a further generation batch (at most ``rows`` rows); returns its decisions.

    Only in a ``taxolab run`` folder, whose next run generates the batch (that leaf only). Raises
    :class:`TaxolabError` for an unknown leaf or a ``data generate`` folder.
    """
    leaf = next((leaf for leaf in leaves if leaf.name == leaf_name), None)
    if leaf is None:
        raise TaxolabError(f"--more {leaf_name}: no such leaf here; `taxolab data review FOLDER` lists the leaves")
    if not leaf.in_run:
        raise TaxolabError(
            f"--more {leaf_name}: only in a `taxolab run` folder; for a `data generate` folder generate again "
            "with a larger --sdg-scale-factor"
        )
    if rows is not None and rows < 1:
        raise TaxolabError(f"--rows {rows}: give a number of rows of 1 or more")
    review = leaf.decisions()
    review.more.append(rows)
    review.save()
    return review


def missing_ids(leaves: list[ReviewLeaf]) -> dict[str, list[str]]:
    """Leaf -> ids its decisions name that no row has any more (a regeneration replaced those rows)."""
    missing = {}
    for leaf in leaves:
        if lost := leaf.decisions().missing(leaf.rows(), leaf.heldout()):
            missing[leaf.name] = lost
    return missing


def _index(leaves: list[ReviewLeaf]) -> dict[str, tuple[ReviewLeaf, dict[str, Any], bool]]:
    index = {}
    for leaf in leaves:
        for row in leaf.rows():
            index[row_id(row)] = (leaf, row, False)
        for pair in leaf.heldout():
            index[row_id(pair, heldout=True)] = (leaf, pair, True)
    return index
