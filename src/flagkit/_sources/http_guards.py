"""What guards an HTTP poll: body limits, credentials only for their origin, redaction.

The HTTP source's safety rules, apart from its polling logic:

* ``BodyReader`` decodes gzip itself and stops at ``limit`` *decoded*
  bytes (a gzip bomb is refused after at most that much output), refuses a
  truncated or padded gzip stream, and enforces a deadline on the body;
* ``OriginHeaders`` attaches credentials to requests for the configured
  origin only, on every redirect hop;
* ``auth_headers`` and ``public_form`` keep secrets (tokens, URL passwords,
  signed query strings) out of logs, reprs and errors.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from flagkit._errors import SourceError

if TYPE_CHECKING:  # loaded with the first HTTP source, not with flagkit
    import ssl

    import httpx

__all__ = [
    "BodyReader",
    "OriginHeaders",
    "auth_headers",
    "public_form",
    "redact",
    "ssl_context",
]

_REDACTED = "***"
#: Headers whose values are not secret (everything else a user passes is).
_PLAIN_HEADERS = frozenset({"accept", "accept-encoding", "accept-language", "user-agent"})


class BodyReader:
    """Collect a response body, decoding gzip here and refusing it once over the limit."""

    __slots__ = (
        "_chunks",
        "_closed",
        "_deadline",
        "_decoder",
        "_label",
        "_limit",
        "_size",
        "document",
    )

    def __init__(
        self,
        *,
        encoding: str,
        limit: int,
        label: str,
        document: bool = True,
        deadline: float = float("inf"),
        closed: Callable[[], bool] = lambda: False,
    ) -> None:
        self.document = document  # False for a 304: nothing to apply
        self._label = label
        self._deadline = deadline
        self._closed = closed
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []
        if encoding in ("", "identity"):
            self._decoder = None
        elif encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:  # we only ever ask for gzip
            raise SourceError(f"{label}: unsupported Content-Encoding {encoding!r}")

    def feed(self, raw: bytes) -> None:
        """Add one raw chunk; raise SourceError when the decoded body grows too large."""
        if self._closed() or time.monotonic() > self._deadline:
            raise SourceError(f"{self._label}: the body took too long to arrive; aborted")
        if self._decoder is None:
            self._take(raw)
            return
        try:
            while raw:
                # max_length bounds what one chunk can expand to (gzip bombs).
                self._take(self._decoder.decompress(raw, self._limit - self._size + 1))
                raw = self._decoder.unconsumed_tail
        except zlib.error as exc:
            raise SourceError(f"{self._label}: corrupt gzip body: {exc}") from exc

    def finish(self) -> None:
        """Check that a gzip body ended where its stream says (one member, complete)."""
        if self._decoder is None:
            return
        if not self._decoder.eof:
            raise SourceError(f"{self._label}: truncated gzip body")
        if self._decoder.unused_data:
            raise SourceError(f"{self._label}: data after the end of the gzip body")

    def _take(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise SourceError(f"{self._label}: body larger than {self._limit} bytes; refused")
        self._chunks.append(data)

    def read(self) -> bytes:
        """Return the whole decoded body."""
        return b"".join(self._chunks)


def public_form(url: httpx.URL) -> str:
    """Return the URL as it may appear in logs: no user info, no query (it may hold keys)."""
    public = url.copy_with(userinfo=b"", query=None, fragment=None)
    return str(public) + ("?…" if url.query else "")


class OriginHeaders:
    """Attach credential headers to requests for the configured origin only.

    httpx copies a request's headers onto the request a redirect produces and
    strips only ``Authorization`` when the origin changes; so credentials are
    set by a request hook, which runs for every hop: added when scheme, host
    and port match the configured URL, removed from any hop that goes
    elsewhere (another host, or https down to http).
    """

    def __init__(self, url: httpx.URL, headers: Mapping[str, str]) -> None:
        self._origin = (url.scheme, url.host, url.port)
        self._headers = dict(headers)

    def __call__(self, request: httpx.Request) -> None:
        if (request.url.scheme, request.url.host, request.url.port) == self._origin:
            request.headers.update(self._headers)
        else:
            for name in self._headers:
                request.headers.pop(name, None)

    async def asynchronous(self, request: httpx.Request) -> None:
        self(request)


def auth_headers(
    url: httpx.URL,
    bearer_token: str | None,
    api_key: str | None,
    api_key_header: str,
    headers: Mapping[str, str] | None,
) -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    """Return the plain headers, the credential headers, and every secret never to show."""
    plain = {"Accept": "application/json", "Accept-Encoding": "gzip"}
    credentials: dict[str, str] = {}
    for name, value in (headers or {}).items():
        (plain if name.lower() in _PLAIN_HEADERS else credentials)[name] = value
    secrets = [value for value in credentials.values() if len(value) >= 4]
    if bearer_token is not None:
        credentials["Authorization"] = f"Bearer {bearer_token}"
        secrets.append(bearer_token)
    if api_key is not None:
        credentials[api_key_header] = api_key
        secrets.append(api_key)
    if url.password:
        secrets.append(url.password)
    if url.query:
        secrets.append(url.query.decode())
    if url.query or url.password:
        secrets.append(str(url))  # longest first below, so it is replaced whole
    return plain, credentials, tuple(sorted(set(secrets), key=len, reverse=True))


def ssl_context(verify: bool | str | os.PathLike[str]) -> bool | ssl.SSLContext:
    """Normalise ``verify``: True (system CAs), False, or a CA bundle path."""
    if isinstance(verify, bool):
        return verify
    import ssl

    return ssl.create_default_context(cafile=os.fspath(verify))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Return ``text`` with every secret replaced by ``***`` (longest secrets first)."""
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text
