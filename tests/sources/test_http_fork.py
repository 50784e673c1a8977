"""Forking while an HTTP source polls: children never hang, and poll on their own.

``os.fork()`` copies only the forking thread. If the poller thread held the
connection pool's lock at that instant, the lock stays held in the child
forever, so the child must never touch the inherited pool: it abandons it
and builds a new one. Each child runs under a timeout; a hung child is
killed and counted.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

import flagkit
from flagkit import HTTPSource
from tests.helpers import wait_until
from tests.sources.httpserver import FlagServer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

FORKS = 300
CHILD_TIMEOUT = 20.0


def _fork_and_wait(child: Callable[[], bool], timeout: float = CHILD_TIMEOUT) -> str:
    """Run ``child`` in a forked process; return "ok", "failed" or "hung" (killed)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            # A child about to be called hung says where it is stuck (stderr, captured).
            faulthandler.dump_traceback_later(timeout * 0.75)
            code = 0 if child() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "ok" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


def _polls_on_its_own(source: HTTPSource) -> Callable[[], bool]:
    def child() -> bool:
        # The child's own pool answers (a 200 or a 304 both count).
        source.poll()
        status = source.status()
        if status.last_poll_ok is not True:  # say why, in the test's captured output
            os.write(2, f"child {os.getpid()}: {status.last_error}\n".encode())
        return status.last_poll_ok is True

    return child


def test_children_forked_while_the_pool_lock_is_held_do_not_hang(server: FlagServer) -> None:
    """With httpcore's pool lock held by another thread at the fork, the child still polls."""
    source = HTTPSource(server.url, interval=3600)
    client = flagkit.Client(source)
    try:
        assert source.wait_until_ready(10)
        pool = source._http._transport._pool  # type: ignore[attr-defined]
        held, release = threading.Event(), threading.Event()

        def holder() -> None:
            with pool._optional_thread_lock:
                held.set()
                release.wait(30)

        thread = threading.Thread(target=holder, daemon=True)
        thread.start()
        assert held.wait(5)
        try:
            results = [_fork_and_wait(_polls_on_its_own(source)) for _ in range(3)]
        finally:
            release.set()
            thread.join()
        assert ["ok"] * 3 == results
    finally:
        client.close()


def test_hundreds_of_forks_against_a_fast_poller_never_hang(server: FlagServer) -> None:
    """A poller running every 0.5 ms in the parent; 300 forks; every child completes."""
    source = HTTPSource(server.url, interval=0.0005, jitter=0.0)
    client = flagkit.Client(source)
    try:
        assert source.wait_until_ready(10)
        before = server.count()
        assert wait_until(lambda: server.count() > before + 20)  # the poller is busy
        results = [_fork_and_wait(_polls_on_its_own(source)) for _ in range(FORKS)]
    finally:
        client.close()
    tally = {outcome: results.count(outcome) for outcome in ("ok", "failed", "hung")}
    print(f"{FORKS} forks against a 0.5 ms poller: {tally}")
    assert {"ok": FORKS, "failed": 0, "hung": 0} == tally


def test_a_forked_child_restarts_polling_with_its_own_connections(server: FlagServer) -> None:
    """The child's own poller thread polls successfully, on a pool the parent never used."""
    source = HTTPSource(server.url, interval=0.05)
    client = flagkit.Client(source)
    try:
        assert source.wait_until_ready(10)
        inherited = source._http

        def child() -> bool:
            forked_at = time.time()
            polled = wait_until(
                lambda: (source.status().last_success_at or 0) > forked_at, timeout=10
            )
            return polled and source._http is not inherited

        assert "ok" == _fork_and_wait(child)
    finally:
        client.close()
