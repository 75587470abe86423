"""Settings for fetching knowledge documents."""

from __future__ import annotations

from taxolab.config.affects import speed_only
from taxolab.config.sections import Section


class DocumentSettings(Section):
    mirrors: dict[str, str] = speed_only(
        default_factory=dict,
        description="Map a document repo URL (or URL prefix) to a local mirror: a path, a bundle file or another URL. Needed offline and air-gapped.",
    )
    offline: bool = speed_only(
        False, description="Never fetch over the network; only mirrors, local paths and the cache."
    )
