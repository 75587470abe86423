"""A stand-in for the remote Hugging Face hub, on 127.0.0.1, for download tests.

The real hub cannot be reached from tests (no network), so this serves the
few HTTP calls ``huggingface_hub`` makes for a download: repository info at a
revision, the file tree, and ``resolve`` (HEAD for metadata, GET for bytes).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class FakeHub:
    """``repos`` maps ``org/name`` to ``{path: bytes}``; only revision ``main`` (and the commit) exist."""

    repos: dict[str, dict[str, bytes]]
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeHub:
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up early (the hub library closes HEAD connections) is not news."""


def _etag(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    info = re.compile(r"^/api/models/([^/]+/[^/]+)/revision/([^/]+)$")
    tree = re.compile(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/.*)?$")
    resolve = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = unquote(urlparse(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            if match := info.match(path):
                repo, rev = match.groups()
                if not self._known(repo, rev):
                    return
                files = hub.repos[repo]
                self._json({"id": repo, "sha": COMMIT, "siblings": [{"rfilename": name} for name in files]}, body)
            elif match := tree.match(path):
                repo, rev = match.groups()
                if not self._known(repo, rev):
                    return
                entries = [
                    {"type": "file", "path": name, "size": len(data), "oid": _etag(data)}
                    for name, data in hub.repos[repo].items()
                ]
                self._json(entries, body)
            elif match := resolve.match(path):
                repo, rev, name = match.groups()
                if not self._known(repo, rev):
                    return
                data = hub.repos[repo].get(name)
                if data is None:
                    self._error(404, "EntryNotFound", "Entry not found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", f'"{_etag(data)}"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.end_headers()
                if body:
                    self.wfile.write(data)
            else:
                self._error(404, "NotFound", f"no route {path}")

        def _known(self, repo: str, rev: str) -> bool:
            if repo not in hub.repos:
                self._error(404, "RepoNotFound", "Repository not found")
                return False
            if rev not in ("main", COMMIT):
                self._error(404, "RevisionNotFound", "Invalid rev id")
                return False
            return True

        def _json(self, data: Any, body: bool) -> None:
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            if body:
                self.wfile.write(raw)

        def _error(self, status: int, code: str, message: str) -> None:
            raw = json.dumps({"error": message}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler
