"""A person's review of one leaf's generated rows: which to leave out, which to correct.

The decisions live in one YAML file per leaf, next to the leaf's rows
(``<run>/data/leaves/<leaf>/review.yaml`` in a ``taxolab run`` folder, above the
generation folders, so a regeneration keeps it; ``review/<leaf>.yaml`` in a
``data generate`` folder). It is human-readable and may be edited by hand::

    leaf: knowledge_science_animals_birds_black_capped_chickadee
    rows:
      3f9a0c21:            # the row's stable id (:func:`row_id`)
        decision: reject
        was: What about black-capped and atricapillus (624)?
      b7d1e004:
        decision: edit
        question: Where does the black-capped chickadee live?
        answer: In deciduous and mixed forests of North America.
    more:                  # further generation batches asked for (`data review --more LEAF`)
      - rows: 20           # at most 20 more rows; null: as many as one batch makes

A row's id is a hash of what the teacher made (its ``span_id``, question and
answer, and whether it is a held-out pair), so it survives a regeneration of
*other* rows; a decision whose id no longer exists is reported
(:attr:`Review.missing`), never silently dropped. ``was`` is a note for the
reader (the row's question when decided) and is not part of the decision.
A ``more`` batch is generated with another generation seed into the leaf's
generation folder (``more/<n>/``) and its rows are appended to the leaf's:
existing rows, and the decisions on them, stay.

The mix applies the decisions (:func:`Review.apply`) and the ``taxolab run`` mix
stage hashes them (:meth:`Review.fingerprint`), so a review re-mixes and
retrains without a teacher request.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML

from taxolab import fsio
from taxolab.errors import TaxolabError
from taxolab.yamlio import load_yaml, plain

Decision = Literal["reject", "edit"]
REVIEW_NAME = "review.yaml"
"""The file name of a leaf's decisions in a ``taxolab run`` folder (``data/leaves/<leaf>/review.yaml``)."""


def row_id(row: dict[str, Any], *, heldout: bool = False) -> str:
    """The short stable id of a generated row or held-out pair: 8 hex digits of a SHA-256.

    Hashes the row's ``span_id``, ``question`` and ``answer`` as generation wrote
    them (and ``heldout`` for a held-out pair), nothing positional, so the id
    of a row stays when other rows are regenerated, dropped or reordered.
    """
    parts = ["heldout" if heldout else "row", str(row.get("span_id") or ""), str(row.get("question") or "")]
    parts.append(str(row.get("answer") or ""))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8]


@dataclass
class RowDecision:
    """One decision on one row: ``reject`` it, or ``edit`` its question and/or answer (None keeps that part)."""

    decision: Decision
    question: str | None = None
    answer: str | None = None
    was: str | None = None

    def to_yaml(self) -> dict[str, str]:
        data: dict[str, str] = {"decision": self.decision}
        for key in ("question", "answer", "was"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass
class Applied:
    """What :meth:`Review.apply` did to a leaf's rows: the reviewed rows and held-out pairs, with counts.

    ``dropped_questions`` are the (original) questions of rejected held-out pairs,
    which leave the evaluation set with them; ``withheld_questions`` are the
    original questions of edited held-out pairs, which no training row may keep.
    """

    rows: list[dict[str, Any]]
    heldout: list[dict[str, Any]]
    rejected: int = 0
    edited: int = 0
    dropped_questions: set[str] = field(default_factory=set)
    withheld_questions: set[str] = field(default_factory=set)


@dataclass
class Review:
    """The decisions on one leaf's rows, keyed by :func:`row_id`; ``path`` is where they are kept."""

    leaf: str
    path: Path
    rows: dict[str, RowDecision] = field(default_factory=dict)
    more: list[int | None] = field(default_factory=list)
    """Further generation batches, in order: each at most this many rows (None: a whole batch)."""

    @classmethod
    def load(cls, path: Path, leaf: str) -> Review:
        """The decisions in ``path`` (none when it does not exist).

        Raises :class:`TaxolabError` naming the file for a malformed one (what to fix or delete).
        """
        path = Path(path)
        review = cls(leaf, path)
        if not path.is_file():
            return review
        data = plain(load_yaml(path, "review file")) or {}
        entries = (data.get("rows") or {}) if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise TaxolabError(f"{path}: expected a mapping `rows:` of row id -> decision; fix it or delete the file")
        for key, entry in entries.items():
            if not isinstance(entry, dict) or entry.get("decision") not in ("reject", "edit"):
                raise TaxolabError(f"{path}: row {key}: `decision:` must be reject or edit; fix it or delete the entry")
            texts = {name: entry.get(name) for name in ("question", "answer", "was")}
            for name, value in texts.items():
                if value is not None and not isinstance(value, str):
                    raise TaxolabError(f"{path}: row {key}: `{name}:` must be text")
            if entry["decision"] == "edit" and texts["question"] is None and texts["answer"] is None:
                raise TaxolabError(f"{path}: row {key}: an edit needs a `question:` or an `answer:`")
            review.rows[str(key)] = RowDecision(entry["decision"], texts["question"], texts["answer"], texts["was"])
        for batch in data.get("more") or []:
            rows = batch.get("rows") if isinstance(batch, dict) else "?"
            if rows is not None and (not isinstance(rows, int) or rows < 1):
                raise TaxolabError(f"{path}: `more:` entries are `- rows: N` (N >= 1) or `- rows: null`")
            review.more.append(rows)
        return review

    def save(self) -> None:
        """Write the decisions atomically (the file is removed when none are left)."""
        if not self.rows and not self.more:
            self.path.unlink(missing_ok=True)
            return
        data: dict[str, Any] = {"leaf": self.leaf, "rows": {key: self.rows[key].to_yaml() for key in sorted(self.rows)}}
        if self.more:
            data["more"] = [{"rows": rows} for rows in self.more]
        yaml = YAML()
        yaml.default_flow_style = False
        yaml.width = 4096
        text = io.StringIO()
        text.write("# Review decisions (taxolab data review); edit by hand or with the command.\n")
        yaml.dump(data, text)
        fsio.write_text(self.path, text.getvalue())

    def fingerprint(self) -> dict[str, Any]:
        """The decisions as the mix reads them (``was`` notes left out): part of the mix stage's inputs."""
        return {key: {k: v for k, v in d.to_yaml().items() if k != "was"} for key, d in sorted(self.rows.items())}

    def missing(self, rows: list[dict[str, Any]], heldout: list[dict[str, Any]]) -> list[str]:
        """The ids decided on that no row or held-out pair has any more (a regeneration replaced them)."""
        known = {row_id(r) for r in rows} | {row_id(h, heldout=True) for h in heldout}
        return sorted(key for key in self.rows if key not in known)

    def apply(self, rows: list[dict[str, Any]], heldout: list[dict[str, Any]]) -> Applied:
        """The leaf's rows and held-out pairs as reviewed: rejected ones left out, edits applied.

        An edited held-out pair stays held out (its edited text is what evaluation asks).
        """
        applied = Applied([], [])
        for pair, target in ((False, applied.rows), (True, applied.heldout)):
            for row in heldout if pair else rows:
                decision = self.rows.get(row_id(row, heldout=pair))
                if decision is None:
                    target.append(row)
                elif decision.decision == "reject":
                    applied.rejected += 1
                    if pair:
                        applied.dropped_questions.add(str(row.get("question") or ""))
                else:
                    applied.edited += 1
                    if pair and decision.question is not None:
                        applied.withheld_questions.add(str(row.get("question") or ""))
                    edited = dict(row)
                    if decision.question is not None:
                        edited["question"] = decision.question
                    if decision.answer is not None:
                        edited["answer"] = decision.answer
                    target.append(edited)
        return applied


MORE_FOLDER = "more"
"""A leaf generation folder's further batches (``more/<n>/generated/<leaf>.jsonl``...), asked for by a review."""


def batch_files(folder: Path, part: str, leaf: str) -> list[Path]:
    """The leaf's files of ``part`` (``generated``, ``dropped``): the generation folder's, then each more batch's.

    Only files that exist, batches in the order they were asked for.
    """
    folder = Path(folder)
    batches = sorted((folder / MORE_FOLDER).glob("*/"), key=lambda p: int(p.name) if p.name.isdigit() else 0)
    files = [folder / part / f"{leaf}.jsonl", *(batch / part / f"{leaf}.jsonl" for batch in batches)]
    return [path for path in files if path.is_file()]


def review_file(folder: Path, leaf: str) -> Path:
    """Where a ``data generate`` folder keeps a leaf's decisions: ``review/<leaf>.yaml``."""
    return Path(folder) / "review" / f"{leaf}.yaml"
