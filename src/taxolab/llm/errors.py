"""Errors from model servers: which endpoint failed, which kind of fault it was, and what to change.

Every request to a model (teacher, judge, evaluated model, chat) goes through
:class:`taxolab.llm.client.OpenAIClient`, which turns a failed request into one
of these with :func:`transport_fault` or :func:`status_fault`, so every caller
shows the same words for the same fault:

======================  =========  ==============================================================
fault                   kind       what the user changes
======================  =========  ==============================================================
read/write timeout      slow       ``client.timeout``, or fewer requests at once
HTTP 429 / 5xx          overloaded the server or the proxy in front of it; fewer requests at once
connection refused/lost down       start the server, check the URL
HTTP 401 / 403          refused    the API key (``client.api_key_env``)
other HTTP 4xx          (request)  nothing to retry: one request was bad, the server is fine
======================  =========  ==============================================================

The first four are :class:`EndpointDownError`: the endpoint cannot serve now
and every later request would fail the same way, so a run stops (and a pool of
endpoints fails over) instead of dropping rows one by one. Statuses and the
reading of 502/503/504 follow RFC 9110 section 15.6.
"""

from __future__ import annotations

import json

import httpx

from taxolab.errors import TaxolabError

TIMEOUT_HINT = (
    "raise client.timeout (TAXOLAB_CLIENT__TIMEOUT=600 or --set client.timeout=600) "
    "or send fewer requests at once (generate.concurrency, --concurrency)"
)
RETRIES_HINT = "client.max_retries (TAXOLAB_CLIENT__MAX_RETRIES)"


class EndpointError(TaxolabError):
    """A request failed for good; ``status`` is the HTTP status when the server answered one.

    ``kind`` is ``request`` for a fault of one request (the server itself works).
    """

    kind = "request"

    def __init__(self, endpoint: str, model: str | None, message: str, status: int | None = None) -> None:
        self.endpoint = endpoint
        self.model = model
        self.status = status
        self.detail = message
        where = f"{endpoint} (model {model})" if model else endpoint
        super().__init__(f"{where}: {message}")

    def again(self, endpoint: str, message: str) -> EndpointError:
        """The same kind of error for ``endpoint`` with another message (a pool naming all its members)."""
        return type(self)(endpoint, None, message, status=self.status)


class EndpointDownError(EndpointError):
    """The endpoint cannot serve requests now, after all retries: nothing listens, or the connection broke."""

    kind = "down"


class EndpointSlowError(EndpointDownError):
    """The server took longer than ``client.timeout`` to answer: it is up but slow (or overloaded)."""

    kind = "slow"


class EndpointOverloadedError(EndpointDownError):
    """HTTP 429 or 5xx after all retries: the server, or a proxy in front of it, cannot take the work."""

    kind = "overloaded"


class EndpointRefusedError(EndpointDownError):
    """HTTP 401/403: the server refuses us (API key missing or wrong); retrying cannot help."""

    kind = "refused"


def _tries(tries: int) -> str:
    return "1 try" if tries == 1 else f"{tries} tries"


def transport_fault(
    endpoint: str,
    model: str | None,
    exc: httpx.HTTPError,
    *,
    tries: int,
    timeout: float,
    setting: str = "client.timeout",
    slow_hint: str = TIMEOUT_HINT,
) -> EndpointDownError:
    """The error for a request that got no HTTP answer (``tries`` attempts, ``timeout`` seconds each).

    ``setting`` names what set ``timeout``; ``slow_hint`` says what to change when it ran out.
    """
    if isinstance(exc, httpx.ConnectTimeout):
        return EndpointDownError(
            endpoint,
            model,
            f"no connection within {min(timeout, 10.0):g} s after {_tries(tries)}: the host does not answer "
            "(down, wrong address, or a firewall); check the URL and that the server runs",
        )
    if isinstance(exc, httpx.TimeoutException):
        return EndpointSlowError(
            endpoint,
            model,
            f"slow: no answer within {timeout:g} s ({setting}) after {_tries(tries)}; the server is up but did "
            f"not finish in time: {slow_hint}",
        )
    if isinstance(exc, httpx.ConnectError):
        return EndpointDownError(
            endpoint,
            model,
            f"down: nothing answers at this address (connection refused) after {_tries(tries)}; "
            "start the server or check the URL and port",
        )
    reason = str(exc) or type(exc).__name__
    return EndpointDownError(
        endpoint,
        model,
        f"down: the connection broke ({reason}) after {_tries(tries)}; did the server crash or restart? "
        "check its log, then rerun",
    )


def server_message(text: str) -> str:
    """The server's own words from an error body: OpenAI-style ``{"error": {"message": ...}}`` or plain text."""
    detail = " ".join(text.split())[:300]
    try:
        parsed = json.loads(text)
        error = parsed.get("error", parsed)
        detail = str(error.get("message", detail)) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        pass
    return detail or "(empty answer)"


_OVERLOADED = {
    408: "the server gave up waiting for the request",
    429: "the server is rate-limiting us (too many requests)",
    500: "the server failed on the request (see its log)",
    502: "a proxy in front of the server got no valid answer from it (is the server running behind it?)",
    503: "the server is overloaded or still starting",
    504: "the server or a proxy in front of it timed out waiting for the answer",
}


def status_fault(endpoint: str, model: str | None, status: int, text: str, *, tries: int) -> EndpointError:
    """The error for an HTTP error answer ``status`` with body ``text``, after ``tries`` attempts."""
    quoted = f"HTTP {status}: {server_message(text)}"
    if status in (401, 403):
        return EndpointRefusedError(
            endpoint,
            model,
            f"refused: {quoted}; check the API key (the variable named by client.api_key_env, "
            "OPENAI_API_KEY by default) and that it may use this model",
            status=status,
        )
    if status in (408, 429) or status >= 500:
        what = _OVERLOADED.get(status, "the server failed on the request")
        if status == 504:
            hint = "raise the proxy's or server's time limit, or send fewer requests at once (generate.concurrency, --concurrency)"
        else:
            hint = f"send fewer requests at once (generate.concurrency, --concurrency) or allow more retries ({RETRIES_HINT})"
        return EndpointOverloadedError(
            endpoint, model, f"overloaded: {quoted} after {_tries(tries)}: {what}; {hint}", status=status
        )
    return EndpointError(endpoint, model, quoted, status=status)
