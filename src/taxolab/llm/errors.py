"""Errors from model servers that name the endpoint and model, so the user knows which one failed."""

from __future__ import annotations

from taxolab.errors import TaxolabError


class EndpointError(TaxolabError):
    """A request failed for good (bad request, auth, or retries exhausted)."""

    def __init__(self, endpoint: str, model: str | None, message: str, status: int | None = None) -> None:
        self.endpoint = endpoint
        self.model = model
        self.status = status
        where = f"{endpoint} (model {model})" if model else endpoint
        super().__init__(f"{where}: {message}")


class EndpointDownError(EndpointError):
    """The server does not answer at all (connection refused, timeouts) after all retries."""
