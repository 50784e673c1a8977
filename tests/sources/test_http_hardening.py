"""Regression tests from the review of the HTTP source."""

from __future__ import annotations

import gzip
import json
import os
import random
import stat
import time
from pathlib import Path

import pytest

from flagkit import HTTPSource
from flagkit._sources.backoff import parse_retry_after
from flagkit._sources.cache_file import write_cache
from tests.sources.httpserver import FlagServer, Reply, flags_document


def test_credentials_do_not_follow_a_redirect_to_another_host(server: FlagServer) -> None:
    """Bearer tokens, API keys and custom headers go to the configured origin only."""
    other = FlagServer()
    other.publish(flags_document("elsewhere"))
    try:
        server.routes["/moved"] = Reply(
            302, headers={"Location": other.url.replace("127.0.0.1", "localhost")}
        )
        source = HTTPSource(
            server.url.replace("/flags.json", "/moved"),
            interval=3600,
            bearer_token="SECRET-BEARER",
            api_key="SECRET-API-KEY",
            headers={"X-Tenant-Token": "SECRET-CUSTOM", "User-Agent": "tests"},
        )
        try:
            assert source.poll()
        finally:
            source.close()
        here, there = server.requests[0].headers, other.requests[0].headers
        assert {"authorization", "x-api-key", "x-tenant-token"} <= set(here)
        assert not {"authorization", "x-api-key", "x-tenant-token"} & set(there)
        assert "tests" == there["user-agent"]
    finally:
        other.close()


@pytest.mark.parametrize("body", ["truncated", "trailing"])
def test_truncated_or_padded_gzip_is_refused(server: FlagServer, body: str) -> None:
    """A gzip body must end where its stream ends: no truncation, no trailing data."""
    packed = gzip.compress(json.dumps(flags_document("gz")).encode())
    raw = packed[:-6] if body == "truncated" else packed + b"garbage!"
    server.fallback = Reply(
        body=raw, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    source = HTTPSource(server.url, interval=3600)
    try:
        assert not source.poll()
        assert "gzip body" in (source.status().last_error or "")
    finally:
        source.close()


def test_a_dripping_server_cannot_hold_a_poll_or_close_hostage(server: FlagServer) -> None:
    """A body arriving a byte at a time is abandoned after the whole-poll deadline."""
    server.fallback = Reply(
        body=json.dumps(flags_document(True)).encode(),
        headers={"Content-Type": "application/json"},
        drip=0.2,
    )
    source = HTTPSource(server.url, interval=3600, connect_timeout=0.5, read_timeout=0.5)
    started = time.monotonic()
    try:
        assert not source.poll()
    finally:
        source.close()
    assert time.monotonic() - started < 10
    assert "took too long" in (source.status().last_error or "")


def test_cache_keeps_its_permissions(tmp_path: Path) -> None:
    """Rewriting the cache keeps the existing mode (readers in other processes rely on it)."""
    path = tmp_path / "cache.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    write_cache(str(path), b'{"flags": {}}')
    assert 0o644 == stat.S_IMODE(path.stat().st_mode)


def test_retry_after_takes_only_ascii_digits_or_dates() -> None:
    """Unicode digits are not seconds; valid values still parse."""
    assert parse_retry_after("\u00b2", now=0.0) is None
    assert 120.0 == parse_retry_after("120", now=0.0)


@pytest.mark.parametrize(("interval", "jitter"), [(0, 0.1), (-1, 0.1), (30, 1.5), (30, -0.1)])
def test_nonsense_intervals_are_refused(interval: float, jitter: float) -> None:
    """A zero interval or a jitter outside [0, 1) would hammer the server."""
    with pytest.raises(ValueError, match=r"interval|jitter"):
        HTTPSource("http://127.0.0.1:9/flags.json", interval=interval, jitter=jitter)


def test_forked_children_draw_their_own_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a fork each child reseeds, so pre-forked workers do not poll in lock-step."""
    source = HTTPSource(
        "http://127.0.0.1:9/flags.json", interval=30, bootstrap=flags_document(True)
    )
    try:
        source._rng.seed(1)
        inherited = random.Random(1).random()
        source.after_fork_in_child()  # what os.fork() runs in the child
        assert inherited != source._rng.random()
        assert 0 <= source._poller.first_delay < 30
    finally:
        source.close()
