"""Config keys that moved to another section: still read, under their new name, with a one-line notice.

Users' config files (``config init`` writes every key), environment variables
and scripts' ``--set`` flags name keys where an older taxolab kept them. A
moved key keeps working: :func:`move_keys` puts its value under the new key
before validation, and the caller prints :func:`notice` once per source. A
layer that sets both the old and the new key to different values is an error
naming both, since either choice would silently drop one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from taxolab.errors import TaxolabError

MOVED: dict[str, str] = {
    # mixing settings used to count as generation settings (issue 18): changing one regenerated every leaf
    "generate.context_ratio": "mix.context_ratio",
    "generate.distractor_ratio": "mix.distractor_ratio",
    "generate.knowledge_replay": "mix.knowledge_replay",
    "run.seed_examples": "mix.seed_examples",
    "models.system_prompt": "mix.system_prompt",
}
"""Old dotted key -> new dotted key."""


def move_keys(data: dict[str, Any], source: str, where: Callable[[str], str] | None = None) -> str | None:
    """Move every old key of ``data`` (nested dicts, one config layer) to its new place, in place.

    ``source`` names the layer for messages (a file, ``environment``, ``command-line flag``);
    ``where(old_key)`` may add a location (``" (line 40)"``). Returns the notice
    to print (one line), or None when nothing moved. Raises
    :class:`~taxolab.errors.TaxolabError` when the layer sets an old key and
    its new key to different values.
    """
    moved = []
    for old, new in MOVED.items():
        old_section, old_key = old.split(".")
        section = data.get(old_section)
        if not isinstance(section, dict) or old_key not in section:
            continue
        value = section.pop(old_key)
        if not section:
            del data[old_section]
        new_section, new_key = new.split(".")
        target = data.setdefault(new_section, {})
        if not isinstance(target, dict):
            continue  # the new section is not a mapping: validation names that
        if new_key in target and target[new_key] != value:
            raise TaxolabError(
                f"{source}: {old}{where(old) if where else ''} and {new} are both set, to different values; "
                f"{old} is the old name of {new}: remove it"
            )
        target[new_key] = value
        moved.append(f"{old}{where(old) if where else ''} -> {new}")
    if not moved:
        return None
    return f"{source}: moved keys read under their new names: {', '.join(moved)}; rename them there"


def old_name(new: str) -> str | None:
    """The old dotted key that now reads as ``new``, or None when ``new`` never moved."""
    return next((old for old, moved in MOVED.items() if moved == new), None)
