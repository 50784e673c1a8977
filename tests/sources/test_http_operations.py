"""Running an HTTP source in production: health that recovers, events, logs, pre-fork servers."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest

import flagkit
from tests.helpers import wait_until
from tests.sources.httpserver import FlagServer, Reply, flags_document


def _kinds(events: list[flagkit.StatusEvent]) -> list[str]:
    return [event.kind for event in events]


def test_status_answers_healthy_now_and_forgets_the_error_after_recovery(
    server: FlagServer,
) -> None:
    """After a failure and a success: healthy, no last_error, 0 failures, a next poll time."""
    client = flagkit.Client.from_url(server.url, interval=0.05, jitter=0.0)
    try:
        assert client.source.wait_until_ready(10)  # type: ignore[attr-defined]
        server.fallback = Reply(500)
        assert wait_until(lambda: client.status().consecutive_failures >= 2)
        failing = client.status()
        assert (False, False) == (failing.healthy, failing.last_poll_ok)
        assert "HTTP 500" in (failing.last_error or "")
        assert failing.ready  # last-known-good still serves
        server.fallback = None
        assert wait_until(lambda: client.status().last_poll_ok is True)
        status = client.status()
        assert (True, 0, None, None) == (
            status.healthy,
            status.consecutive_failures,
            status.last_error,
            status.last_error_at,
        )
        assert status.last_success_at is not None
        assert status.last_success_at <= time.time()
        assert status.next_poll_at is not None
        assert time.time() - 1 <= status.next_poll_at <= time.time() + 1
    finally:
        client.close()
    assert not client.status().healthy  # closed


def test_status_events_follow_an_outage(server: FlagServer) -> None:
    """ready, then error once per streak, stale once, recovered, and changed with the keys."""
    events: list[flagkit.StatusEvent] = []
    source = flagkit.HTTPSource(server.url, interval=0.05, jitter=0.0, stale_after=0.3)
    client = flagkit.Client(source)
    client.on_status(events.append)
    try:
        assert wait_until(lambda: "ready" in _kinds(events))
        server.fallback = Reply(503)
        assert wait_until(lambda: "stale" in _kinds(events))
        server.fallback = None
        server.publish(flags_document("v2", flag="other"))
        assert wait_until(lambda: "changed" in _kinds(events))
    finally:
        client.close()
    assert ["ready", "error", "stale", "recovered", "changed"] == _kinds(events)
    error, changed = events[1], events[4]
    assert "HTTP 503" in (error.error or "")
    assert changed.change is not None
    assert (frozenset({"other"}), frozenset({"banner"})) == (
        changed.change.added,
        changed.change.removed,
    )
    late: list[flagkit.StatusEvent] = []
    client.on_status(late.append)  # a listener added later hears "ready" at once
    assert ["ready"] == _kinds(late)


def test_logs_say_one_line_per_change_and_recovery_and_name_the_url_once(
    server: FlagServer, caplog: pytest.LogCaptureFixture
) -> None:
    """INFO: a line per change and per recovery; a streak of failures is one ERROR line."""
    caplog.set_level(logging.INFO)
    client = flagkit.Client.from_url(server.url, interval=0.03, jitter=0.0)
    try:
        assert client.source.wait_until_ready(10)  # type: ignore[attr-defined]
        server.fallback = Reply(500)
        assert wait_until(lambda: client.status().consecutive_failures >= 4)
        server.fallback = None
        server.publish(flags_document(False))
        assert wait_until(lambda: client.get_bool("banner", True) is False)
    finally:
        client.close()
    flagkit_lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "flagkit"]
    errors = [m for level, m in flagkit_lines if level == "ERROR"]
    infos = [m for level, m in flagkit_lines if level == "INFO"]
    assert 1 == len(errors), errors
    assert 1 == errors[0].count(server.url), errors[0]  # the URL once, not twice
    assert 1 == sum("recovered after" in m for m in infos), infos
    assert 1 == sum("flags changed" in m and "1 modified (banner)" in m for m in infos), infos
    assert not [r for r in caplog.records if r.name == "httpx"]  # no per-poll lines


pytestmark_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytestmark_fork
def test_a_lazy_source_polls_only_in_the_workers_a_master_forks(server: FlagServer) -> None:
    """gunicorn --preload: the master creates the client and forks; only workers poll."""
    client = flagkit.Client.from_url(server.url, interval=0.05, lazy=True)
    source = client.source
    assert source.deferred
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # a worker: its first evaluation starts its own poller
        code = 1
        try:
            client.get_bool("banner", False)
            ok = wait_until(lambda: client.get_bool("banner", False))
            os.write(write_end, b"polled" if ok else b"never")
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        answer = os.read(read_end, 16)
        os.waitpid(pid, 0)
        assert b"polled" == answer
        # The master never started a poller: no thread, no schedule.
        assert source.deferred
        assert source._poller._thread is None  # type: ignore[attr-defined]
        assert None is client.status().next_poll_at
        assert not [t for t in threading.enumerate() if t.name.startswith("flagkit-http")]
    finally:
        os.close(read_end)
        client.close()


def test_a_lazy_source_starts_on_first_evaluation_and_leaves_the_fast_path_alone(
    server: FlagServer,
) -> None:
    """Deferred until the first getter call; then polling, and the fast path is back."""
    client = flagkit.Client.from_url(server.url, interval=0.05, lazy=True)
    try:
        assert client._observed  # the first use goes through the observed path...
        assert client.source.deferred  # nothing polls before that first use
        client.get_bool("banner", False)  # ...which starts the poller (its answer races it)
        assert not client.source.deferred
        assert not client._observed  # then evaluation is the fast path again
        assert wait_until(lambda: client.get_bool("banner", False))
    finally:
        client.close()


def test_wait_until_ready_counts_as_first_use(server: FlagServer) -> None:
    """A worker that wants flags before its first request calls wait_until_ready()."""
    source = flagkit.HTTPSource(server.url, interval=3600, lazy=True)
    client = flagkit.Client(source)
    try:
        assert source.wait_until_ready(10)
        assert True is client.get_bool("banner", False)
    finally:
        client.close()
