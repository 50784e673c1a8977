"""Exposure events: which flags emit, dedupe, bounded queue, sinks, flush and close."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import flagkit
from flagkit import CallbackSink, ExposureEvent, ExposureLog

EXPERIMENT = {
    "flags": {
        "exp": {"kind": "experiment", "variants": {"on": True, "off": False}, "default": "on"}
    }
}
FLAGS = {
    "flags": {
        "pricing-test": {
            "kind": "experiment",
            "variants": {"control": "control", "treatment": "treatment"},
            "default": {"rollout": {"weights": {"control": 50, "treatment": 50}}},
        },
        "opted-in": {"track_exposure": True, "variants": {"on": True}, "default": "on"},
        "release": {"variants": {"on": True}, "default": "on"},
        "opted-out": {
            "kind": "experiment",
            "track_exposure": False,
            "variants": {"on": True},
            "default": "on",
        },
    }
}


def test_experiments_and_opted_in_flags_emit() -> None:
    """Experiment flags and opted-in flags emit; others do not; errors never do."""
    events: list[ExposureEvent] = []
    client = flagkit.Client.from_dict(FLAGS, exposures=events.extend)
    ctx = {"targetingKey": "user-1"}
    variant = client.get_str("pricing-test", "?", ctx)
    client.get_bool("opted-in", False, ctx)
    client.get_bool("release", False, ctx)
    client.get_bool("opted-out", False, ctx)
    client.get_str("pricing-test", "?", {})  # no targeting key: an error, no exposure
    client.close()
    assert [
        ("pricing-test", variant, "user-1", "SPLIT"),
        ("opted-in", "on", "user-1", "STATIC"),
    ] == [(e.flag_key, e.variant, e.targeting_key, e.reason) for e in events]
    assert all(e.timestamp > 0 for e in events)


def test_repeats_are_deduplicated() -> None:
    """A hot loop emits one event per (flag, key, variant)."""
    events: list[ExposureEvent] = []
    client = flagkit.Client.from_dict(FLAGS, exposures=events.extend)
    for _ in range(1000):
        for user in ("a", "b"):
            client.get_str("pricing-test", "?", {"targetingKey": user})
    client.flush()
    assert 2 == len(events)
    stats = client.exposures.stats() if client.exposures else {}
    assert (2, 1998) == (stats["delivered"], stats["deduplicated"])
    client.close()


def test_dedupe_cache_is_bounded() -> None:
    """The LRU forgets old keys: memory stays bounded, old users may be re-sent."""
    events: list[ExposureEvent] = []
    log = ExposureLog(flagkit.CallbackSink(events.extend), dedupe_size=10)
    client = flagkit.Client.from_dict(FLAGS, exposures=log)
    for user in range(50):
        client.get_str("pricing-test", "?", {"targetingKey": f"u{user}"})
    client.get_str("pricing-test", "?", {"targetingKey": "u0"})
    client.close()
    assert 51 == len(events)
    assert len(log._seen) <= 10


def test_full_queue_drops_and_counts_without_blocking() -> None:
    """With a stuck sink and a small queue, extra events are dropped and counted."""
    release = threading.Event()
    delivered: list[ExposureEvent] = []

    def slow_sink(batch: Sequence[ExposureEvent]) -> None:
        release.wait(10)
        delivered.extend(batch)

    log = ExposureLog(
        flagkit.CallbackSink(slow_sink), max_queue=5, batch_size=1, flush_interval=0.01
    )
    client = flagkit.Client.from_dict(FLAGS, exposures=log)
    for user in range(100):
        client.get_str("pricing-test", "?", {"targetingKey": f"u{user}"})
    dropped = log.stats()["dropped"]
    release.set()
    client.close()
    assert dropped >= 90
    assert 100 == len(delivered) + log.stats()["dropped"]


def test_json_lines_sink(tmp_path: Path) -> None:
    """A path sink writes one JSON object per event, delivered by close()."""
    path = tmp_path / "exposures.jsonl"
    with flagkit.Client.from_dict(FLAGS, exposures=path) as client:
        for user in ("a", "b", "c"):
            client.get_str("pricing-test", "?", {"targetingKey": user})
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert ["a", "b", "c"] == [r["targeting_key"] for r in rows]
    assert {"flag_key", "variant", "targeting_key", "reason", "timestamp"} == set(rows[0])


def test_failing_sink_is_counted_not_raised() -> None:
    """A sink that raises loses its batch, counts it, and never reaches the caller."""

    def broken(batch: Sequence[ExposureEvent]) -> None:
        raise OSError("disk full")

    client = flagkit.Client.from_dict(FLAGS, exposures=broken)
    assert client.get_str("pricing-test", "?", {"targetingKey": "a"}) in {"control", "treatment"}
    client.flush()
    assert client.exposures is not None
    assert 1 == client.exposures.stats()["failed"]
    client.close()


def test_close_stops_the_delivery_thread() -> None:
    """close() delivers what is queued and joins the background thread."""
    events: list[ExposureEvent] = []
    # Other tests' clients may have delivery threads of their own: watch this one's.
    others = set(threading.enumerate())
    client = flagkit.Client.from_dict(FLAGS, exposures=events.extend)
    client.get_str("pricing-test", "?", {"targetingKey": "a"})
    started = {t for t in threading.enumerate() if t.name == "flagkit-exposure"} - others
    client.close()
    assert 1 == len(started)
    assert [] == [t for t in started if t.is_alive()]
    assert 1 == len(events)


def test_exposure_records_integer_keys_as_text() -> None:
    """An integer targeting key buckets as its decimal text, and is recorded so."""
    events: list[ExposureEvent] = []
    with flagkit.Client.from_dict(EXPERIMENT, exposures=events.extend) as client:
        client.get_bool("exp", False, {"targetingKey": 42})
    assert ["42"] == [e.targeting_key for e in events]


def test_huge_targeting_keys_are_dropped_and_counted() -> None:
    """A key over max_key_chars is not queued or remembered: memory stays bounded."""
    delivered: list[ExposureEvent] = []
    log = ExposureLog(CallbackSink(delivered.extend), max_key_chars=8)
    log.record("f", "on", "x" * 9, "SPLIT")
    log.record("f", "on", "x" * 8, "SPLIT")
    log.flush()
    assert (["x" * 8], 1) == ([e.targeting_key for e in delivered], log.stats()["dropped"])
    assert 1 == len(log._seen)
    log.close()
