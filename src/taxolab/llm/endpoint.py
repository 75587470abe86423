"""The one description of a model server taxolab talks to, and the one probe that fills it in.

Teacher, judge, evaluated models and chat all receive an :class:`Endpoint`,
whether it is a server taxolab started (:mod:`taxolab.llm.opener`) or one at
a URL the user gave, which :func:`probe` asks what it serves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import httpx

from taxolab.llm.client import OpenAIClient, normalise_base_url
from taxolab.llm.errors import EndpointDownError, status_fault, transport_fault

DEFAULT_SLOTS = 8
"""Requests to keep in flight at an endpoint that does not say how many it serves at once."""


@dataclass(frozen=True)
class Endpoint:
    """A reachable OpenAI-compatible server; plain data, so executors can ship it to other machines.

    ``url`` ends in ``/v1``; ``model`` is the name to request; ``slots`` is how
    many requests to keep in flight; ``ctx_size`` is the context of one request
    in tokens (None when the server does not say); ``timeout`` is seconds per
    request attempt and ``max_retries`` the retries of a transient failure.
    """

    url: str
    model: str
    slots: int = 4
    ctx_size: int | None = None
    api_key: str | None = None
    timeout: float = 300.0
    max_retries: int = 5

    @property
    def parallel(self) -> int:
        """The same as ``slots`` (the name llama.cpp and ``model serve`` use)."""
        return self.slots

    def replace(self, **changes: Any) -> Endpoint:
        """A copy with ``changes`` (e.g. ``slots=1`` for chat, ``max_retries=1`` in a failover pool)."""
        return dataclasses.replace(self, **changes)

    def client(self, *, max_concurrency: int | None = None) -> OpenAIClient:
        """An async client for this endpoint, capped at ``max_concurrency`` (default: ``slots``) in flight."""
        return OpenAIClient(
            self.url,
            self.model,
            api_key=self.api_key,
            max_concurrency=max_concurrency or self.slots,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )


def probe(
    url: str,
    *,
    model: str | None = None,
    api_key: str | None = None,
    slots: int | None = None,
    timeout: float = 300.0,
    max_retries: int = 5,
    wait: float = 15.0,
) -> Endpoint:
    """Ask the server at ``url`` what it serves: model name, request slots, context per request.

    ``/models`` must answer (else :class:`EndpointDownError`, one line naming
    the URL); ``model`` defaults to the first model it lists. llama.cpp's
    ``/props`` gives the slots (``total_slots``) and the context of one slot
    (``default_generation_settings.n_ctx``; its ``/models`` reports the whole
    shared pool); other servers give the context in their ``/models`` entry
    (vLLM: ``max_model_len``) and get :data:`DEFAULT_SLOTS`. ``slots`` overrides
    what the server says. ``wait`` is seconds for each probe request;
    ``timeout`` and ``max_retries`` are carried to the requests made later.
    """
    base = normalise_base_url(url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(headers=headers, timeout=wait, trust_env=False) as http:
        try:
            response = http.get(base + "/models")
        except httpx.TransportError as exc:
            raise transport_fault(
                base,
                model,
                exc,
                tries=1,
                timeout=wait,
                setting="the probe's limit",
                slow_hint="is it still loading its model? rerun once it answers",
            ) from None
        if response.status_code >= 400:
            fault = status_fault(base, model, response.status_code, response.text, tries=1)
            if isinstance(fault, EndpointDownError):
                raise fault
            raise EndpointDownError(base, model, f"/models answered {fault.detail}; is this an OpenAI-compatible URL?")
        try:
            listed = response.json().get("data") or []
        except (ValueError, AttributeError):
            raise EndpointDownError(base, model, "/models did not answer with an OpenAI model list") from None
        if model is None:
            if not listed:
                raise EndpointDownError(base, None, "the server lists no models; pass the model name")
            model = str(listed[0]["id"])
        entry: dict[str, Any] = next((item for item in listed if item.get("id") == model), {})
        props = _props(http, base[: -len("/v1")])
    settings = props.get("default_generation_settings")
    settings = settings if isinstance(settings, dict) else {}
    ctx_size = _positive(settings.get("n_ctx")) or _positive(entry.get("max_model_len"))
    ctx_size = ctx_size or _positive((entry.get("meta") or {}).get("n_ctx"))
    served_slots = slots or _positive(props.get("total_slots")) or DEFAULT_SLOTS
    return Endpoint(base, model, served_slots, ctx_size, api_key, timeout, max_retries)


def _props(http: httpx.Client, root: str) -> dict[str, Any]:
    """llama.cpp's ``/props`` (empty for servers without it)."""
    try:
        response = http.get(root + "/props")
        data = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None
