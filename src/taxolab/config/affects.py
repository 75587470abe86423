"""Whether a setting changes what taxolab computes, declared once, on the settings model.

Every fingerprint that decides what a rerun may reuse (a ``taxolab run``
stage, a ``data generate`` run folder, a training journal) takes its settings
through :func:`result_settings`, so a setting is left out of all of them or
of none. A field says what it affects with ``json_schema_extra``; the helpers
:func:`speed_only` and :func:`selection_only` write that for you::

    batch_size: int = speed_only(4, ge=1, description="...")

Kinds (the field's ``affects`` mark):

- ``result`` (the default, also when a field declares nothing): changes what
  is computed, so it is part of every fingerprint of a step that reads it. A
  new setting is therefore safe by default: changing it redoes work, it never
  reuses work done with another value.
- ``speed``: changes only how fast or where the work runs (parallelism,
  endpoints, folders, timeouts); never part of a fingerprint, so changing it
  on a rerun resumes.
- ``selection``: changes only which of the finished checkpoints is chosen
  (``train.select_by``) or what is measured of the chosen ones
  (``train.phase_recall``). Part of the fingerprint of the step that chooses,
  not of the training it chooses from, so changing it re-selects without
  retraining.

The mark is also shown in the JSON schema (``"affects": "speed"``), which is
where the generated configuration reference reads it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python


class Affects(StrEnum):
    RESULT = "result"
    SPEED = "speed"
    SELECTION = "selection"


KEY = "affects"


def _marked(kind: Affects, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[KEY] = str(kind)
    return Field(*args, json_schema_extra=extra, **kwargs)


def speed_only(*args: Any, **kwargs: Any) -> Any:
    """``pydantic.Field(*args, **kwargs)`` for a setting that changes only speed or place, never results."""
    return _marked(Affects.SPEED, args, kwargs)


def selection_only(*args: Any, **kwargs: Any) -> Any:
    """``pydantic.Field(*args, **kwargs)`` for a setting that only chooses among finished checkpoints."""
    return _marked(Affects.SELECTION, args, kwargs)


def affects(model: type[BaseModel], name: str) -> Affects:
    """What field ``name`` of ``model`` affects (``result`` when it declares nothing)."""
    extra = model.model_fields[name].json_schema_extra
    value = extra.get(KEY) if isinstance(extra, dict) else None
    return Affects(str(value)) if value else Affects.RESULT


def result_settings(section: BaseModel, *, selection: bool = False) -> dict[str, Any]:
    """The JSON values of ``section``'s fields that change results (plus ``selection`` ones when asked).

    Nested sections are filtered the same way. This is what every fingerprint
    puts in for a settings section; speed-only fields never appear in it.
    """
    wanted = {Affects.RESULT, Affects.SELECTION} if selection else {Affects.RESULT}
    values: dict[str, Any] = {}
    for name in type(section).model_fields:
        if affects(type(section), name) not in wanted:
            continue
        value = getattr(section, name)
        if isinstance(value, BaseModel):
            values[name] = result_settings(value, selection=selection)
        else:
            values[name] = to_jsonable_python(value)
    return values


def fields_by_kind(model: type[BaseModel], kind: Affects) -> list[str]:
    """The names of ``model``'s fields of one kind, in declaration order (for docs, tests and ``--plan``)."""
    return [name for name in model.model_fields if affects(model, name) is kind]


def read_settings(config: BaseModel, reads: tuple[str, ...], *, selection: bool = False) -> dict[str, Any]:
    """``{"train": {...}, "models.student": "default"}``: result-affecting values of the named sections and keys.

    A named key that only changes speed is left out like it is inside a
    section; ``selection`` keys come in only when ``selection`` is true.
    """
    wanted = {Affects.RESULT, Affects.SELECTION} if selection else {Affects.RESULT}
    values: dict[str, Any] = {}
    for read in reads:
        section_name, _, key = read.partition(".")
        section = getattr(config, section_name)
        if not key:
            values[read] = result_settings(section, selection=selection)
        elif affects(type(section), key) in wanted:
            values[read] = to_jsonable_python(getattr(section, key))
    return values
