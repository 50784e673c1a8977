"""Regression tests from the review of the HTTP source."""

from __future__ import annotations

import gzip
import json
import logging
import os
import random
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import flagkit
from flagkit import HTTPSource
from flagkit._sources.backoff import parse_retry_after
from flagkit._sources.cache_file import STALE_TEMP_AGE, write_cache
from tests.helpers import wait_until
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


# -- issue 17: secrets in third-party logs, whole-exchange deadlines, 304s, temp files -----


def test_httpx_never_logs_flagkits_polls_whatever_the_level(
    server: FlagServer, caplog: pytest.LogCaptureFixture
) -> None:
    """No record of any logger carries the URL's password or signed query; the app's own stay."""
    signed = "X-Amz-Signature=deadbeefcafe0123&X-Amz-Credential=AKIAEXAMPLE"
    url = server.url.replace("http://", "http://reader:hunter2secret@") + "?" + signed
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    server.routes["/flags.json?" + signed] = Reply(
        body=json.dumps(flags_document(True)).encode(),
        headers={"Content-Type": "application/json", "ETag": '"e1"'},
    )
    source = HTTPSource(url, interval=3600)
    try:
        assert source.poll()
        server.routes["/flags.json?" + signed] = Reply(304, headers={"ETag": '"e1"'})
        assert not source.poll()
    finally:
        source.close()
    logged = [r.getMessage() for r in caplog.records]
    for secret in ("hunter2secret", "deadbeefcafe0123", "AKIAEXAMPLE"):
        assert not [line for line in logged if secret in line], secret
    assert not [r for r in caplog.records if r.name.startswith(("httpx", "httpcore"))]
    # flagkit says what it did instead, at DEBUG, in the URL's public form.
    ours = [r.getMessage() for r in caplog.records if r.name == "flagkit"]
    assert any("HTTP 304" in line and "?…" in line for line in ours), ours
    # The application's own httpx logging is untouched.
    caplog.clear()
    with httpx.Client() as app_client:
        app_client.get(server.url)
    assert [r.levelno for r in caplog.records if r.name == "httpx"] == [logging.INFO]


def _trickling_server(stop: threading.Event) -> tuple[str, threading.Thread]:
    """Return the URL of a server that sends its response headers a byte every 50 ms."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with listener:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not stop.wait(0.05):
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        return  # the client hung up: what we wanted

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    return f"http://{host}:{port}/flags.json", thread


def test_trickled_headers_cannot_hold_a_poll_or_close_hostage() -> None:
    """The deadline covers the whole exchange, headers included: the poll fails in time."""
    stop = threading.Event()
    url, thread = _trickling_server(stop)
    source = HTTPSource(url, interval=3600, connect_timeout=0.3, read_timeout=0.4)
    finished = threading.Event()

    def poll() -> None:
        source.poll()
        finished.set()

    try:
        threading.Thread(target=poll, daemon=True).start()
        # The deadline is 0.3 + 2 x 0.4 = 1.1 s; the server would trickle for ever.
        assert finished.wait(15), "the poll is still held by the trickling server"
        assert "took too long" in (source.status().last_error or "")
    finally:
        stop.set()
        source.close()
        thread.join(5)


def test_a_304_to_the_first_poll_is_an_error(server: FlagServer) -> None:
    """A 304 that revalidates nothing is no success: not ready, and the bootstrap stays."""
    server.fallback = Reply(304, headers={"ETag": '"x"'})
    source = HTTPSource(server.url, interval=3600)
    try:
        assert not source.poll()
        assert not source.wait_until_ready(0)
        assert "HTTP 304" in (source.status().last_error or "")
    finally:
        source.close()
    booted = HTTPSource(server.url, interval=3600, bootstrap=flags_document("boot"))
    client = flagkit.Client(booted)
    try:
        assert wait_until(lambda: client.status().consecutive_failures >= 1)
        assert "bootstrap" == client.status().live
        assert not booted.wait_until_ready(0)
    finally:
        client.close()


def test_orphaned_temp_files_are_cleaned_on_start_up(tmp_path: Path) -> None:
    """Stale temp files of flagkit's naming go; fresh ones and anything else stay."""
    cache = tmp_path / "flags.cache.json"
    write_cache(str(cache), b"{}")
    old = time.time() - 2 * STALE_TEMP_AGE
    names = {
        "stale": ".flagkit-tmp.flags.cache.json.abc123.tmp",
        "stale_old_naming": ".flagkit-k3j4h5g6.tmp",
        "fresh": ".flagkit-tmp.flags.cache.json.def456.tmp",
        "other_cache": ".flagkit-tmp.other.json.abc123.tmp",
        "not_ours": "notes.tmp",
    }
    for key, name in names.items():
        (tmp_path / name).write_bytes(b"partial")
        if key != "fresh":
            os.utime(tmp_path / name, (old, old))
    HTTPSource("http://127.0.0.1:9/flags.json", interval=3600, cache_path=cache).close()
    left = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted(["flags.cache.json", names["fresh"], names["other_cache"], names["not_ours"]])
    assert expected == left


def test_temp_files_carry_an_unmistakable_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write killed before its rename leaves ``.flagkit-tmp.<cache name>.*.tmp``."""
    cache = tmp_path / "flags.cache.json"

    def killed(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # as if the process died between write and rename

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_cache(str(cache), b"{}")
    monkeypatch.undo()
    # The handler cleaned up after the interrupt; a kill -9 would not have. Create
    # the temp file the way write_cache names it, and check the pattern.
    made = []
    original = tempfile.mkstemp

    def spy(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = original(*args, **kwargs)
        made.append(os.path.basename(name))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    write_cache(str(cache), b"{}")
    assert made[0].startswith(".flagkit-tmp.flags.cache.json.")
    assert made[0].endswith(".tmp")
