"""After an outage, a fleet of sources converges within about one poll interval.

Several sources poll one real server; the server goes down (it stops
listening and hangs up), stays down long enough for exponential back-off
to have grown far past the interval, a new version is published meanwhile,
and the server comes back on the same port. Every source must pick the new
version up within one jittered interval (plus the time of a poll), and the
outage must not have multiplied the request rate.
"""

from __future__ import annotations

import threading
import time

import flagkit
from tests.helpers import wait_until
from tests.sources.httpserver import FlagServer, flags_document

SOURCES = 4
INTERVAL = 0.4
JITTER = 0.1
#: Enough failures that a doubling back-off would wait 0.4 x 2**6 = 25.6 s.
FAILURES = 7
#: What a poll itself may take on a loaded CI machine, beyond the interval.
SLACK = 1.0


def test_every_source_converges_within_an_interval_after_an_outage(server: FlagServer) -> None:
    """Lags after the server's return stay under interval x (1 + jitter) + slack, for all."""
    clients = [
        flagkit.Client.from_url(server.url, interval=INTERVAL, jitter=JITTER, connect_timeout=0.3)
        for _ in range(SOURCES)
    ]
    seen_at: dict[int, float] = {}
    lock = threading.Lock()
    for index, client in enumerate(clients):

        def changed(event: flagkit.ChangeEvent, index: int = index) -> None:
            if event.current.flags["banner"].variants["on"] == "v2":
                with lock:
                    seen_at.setdefault(index, time.monotonic())

        client.on_change(changed)
    try:
        server.publish(flags_document("v1"))
        assert wait_until(lambda: all(c.get_str("banner", "") == "v1" for c in clients))
        server.go_down()
        down_at = time.monotonic()
        assert wait_until(
            lambda: all(c.status().consecutive_failures >= FAILURES for c in clients), timeout=30
        )
        outage = time.monotonic() - down_at
        attempts = [c.status().consecutive_failures for c in clients]
        server.publish(flags_document("v2"))
        server.come_back()
        back_at = time.monotonic()
        assert wait_until(lambda: len(seen_at) == SOURCES, timeout=60)
        lags = sorted(seen_at[i] - back_at for i in range(SOURCES))
        print(f"outage {outage:.1f} s; lags after the return: {[round(x, 2) for x in lags]} s")
        assert lags[-1] <= INTERVAL * (1 + JITTER) + SLACK, lags
        # The outage did not multiply the request rate: at most one attempt
        # per (jittered) interval per source, the first at the outage's start.
        assert max(attempts) <= outage / (INTERVAL * (1 - JITTER)) + 2, (attempts, outage)
        for client in clients:
            status = client.status()
            assert (True, 0, None) == (
                status.last_poll_ok,
                status.consecutive_failures,
                status.last_error,
            )
    finally:
        for client in clients:
            client.close()


def test_failed_polls_come_no_faster_than_the_interval(server: FlagServer) -> None:
    """During an outage each source retries once per interval: no more traffic than healthy."""
    client = flagkit.Client.from_url(server.url, interval=0.2, jitter=0.0, connect_timeout=0.3)
    try:
        assert client.source.wait_until_ready(10)  # type: ignore[attr-defined]
        server.go_down()
        started = time.monotonic()
        assert wait_until(lambda: client.status().consecutive_failures >= 5, timeout=30)
        elapsed = time.monotonic() - started
        # 5 failures need at least 4 full intervals between them.
        assert elapsed >= 4 * 0.2 * 0.95
        delay = client.status().next_poll_at
        assert delay is not None
        assert delay - time.time() <= 0.2 + 0.05  # never grown past the interval
    finally:
        client.close()
