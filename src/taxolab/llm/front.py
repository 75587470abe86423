"""The OpenAI-compatible front of ``taxolab model serve``: what the engine behind it does not answer.

``model serve`` runs the engine (llama.cpp's ``llama-server``, llama-cpp-python
or vLLM) on a private loopback port and this front on the address the user
asked for. The front passes every request through, except:

- ``/v1/completions`` with ``echo``: llama-server refuses it ("Only no echo is
  supported"), yet log-likelihood benchmarks (lm-evaluation-harness's
  ``local-completions`` model: MMLU, ARC, HellaSwag) need exactly that: the
  log-probability of every prompt token. The front scores the prompt with the
  model's own weights through transformers
  (:meth:`taxolab.evaluation.loglik.LoglikScorer.sequence_logprobs`), lets the
  engine generate the ``max_tokens`` after it, and answers in OpenAI's legacy
  completions shape (``tokens``, ``token_logprobs``, ``top_logprobs``,
  ``text_offset``; the first prompt token's entries are null).
- ``logprobs`` on ``/v1/completions`` without echo: llama-server answers in the
  chat shape (``{"content": [...]}``); the front rewrites it to the legacy shape.
- ``/v1/models/{id}``: the model's entry, or a 404 naming the served models.
- a completion or chat request naming a model that is not served: a 404 naming
  the served models (llama-server answers any name with its one model).
- ``/v1/embeddings``: a 501 saying embeddings are not served (the engine runs
  a generative model).
- vLLM's tokenizer routes (``GET /tokenizer_info``, ``POST /tokenize`` with
  ``prompt``, ``POST /detokenize``), answered with the tokenizer echo uses, so
  lm-eval's ``local-completions`` finds its tokenizer on the server (its
  ``remote`` backend) and needs no local copy or hub access.

vLLM answers ``echo`` itself, so with that engine echo requests pass through.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httpx

from taxolab.console import stderr
from taxolab.errors import TaxolabError

if TYPE_CHECKING:
    from taxolab.evaluation.loglik import LoglikScorer, TokenLogprobs

MAX_TOP_LOGPROBS = 20
"""The most alternatives per token a request may ask for (OpenAI allows 5 for completions; lm-eval asks 1)."""

_COMPLETIONS = ("/v1/completions", "/completions")
_NAMED_MODEL_PATHS = (*_COMPLETIONS, "/v1/chat/completions", "/chat/completions")
_EMBEDDINGS = ("/v1/embeddings", "/embeddings")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "upgrade"}


class FrontError(Exception):
    """A request the front answers with an OpenAI-style error body."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": str(self), "type": self.kind, "param": None, "code": self.code}}


class Front:
    """Answers requests for one engine; :class:`FrontServer` puts it on a socket.

    ``scorer`` loads the model's weights for prompt log-probabilities (called
    once, on the first echo request); None passes echo requests to the engine.
    """

    def __init__(
        self,
        engine_url: str,
        *,
        api_key: str | None,
        scorer: Callable[[], LoglikScorer] | None,
        tokenizer: Callable[[], Any] | None = None,
        timeout: float = 600,
    ) -> None:
        self.engine_url = engine_url.rstrip("/")
        self.api_key = api_key
        self._scorer_factory = scorer
        self._tokenizer_factory = tokenizer
        self._tokenizer: Any = None
        self._scorer: LoglikScorer | None = None
        self._scorer_lock = threading.Lock()
        self._names: list[str] | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(timeout=timeout, trust_env=False, headers=headers)

    def close(self) -> None:
        self.http.close()

    # -- models -----------------------------------------------------------------------------------------------

    def model_list(self) -> dict[str, Any]:
        """The engine's ``/v1/models`` answer (an OpenAI model list)."""
        response = self.http.get(self.engine_url + "/v1/models")
        response.raise_for_status()
        listing: dict[str, Any] = response.json()
        return listing

    def served_names(self) -> list[str]:
        """The model names the engine serves (asked once: they do not change while it runs)."""
        if self._names is None:
            self._names = [str(entry.get("id")) for entry in self.model_list().get("data", [])]
        return self._names

    def model_entry(self, model_id: str) -> dict[str, Any]:
        """``/v1/models/{id}``: the engine's entry for ``model_id``; FrontError 404 naming the served ones."""
        entries = self.model_list().get("data", [])
        for entry in entries:
            if entry.get("id") == model_id:
                return dict(entry)
        raise self._unknown_model(model_id, [str(e.get("id")) for e in entries])

    def check_model(self, body: dict[str, Any]) -> None:
        """A request naming a model this server does not serve is a 404 (no name: the served model answers)."""
        model = body.get("model")
        if model is None or model == "":
            return
        names = self.served_names()
        if model not in names:
            raise self._unknown_model(str(model), names)

    @staticmethod
    def _unknown_model(model_id: str, names: list[str]) -> FrontError:
        served = ", ".join(repr(n) for n in names) or "none"
        return FrontError(404, f"model {model_id!r} is not served here; served: {served}", code="model_not_found")

    # -- completions with echo ---------------------------------------------------------------------------------

    def scorer(self) -> LoglikScorer:
        with self._scorer_lock:
            if self._scorer is None:
                assert self._scorer_factory is not None
                self._scorer = self._scorer_factory()
            return self._scorer

    def tokenizer(self) -> Any:
        """The scorer's tokenizer, loaded on its own when a factory for it was given (faster than the weights)."""
        if self._scorer is not None or self._tokenizer_factory is None:
            return self.scorer().tokenizer
        with self._scorer_lock:
            if self._tokenizer is None:
                self._tokenizer = self._tokenizer_factory()
            return self._tokenizer

    @property
    def has_tokenizer(self) -> bool:
        return self._scorer_factory is not None

    def tokenizer_info(self) -> dict[str, Any]:
        """vLLM's ``/tokenizer_info``: lm-eval's ``remote`` tokenizer backend reads the special tokens here."""
        tok = self.tokenizer()
        return {
            "tokenizer_class": type(tok).__name__,
            "eos_token": tok.eos_token,
            "bos_token": tok.bos_token,
            "pad_token": tok.pad_token,
            "model_max_length": tok.model_max_length,
            "chat_template": getattr(tok, "chat_template", None),
        }

    def tokenize(self, body: dict[str, Any]) -> dict[str, Any]:
        """vLLM's ``/tokenize`` (``{"prompt", "add_special_tokens"}`` -> ``{"tokens", "count"}``), same tokenizer as echo."""
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise FrontError(400, "`prompt` must be a string")
        ids = list(self.tokenizer()(prompt, add_special_tokens=bool(body.get("add_special_tokens", True)))["input_ids"])
        return {"tokens": ids, "count": len(ids)}

    def detokenize(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/detokenize``: ``{"tokens"}`` -> the text, under vLLM's key ``prompt`` and llama.cpp's ``content``."""
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            raise FrontError(400, "`tokens` must be a list of token ids")
        text = self.tokenizer().decode(tokens)
        return {"prompt": text, "content": text}

    def handles_echo(self, body: dict[str, Any]) -> bool:
        return bool(body.get("echo")) and self._scorer_factory is not None

    def echo_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """A ``/v1/completions`` answer for ``echo``: each prompt, its token log-probabilities, then the engine's text.

        Raises FrontError 400 for what it cannot answer (streaming, ``n`` > 1,
        a malformed prompt, ``logprobs`` outside 0..MAX_TOP_LOGPROBS).
        """
        if body.get("stream"):
            raise FrontError(400, "`echo` with `stream` is not supported here: send the request with stream false")
        if int(body.get("n") or 1) != 1 or int(body.get("best_of") or 1) != 1:
            raise FrontError(400, "`echo` is answered for n=1 (and best_of=1) only")
        top = _top_count(body.get("logprobs"))
        max_tokens = _max_tokens(body.get("max_tokens"))
        scorer = self.scorer()
        prompts = [_prompt_ids(p, scorer.tokenizer) for p in _prompts(body.get("prompt"))]
        with self._scorer_lock:  # one forward at a time: torch already uses every core
            scored = scorer.sequence_logprobs(prompts, top=top or 0)
        choices = []
        completion_tokens = 0
        for index, (ids, prompt_scores) in enumerate(zip(prompts, scored, strict=True)):
            generated = self._generate(ids, body, max_tokens, top) if max_tokens else _Generated("", None, 0, "length")
            completion_tokens += generated.count
            pieces = [scorer.tokenizer.decode([t]) for t in ids]
            prompt_text = scorer.tokenizer.decode(ids)
            logprobs = None
            if top is not None:
                logprobs = _echo_logprobs(pieces, prompt_scores, scorer.tokenizer, generated.logprobs)
            choices.append(
                {
                    "text": prompt_text + generated.text,
                    "index": index,
                    "logprobs": logprobs,
                    "finish_reason": generated.finish_reason,
                }
            )
        prompt_tokens = sum(len(ids) for ids in prompts)
        return {
            "id": f"cmpl-{uuid.uuid4().hex}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": body.get("model") or (self.served_names() or ["model"])[0],
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _generate(self, ids: list[int], body: dict[str, Any], max_tokens: int, top: int | None) -> _Generated:
        """The engine's continuation of the prompt ``ids`` (its own sampling settings from ``body``)."""
        request = {k: v for k, v in body.items() if k not in ("echo", "logprobs", "stream", "n", "best_of", "prompt")}
        request.update(prompt=ids, max_tokens=max_tokens)
        if top is not None:
            request["logprobs"] = max(top, 1)
        response = self.http.post(self.engine_url + "/v1/completions", json=request)
        if response.status_code != 200:
            raise FrontError(response.status_code, f"the engine refused the generation: {_detail(response)}", "engine")
        choice = response.json()["choices"][0]
        items = _engine_items(choice.get("logprobs"))
        legacy: dict[str, list[Any]] | None = None
        if top is not None:
            already = choice.get("logprobs")  # llama-cpp-python answers in the legacy shape itself
            legacy = already if items is None and isinstance(already, dict) else _legacy_from_items(items, top)
        count = len(items) if items else int(response.json().get("usage", {}).get("completion_tokens", 0))
        return _Generated(choice.get("text", ""), legacy, count, choice.get("finish_reason"))

    # -- logprobs shape of plain completions ------------------------------------------------------------------

    @staticmethod
    def legacy_completion(answer: dict[str, Any], top: int) -> dict[str, Any]:
        """Rewrite llama-server's chat-shaped ``logprobs`` of a completions answer to the legacy shape."""
        for choice in answer.get("choices", []):
            items = _engine_items(choice.get("logprobs"))
            if items is not None:
                choice["logprobs"] = _legacy_from_items(items, top)
        return answer


class _Generated:
    def __init__(self, text: str, logprobs: dict[str, list[Any]] | None, count: int, finish_reason: Any) -> None:
        self.text = text
        self.logprobs = logprobs
        self.count = count
        self.finish_reason = finish_reason


def _prompts(value: Any) -> list[str | list[int]]:
    """OpenAI's prompt forms: a string, a list of strings, a list of token ids, or a list of such lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(t, int) and not isinstance(t, bool) for t in value):
            return [list(value)]
        if all(isinstance(p, str) or (isinstance(p, list) and p and all(isinstance(t, int) for t in p)) for p in value):
            return list(value)
    raise FrontError(
        400, "`prompt` must be a string, a list of strings, a list of token ids or a list of token-id lists"
    )


def _prompt_ids(prompt: str | list[int], tokenizer: Any) -> list[int]:
    if isinstance(prompt, list):
        vocab = len(tokenizer)
        if any(t < 0 or t >= vocab for t in prompt):
            raise FrontError(400, f"`prompt` holds token ids outside the vocabulary (0..{vocab - 1})")
        return prompt
    ids = list(tokenizer(prompt)["input_ids"])
    if not ids:
        raise FrontError(400, "`prompt` is empty: echo needs at least one token")
    return ids


def _top_count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOP_LOGPROBS:
        raise FrontError(400, f"`logprobs` must be an integer from 0 to {MAX_TOP_LOGPROBS}")
    return value


def _max_tokens(value: Any) -> int:
    if value is None:
        return 16  # OpenAI's default for completions
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrontError(400, "`max_tokens` must be a whole number >= 0")
    return value


def _echo_logprobs(
    pieces: list[str], scores: TokenLogprobs, tokenizer: Any, generated: dict[str, list[Any]] | None
) -> dict[str, list[Any]]:
    """The legacy ``logprobs`` object for an echoed prompt, followed by the generated tokens' entries."""
    top: list[dict[str, float] | None] = [None]
    top += [{tokenizer.decode([t]): value for t, value in pairs} for pairs in scores.top[1:]]
    offsets = _offsets(pieces)
    out: dict[str, list[Any]] = {
        "tokens": list(pieces),
        "token_logprobs": list(scores.logprobs),
        "top_logprobs": top,
        "text_offset": offsets,
    }
    if generated:
        start = sum(len(p) for p in pieces)
        tokens = list(generated.get("tokens") or [])
        out["tokens"] += tokens
        out["token_logprobs"] += list(generated.get("token_logprobs") or [None] * len(tokens))
        out["top_logprobs"] += list(generated.get("top_logprobs") or [None] * len(tokens))
        out["text_offset"] += [start + o for o in generated.get("text_offset") or _offsets(tokens)]
    return out


def _engine_items(logprobs: Any) -> list[dict[str, Any]] | None:
    """llama-server's per-token entries (``{"content": [{token, logprob, top_logprobs}, ...]}``), or None."""
    if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
        return list(logprobs["content"])
    return None


def _legacy_from_items(items: list[dict[str, Any]] | None, top: int) -> dict[str, list[Any]]:
    """OpenAI's legacy completions ``logprobs`` from llama-server's per-token entries."""
    items = items or []
    pieces = [str(item.get("token", "")) for item in items]
    return {
        "tokens": pieces,
        "token_logprobs": [item.get("logprob") for item in items],
        "top_logprobs": [
            {str(alt.get("token", "")): alt.get("logprob") for alt in (item.get("top_logprobs") or [])[:top]}
            for item in items
        ],
        "text_offset": _offsets(pieces),
    }


def _offsets(pieces: Iterable[str]) -> list[int]:
    offsets, at = [], 0
    for piece in pieces:
        offsets.append(at)
        at += len(piece)
    return offsets


def _detail(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict):
            return str(error.get("message"))
    except (ValueError, AttributeError):
        pass
    return f"HTTP {response.status_code}: {response.text[:200]}"


class _Handler(BaseHTTPRequestHandler):
    """One request: answered by the front, or passed to the engine and its answer copied back."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the engine's own log records requests
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def _handle(self, method: str) -> None:
        front = self.server.front
        path = self.path.split("?", 1)[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if path != "/health" and front.api_key and self.headers.get("Authorization") != f"Bearer {front.api_key}":
                raise FrontError(
                    401, "missing or wrong API key: send `Authorization: Bearer <key>`", "authentication_error"
                )
            answer = self._answer(method, path, raw)
        except FrontError as exc:
            self._send_json(exc.status, exc.body())
            return
        except httpx.HTTPError as exc:
            self._send_json(
                502, FrontError(502, f"the engine behind this server did not answer: {exc}", "engine").body()
            )
            return
        except TaxolabError as exc:
            stderr.print(f"model serve: {exc}", highlight=False, soft_wrap=True)
            self._send_json(500, FrontError(500, str(exc), "server_error").body())
            return
        except (ValueError, TypeError, KeyError) as exc:  # a field of the wrong type deep in a request
            self._send_json(400, FrontError(400, f"malformed request ({type(exc).__name__}: {exc})").body())
            return
        if answer is not None:
            self._send_json(200, answer)

    def _answer(self, method: str, path: str, raw: bytes) -> dict[str, Any] | None:
        front = self.server.front
        if method == "GET" and path.startswith("/v1/models/"):
            return front.model_entry(unquote(path[len("/v1/models/") :]))
        if front.has_tokenizer and path in ("/tokenizer_info", "/tokenize", "/detokenize"):
            tokenizer_answer = self._tokenizer_route(method, path, raw)
            if tokenizer_answer is not None:
                return tokenizer_answer
        if method == "POST" and path in _EMBEDDINGS:
            raise FrontError(
                501,
                "embeddings are not served by `taxolab model serve`: it serves a generative model; "
                "run an embedding model on a server of its own",
                "not_implemented",
            )
        body: dict[str, Any] | None = None
        if method == "POST" and path in _NAMED_MODEL_PATHS:
            body = _json_object(raw)
            front.check_model(body)
            if path in _COMPLETIONS and front.handles_echo(body):
                return front.echo_completion(body)
        self._proxy(method, path, raw, body)
        return None

    def _tokenizer_route(self, method: str, path: str, raw: bytes) -> dict[str, Any] | None:
        """vLLM's tokenizer routes (lm-eval's ``remote`` tokenizer); llama.cpp's ``{"content"}`` /tokenize passes on."""
        front = self.server.front
        if method == "GET" and path == "/tokenizer_info":
            return front.tokenizer_info()
        if method != "POST" or path == "/tokenizer_info":
            return None
        body = _json_object(raw)
        if path == "/detokenize":
            return front.detokenize(body)
        return front.tokenize(body) if "prompt" in body else None

    def _proxy(self, method: str, path: str, raw: bytes, body: dict[str, Any] | None) -> None:
        front = self.server.front
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        request = front.http.build_request(method, front.engine_url + self.path, headers=headers, content=raw)
        response = front.http.send(request, stream=True)
        try:
            streaming = "text/event-stream" in response.headers.get("content-type", "")
            if not streaming:
                content = response.read()
                top = _top_count(body.get("logprobs")) if body and path in _COMPLETIONS else None
                if top is not None and response.status_code == 200:
                    content = json.dumps(Front.legacy_completion(json.loads(content), top)).encode()
                self._send_bytes(response.status_code, content, response.headers)
                return
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in response.iter_raw():
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        finally:
            response.close()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _send_bytes(self, status: int, content: bytes, headers: Any) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-encoding":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], front: Front) -> None:
        import socket

        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.front = front
        super().__init__(address, _Handler)


class FrontServer:
    """The front on ``host:port`` (0 = a free port) for the engine at ``engine_url`` (its root, no ``/v1``).

    ``api_key``, when set, is required from clients and sent to the engine.
    Stop it with :meth:`stop` (idempotent) or by leaving its ``with`` block.
    Raises TaxolabError when the address cannot be bound.
    """

    def __init__(
        self,
        engine_url: str,
        host: str,
        port: int,
        *,
        api_key: str | None = None,
        scorer: Callable[[], LoglikScorer] | None = None,
        tokenizer: Callable[[], Any] | None = None,
    ) -> None:
        from taxolab.llm.server import url_host

        self.front = Front(engine_url, api_key=api_key, scorer=scorer, tokenizer=tokenizer)
        try:
            self._server = _Server((host, port), self.front)
        except OSError as exc:
            self.front.close()
            raise TaxolabError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): pass another --port, or stop what uses it"
            ) from None
        self.port = int(self._server.server_address[1])
        self.root_url = f"http://{url_host(host)}:{self.port}"
        self.url = self.root_url + "/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="taxolab-front", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        self.front.close()

    def __enter__(self) -> FrontServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object (an empty body is ``{}``); FrontError 400 for anything else."""
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        raise FrontError(400, "the request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise FrontError(400, "the request body must be a JSON object")
    return parsed
