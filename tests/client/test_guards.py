"""Guarded rollouts trip on a regression and act at once: serve, status, listener, log, OTel."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import flagkit
from flagkit import GuardTrip, OutcomeKey, Reason
from flagkit.testing import FlagSet, guard, metric

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flagkit.otel import GUARD_EVENT_NAME
from tests.helpers import wait_until

USERS = [{"targetingKey": f"user-{i}"} for i in range(20_000)]
ERRORS = metric("error_rate", 0.02)


def _document(
    action: str = "rollback",
    *metrics: dict[str, Any],
    weights: dict[str, float] | None = None,
    **rollout: Any,
) -> dict[str, Any]:
    watched = guard("off", *(metrics or (ERRORS,)), min_sample=100, action=action)  # type: ignore[arg-type]
    return (
        FlagSet()
        .rollout("canary", weights or {"on": 50, "off": 50}, guard=watched, **rollout)
        .boolean("unrelated", on=True)
        .document()
    )


def _failing_toggle(
    client: flagkit.Client, treated: float, control: float, seed: int = 7
) -> Callable[[dict[str, Any]], str]:
    """Return a toggle point whose ``on`` code fails at rate ``treated``, ``off`` at ``control``."""
    rng = random.Random(seed)

    def old(user: dict[str, Any]) -> str:
        if rng.random() < control:
            raise ConnectionError("old path")
        return "old"

    @client.feature("canary", fallback=old, context=lambda user: user)
    def new(user: dict[str, Any]) -> str:
        if rng.random() < treated:
            raise ConnectionError("new path")
        return "new"

    return new


def _drive(toggle: Callable[[dict[str, Any]], str], users: list[dict[str, Any]]) -> int:
    """Call the toggle point once per user; return how many calls raised."""
    failed = 0
    for user in users:
        try:
            toggle(user)
        except ConnectionError:
            failed += 1
    return failed


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Collect spans from the global tracer provider (set once for this module's process)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def test_a_regression_rolls_back_and_says_so(
    caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    """5% vs 1% errors: the guard trips, serves the control, logs, records, calls listeners."""
    client = flagkit.Client.from_dict(_document(), guard_interval=0)
    trips: list[GuardTrip] = []
    client.on_guard(trips.append)
    toggle = _failing_toggle(client, treated=0.20, control=0.01)
    spans.clear()
    with caplog.at_level(logging.WARNING, logger="flagkit"):
        _drive(toggle, USERS[:5000])
    (trip,) = trips
    assert ("canary", "rollback", "off", "on", "error_rate") == (
        trip.flag_key,
        trip.action,
        trip.control,
        trip.variant,
        trip.metric,
    )
    assert trip.evidence.tripped
    assert trip.evidence.interval[0] > 0
    for user in USERS[:200]:
        details = client.get_bool_details("canary", True, user)
        assert (False, "off", Reason.TARGETING_MATCH, "guard:rollback") == (
            details.value,
            details.variant,
            details.reason,
            details.rule,
        )
    (record,) = [r for r in caplog.records if "tripped" in r.getMessage()]
    assert logging.WARNING == record.levelno
    assert "guard on 'canary' tripped (rolled back to 'off'): error_rate: on" in record.getMessage()
    (event,) = [
        e for s in spans.get_finished_spans() for e in s.events if e.name == GUARD_EVENT_NAME
    ]
    attributes = dict(event.attributes or {})
    assert ("canary", "on", "rollback", "error_rate") == (
        attributes["feature_flag.key"],
        attributes["feature_flag.result.variant"],
        attributes["flagkit.guard.action"],
        attributes["flagkit.guard.metric"],
    )
    assert attributes["flagkit.guard.bound"] > 0


def test_status_shows_the_tripped_guard_with_its_evidence() -> None:
    """status() lists each guard: state, the trip, per-variant counts, estimate and interval."""
    client = flagkit.Client.from_dict(_document(), guard_interval=0)
    (watching,) = client.status().guards
    assert ("canary", "watching", None, ()) == (
        watching.flag_key,
        watching.state,
        watching.trip,
        watching.evidence,
    )
    _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
    (tripped,) = client.status().guards
    assert ("tripped", "rollback", "off") == (tripped.state, tripped.action, tripped.control)
    assert tripped.trip is not None
    (evidence,) = tripped.evidence
    on, off = tripped.outcomes["on"], tripped.outcomes["off"]
    assert (evidence.n_treatment, evidence.n_control) == (on.calls, off.calls)
    assert evidence.treatment_value == pytest.approx(on.errors / on.calls)
    assert evidence.estimate == pytest.approx(on.errors / on.calls - off.errors / off.calls)
    low, high = evidence.interval
    assert 0 < low < evidence.estimate < high == float("inf")
    assert evidence.e_value >= evidence.threshold == pytest.approx(1 / 0.05)


def test_no_regression_no_trip() -> None:
    """Equal error rates over thousands of calls: the guard keeps watching."""
    client = flagkit.Client.from_dict(_document(), guard_interval=0)
    _drive(_failing_toggle(client, treated=0.02, control=0.02, seed=11), USERS[:6000])
    (status,) = client.status().guards
    assert ("watching", 1) == (status.state, len(status.evidence))
    assert not status.evidence[0].tripped
    assert "on" == client.variant_of("canary", {"targetingKey": "user-3"})


def test_a_trip_is_sticky_until_the_definition_changes() -> None:
    """Reloads that leave the flag alone keep it tripped; a changed definition starts over."""
    source = flagkit.MemorySource(_document())
    client = flagkit.Client(source, guard_interval=0)
    _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
    on_user = {"targetingKey": "user-3"}
    assert "off" == client.variant_of("canary", on_user)
    changes: list[flagkit.ChangeEvent] = []
    client.on_change(changes.append)
    unrelated = _document()
    unrelated["flags"]["unrelated"]["default"] = "off"
    source.update(unrelated)
    assert [frozenset({"unrelated"})] == [c.changed for c in changes]
    assert "guard:rollback" == client.get_bool_details("canary", True, on_user).rule
    assert "tripped" == client.status().guards[0].state
    source.update(_document(by="targetingKey", salt="v2"))  # the guarded flag changed
    assert "watching" == client.status().guards[0].state
    assert client.get_bool_details("canary", False, on_user).reason is Reason.SPLIT


def test_reset_guard_untrips_and_starts_the_samples_over() -> None:
    """reset_guard serves the rollout again and needs a fresh minimum sample to trip."""
    client = flagkit.Client.from_dict(_document(), guard_interval=0)
    toggle = _failing_toggle(client, treated=0.20, control=0.01)
    _drive(toggle, USERS[:5000])
    assert "tripped" == client.status().guards[0].state
    assert client.reset_guard("canary") is True
    assert client.reset_guard("unrelated") is False
    (status,) = client.status().guards
    assert ("watching", (), {}) == (status.state, status.evidence, dict(status.outcomes))
    assert "on" == client.variant_of("canary", {"targetingKey": "user-3"})
    _drive(toggle, USERS[:150])  # about 75 calls each: under the minimum sample
    assert () == client.status().guards[0].evidence
    _drive(toggle, USERS[:5000])
    assert "tripped" == client.status().guards[0].state


def test_pause_holds_the_ramp_where_it_is() -> None:
    """action: pause keeps the step in force at the trip, while the clock moves on."""
    now = {"t": dt.datetime(2026, 12, 2, tzinfo=dt.UTC).timestamp()}
    schedule = [
        ("2026-12-01T00:00:00Z", {"on": 50, "off": 50}),
        ("2026-12-05T00:00:00Z", {"on": 100, "off": 0}),
    ]
    document = _document("pause", weights={"on": 0, "off": 100}, schedule=schedule)
    client = flagkit.Client.from_dict(document, guard_interval=0, clock=lambda: now["t"])
    _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
    assert "pause" == client.status().guards[0].action
    assert "tripped" == client.status().guards[0].state
    now["t"] = dt.datetime(2026, 12, 9, tzinfo=dt.UTC).timestamp()  # past the 100% step
    served = [client.get_bool_details("canary", False, u) for u in USERS[:2000]]
    share = sum(d.variant == "on" for d in served) / len(served)
    assert 0.45 < share < 0.55
    assert {"guard:pause"} == {d.rule for d in served}
    assert {Reason.SPLIT} == {d.reason for d in served}


def test_a_listener_that_raises_is_logged_and_the_trip_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing on_guard listener cannot undo the rollback; others still hear of it."""
    client = flagkit.Client.from_dict(_document(), guard_interval=0)

    def broken(trip: GuardTrip) -> None:
        raise RuntimeError("pager down")

    heard: list[GuardTrip] = []
    client.on_guard(broken)
    unsubscribe = client.on_guard(heard.append)
    with caplog.at_level(logging.WARNING, logger="flagkit"):
        _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
    assert 1 == len(heard)
    assert any("guard listener" in r.getMessage() for r in caplog.records)
    assert "off" == client.variant_of("canary", {"targetingKey": "user-3"})
    unsubscribe()
    assert [broken] == client._guards.listeners


def test_a_latency_regression_trips_the_latency_guard() -> None:
    """A variant slower than the control's p95 on most calls trips a latency guard."""
    slow = metric("latency", 0.2, quantile=0.95)
    client = flagkit.Client.from_dict(_document("rollback", slow), guard_interval=0)

    @client.feature("canary", fallback=lambda user: "old", context=lambda user: user)
    def new(user: dict[str, Any]) -> str:
        time.sleep(0.001)
        return "new"

    for user in USERS[:2000]:
        new(user)
        if client.status().guards[0].state == "tripped":
            break
    (status,) = client.status().guards
    assert status.trip is not None
    assert ("latency p95", "on") == (status.trip.metric, status.trip.variant)
    assert status.latency_threshold is not None
    assert 0 < status.latency_threshold < 0.001  # the control's p95: far below the 1 ms sleep
    assert status.trip.evidence.treatment_value > 0.9  # nearly every treated call is slow
    on = status.outcomes["on"]
    assert (on.latency(0.5) or 0) >= 0.001  # the histogram agrees (within a bucket)


def test_tracked_event_guards_compare_rates_and_means() -> None:
    """event_mean (worse: lower) trips when treated values fall; track feeds it."""
    spend = metric("event_mean", 5.0, worse="lower", event="basket")
    client = flagkit.Client.from_dict(_document("rollback", spend), guard_interval=0)
    rng = random.Random(3)
    for user in USERS[:4000]:
        treated = client.variant_of("canary", user) == "on"
        client.track("basket", user, rng.gauss(40.0 if treated else 50.0, 10.0))
        if client.status().guards[0].state == "tripped":
            break
    trip = client.status().guards[0].trip
    assert trip is not None
    assert ("event_mean(basket)", "lower") == (trip.metric, trip.evidence.worse)
    assert trip.evidence.estimate < 0
    assert trip.evidence.interval[1] < 0
    basket = client.outcomes()[OutcomeKey("canary", "on")].events["basket"]
    assert basket.count >= 100


def test_the_event_rate_guard_counts_events_per_call() -> None:
    """event_rate (worse: lower): fewer sign-ups per toggle call in the treatment trips it."""
    signups = metric("event_rate", 0.05, worse="lower", event="signup")
    client = flagkit.Client.from_dict(_document("rollback", signups), guard_interval=0)
    rng = random.Random(5)

    @client.feature("canary", fallback=lambda user: "old", context=lambda user: user)
    def new(user: dict[str, Any]) -> str:
        return "new"

    for user in USERS[:8000]:
        served = new(user)
        if rng.random() < (0.10 if served == "new" else 0.30):
            client.record_value("canary", "signup", 1.0, user)
        if client.status().guards[0].state == "tripped":
            break
    trip = client.status().guards[0].trip
    assert trip is not None
    assert "event_rate(signup)" == trip.metric
    assert trip.evidence.treatment_value < trip.evidence.control_value


def test_flags_gated_on_a_rolled_back_flag_see_the_control() -> None:
    """A prerequisite on the guarded flag follows the rollback."""
    document = _document()
    document["flags"]["gated"] = {
        "variants": {"on": True, "off": False},
        "off_variant": "off",
        "prerequisites": [{"flag": "canary", "variants": ["on"]}],
        "default": "on",
    }
    client = flagkit.Client.from_dict(document, guard_interval=0)
    on_user = {"targetingKey": "user-3"}
    assert client.get_bool("gated", False, on_user) is True
    _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
    assert client.get_bool_details("gated", True, on_user).reason is Reason.PREREQUISITE_FAILED


def test_guards_check_by_themselves_at_most_every_interval() -> None:
    """With the default interval the test runs from the recording thread, not on every call."""
    client = flagkit.Client.from_dict(_document(), guard_interval=3600)
    toggle = _failing_toggle(client, treated=0.20, control=0.01)
    _drive(toggle, USERS[:3000])  # the first call checked (nothing to see); the next not yet
    assert "watching" == client.status().guards[0].state
    (trip,) = client.check_guards()
    assert "canary" == trip.flag_key
    assert [] == client.check_guards()  # tripped once
    assert "tripped" == client.status().guards[0].state


class _AdminAPI:
    """A real HTTP server on 127.0.0.1 recording POSTs (a stand-in for Unleash's admin API)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str | None]] = []
        recorded = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                recorded.append((self.path, self.headers.get("Authorization")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_documented_fleet_rollback_calls_the_unleash_admin_api() -> None:
    """docs/monitoring.md's listener POSTs the environment's 'off' for the tripped flag."""
    from tests.docs.test_docs_examples import DOCS, extract_blocks

    page = (DOCS / "monitoring.md").read_text(encoding="utf-8")
    (block,) = [
        b for b in extract_blocks("monitoring.md", page) if "def turn_off_in_unleash" in b.code
    ]
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    exec(compile(block.code, block.id, "exec"), namespace)
    api = _AdminAPI()
    try:
        client = flagkit.Client.from_dict(_document(), guard_interval=0)
        client.on_guard(namespace["turn_off_in_unleash"](api.url, "*:production.secret"))
        _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
        assert wait_until(lambda: api.posts)
    finally:
        api.close()
    assert [
        (
            "/api/admin/projects/default/features/canary/environments/production/off",
            "*:production.secret",
        )
    ] == api.posts


def test_unguarded_flags_are_neither_recorded_nor_recompiled() -> None:
    """Only the guarded flag's toggle points record; a trip leaves other flags' objects alone."""
    client = flagkit.Client.from_dict(_document(), guard_interval=0)
    before = client.snapshot.flags["unrelated"]
    plain = client.feature("unrelated", fallback=lambda: "off")(lambda: "on")
    assert "on" == plain()
    _drive(_failing_toggle(client, treated=0.20, control=0.01), USERS[:5000])
    assert "tripped" == client.status().guards[0].state
    assert before is client.snapshot.flags["unrelated"]
    assert client.snapshot.evaluators[0]["unrelated"] is before.constant
    assert {"canary"} == {key.flag_key for key in client.outcomes()}


def test_a_guard_that_starts_watching_latency_times_the_calls_from_then_on() -> None:
    """Cells recorded before a latency metric appears get a histogram when it does."""
    source = flagkit.MemorySource(_document())
    client = flagkit.Client(source, guard_interval=0)
    toggle = _failing_toggle(client, treated=0.0, control=0.0)
    _drive(toggle, USERS[:50])
    assert {} == dict(client.outcomes()[OutcomeKey("canary", "on")].histogram)
    source.update(_document("rollback", ERRORS, metric("latency", 0.2)))
    _drive(toggle, USERS[:50])
    on = client.outcomes()[OutcomeKey("canary", "on")]
    assert sum(on.histogram.values()) == on.calls - sum(
        client.variant_of("canary", u) == "on" for u in USERS[:50]
    )
