"""A scripted Unleash client API on 127.0.0.1: features with an ETag, register, metrics.

A real HTTP server (the sockets are real); its answers are programmable so
the tests can make the features, registration and metrics endpoints fail
on purpose. For the real Unleash server see tests/integration/unleash.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class UnleashAPI:
    """Serve ``/api/client/features``; accept registration and metrics."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.metrics_status = 202
        self.features_status = 200
        self._lock = threading.Lock()
        self._document = b'{"version": 2, "features": []}'
        self._etag = '"v0"'
        self._version = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Return the API base, as SDKs take it."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/api"

    def publish(self, document: Any) -> None:
        """Serve ``document`` from now on, under a new ETag."""
        with self._lock:
            self._document = json.dumps(document).encode()
            self._version += 1
            self._etag = f'"v{self._version}"'

    def seen(self, path: str) -> list[Seen]:
        """Return the requests to ``path`` so far."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(api: UnleashAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _record(self, body: Any) -> None:
            with api._lock:
                api.requests.append(Seen(self.command, self.path, dict(self.headers), body))

        def _reply(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._record(None)
            with api._lock:
                document, etag, status = api._document, api._etag, api.features_status
            if status != 200:
                self._reply(status)
            elif self.headers.get("If-None-Match") == etag:
                self._reply(304, headers={"ETag": etag})
            else:
                self._reply(200, document, {"ETag": etag, "Content-Type": "application/json"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self._record(json.loads(self.rfile.read(length) or b"null"))
            status = api.metrics_status if self.path.endswith("/metrics") else 202
            self._reply(status)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
