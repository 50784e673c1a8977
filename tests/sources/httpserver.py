"""A real HTTP server on 127.0.0.1 with a programmable script of responses.

Tests talk to it over a socket, so every fault (a slow reply, a dropped
connection, a redirect loop) is the real thing and not a mock's idea of it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    drop_after: int | None = None  # send this many body bytes, then hang up
    gzip: bool = False
    drip: float = 0.0  # seconds between body bytes (a slow-loris server)


@dataclass(frozen=True)
class Request:
    """What the server saw."""

    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    peer: int  # the client's port: one per TCP connection


def flags_document(value: Any = True, *, flag: str = "banner") -> dict[str, Any]:
    """Return a one-flag native document serving ``value``."""
    return {"flags": {flag: {"variants": {"on": value, "off": value}, "default": "on"}}}


class FlagServer:
    """Serve a flag document with an ETag; queued or routed replies take precedence."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.queue: deque[Reply] = deque()
        self.routes: dict[str, Reply] = {}
        self.fallback: Reply | None = None  # served for every request when set
        self._body = b""
        self._etag = ""
        self._version = 0
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._serve(("127.0.0.1", 0))

    def _serve(self, address: tuple[str, int]) -> None:
        self._httpd = ThreadingHTTPServer(address, _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def go_down(self) -> None:
        """Stop listening and hang up every open connection: an outage, as clients see it."""
        self.close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def come_back(self) -> None:
        """Listen again on the same port (after ``go_down``)."""
        self._serve(self._httpd.server_address[:2])  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        """Return the URL of the flag document."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/flags.json"

    def publish(self, document: Any) -> None:
        """Serve ``document`` (JSON) from now on, under a new ETag."""
        with self._lock:
            self._body = json.dumps(document).encode()
            self._version += 1
            self._etag = f'"v{self._version}"'

    def count(self) -> int:
        """Return how many requests arrived so far."""
        with self._lock:
            return len(self.requests)

    def close(self) -> None:
        """Stop serving and release the listening socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _reply_to(self, path: str, headers: dict[str, str], peer: int) -> Reply:
        with self._lock:
            self.requests.append(Request(time.monotonic(), path, headers, peer))
            if path in self.routes:
                return self.routes[path]
            if self.queue:
                return self.queue.popleft()
            if self.fallback is not None:
                return self.fallback
            if headers.get("if-none-match") == self._etag:
                return Reply(304, headers={"ETag": self._etag})
            return Reply(
                body=self._body,
                headers={"Content-Type": "application/json", "ETag": self._etag},
            )


def _handler_for(server: FlagServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server._connections.add(self.connection)

        def do_GET(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = server._reply_to(self.path, headers, self.client_address[1])
            if reply.delay:
                time.sleep(reply.delay)
            body = gzip.compress(reply.body) if reply.gzip else reply.body
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.gzip:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if reply.drop_after is not None:
                self.wfile.write(body[: reply.drop_after])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if reply.status != 304 and reply.drip:
                for index in range(len(body)):
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(reply.drip)
            elif reply.status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler
