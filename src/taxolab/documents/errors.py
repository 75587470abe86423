"""The one error the documents package raises: one line naming the repo, commit or file."""

from __future__ import annotations

from taxolab.errors import TaxolabError


class DocumentError(TaxolabError):
    """A knowledge document cannot be fetched, found or read."""
