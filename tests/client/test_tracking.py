"""Tracking: events attributed to the variants served, delivered beside the exposures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import ExposureEvent, OutcomeKey, TrackEvent
from flagkit.testing import FlagSet, guard, metric

pytest.importorskip("openfeature")

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails

from flagkit.openfeature import FlagkitProvider

USER = {"targetingKey": "user-3", "plan": "pro"}


def _document() -> dict[str, Any]:
    spend = metric("event_mean", 1.0, worse="lower", event="purchase")
    return (
        FlagSet()
        .rollout("pricing", {"control": 50, "cheaper": 50}, kind="experiment")
        .rollout("canary", {"on": 50, "off": 50}, guard=guard("off", spend))
        .rollout("plain", {"on": 50, "off": 50})
        .document()
    )


def _sunk(**options: Any) -> tuple[flagkit.Client, list[Any]]:
    events: list[Any] = []

    def sink(batch: Sequence[Any]) -> None:
        events.extend(batch)

    return flagkit.Client.from_dict(_document(), exposures=sink, **options), events


def test_an_event_carries_the_variants_the_context_was_served() -> None:
    """Experiments and event-watching guarded flags are attributed; other flags are not."""
    client, events = _sunk()
    client.get_str("pricing", "control", USER)  # an exposure
    assert client.track("purchase", USER, 42.5, currency="EUR", items=3) is None
    client.flush()
    exposure, tracked = events
    expected = {
        "pricing": client.variant_of("pricing", USER),
        "canary": client.variant_of("canary", USER),
    }
    assert isinstance(exposure, ExposureEvent)
    assert isinstance(tracked, TrackEvent)
    assert ("purchase", "user-3", 42.5, {"currency": "EUR", "items": 3}) == (
        tracked.name,
        tracked.targeting_key,
        tracked.value,
        dict(tracked.attributes),
    )
    assert expected == dict(tracked.variants)
    assert (exposure.targeting_key, exposure.variant) == (
        tracked.targeting_key,
        tracked.variants["pricing"],
    )


def test_tracked_events_feed_the_outcomes_of_each_attributed_variant() -> None:
    """The guarded flag's store counts the event and its value for the served variant."""
    client, _ = _sunk()
    client.track("purchase", USER, 10.0)
    client.track("purchase", USER)  # no value: counted, not averaged
    variant = client.variant_of("canary", USER)
    assert variant is not None
    purchase = client.outcomes()[OutcomeKey("canary", variant)].events["purchase"]
    assert (2, 1, 10.0) == (purchase.count, purchase.values, purchase.total)


def test_events_are_json_lines_beside_the_exposures(tmp_path: Path) -> None:
    """A JSON Lines sink gets both kinds, told apart by ``type``, joinable on the key."""
    path = tmp_path / "events.jsonl"
    with flagkit.Client.from_dict(_document(), exposures=str(path)) as client:
        client.get_str("pricing", "control", USER)
        client.track("purchase", USER, 9.99, coupon=None, tags=["a", "b"], when=object())
    exposure, tracked = (json.loads(line) for line in path.read_text().splitlines())
    assert "type" not in exposure
    assert ("track", "purchase", "user-3", 9.99) == (
        tracked["type"],
        tracked["name"],
        tracked["targeting_key"],
        tracked["value"],
    )
    assert exposure["variant"] == tracked["variants"]["pricing"]
    assert ["a", "b"] == tracked["attributes"]["tags"]
    assert tracked["attributes"]["when"].startswith("<object object")  # not JSON: as text


def test_track_never_raises_and_drops_what_it_cannot_use() -> None:
    """Bad names, contexts and values: nothing raises; a bad value is dropped, not the event."""
    client, events = _sunk()
    client.track("", USER)
    client.track(None, USER)  # type: ignore[arg-type]
    client.track("purchase", "not a mapping")  # type: ignore[arg-type]
    client.track("purchase", USER, "12")  # type: ignore[arg-type]
    client.track("purchase", USER, float("nan"))
    client.track("purchase", USER, True)  # type: ignore[arg-type]
    client.flush()
    assert [None, None, None] == [e.value for e in events]
    assert {"purchase"} == {e.name for e in events}


def test_track_follows_overrides_and_the_scoped_context() -> None:
    """The variant attributed is the one served: an override, from the scoped context."""
    client, events = _sunk()
    with client.override({"pricing": "cheaper"}), flagkit.scoped_context(USER):
        client.track("purchase")
    client.flush()
    (tracked,) = events
    assert ("cheaper", "user-3") == (tracked.variants["pricing"], tracked.targeting_key)


def test_unused_tracking_does_nothing() -> None:
    """Without a sink or an opted-in flag, track leaves no trace and builds nothing."""
    document = FlagSet().rollout("plain", {"on": 50, "off": 50}).document()
    client = flagkit.Client.from_dict(document)
    client.track("purchase", USER, 1.0)
    assert (None, None, {}) == (client.exposures, client._outcomes, client.outcomes())


def test_tracked_events_are_not_deduplicated_and_the_queue_is_bounded() -> None:
    """Each occurrence is an event; a full queue drops and counts, never blocks."""
    events: list[Any] = []
    log = flagkit.ExposureLog(flagkit.CallbackSink(events.extend), max_queue=5)
    client = flagkit.Client.from_dict(_document(), exposures=log)
    for _ in range(8):
        client.track("purchase", USER, 1.0)
    assert (5, 3) == (log.stats()["queued"], log.stats()["dropped"])
    client.close()
    assert 5 == len(events)


def test_openfeature_tracking_reaches_the_client() -> None:
    """OpenFeature's client.track goes through FlagkitProvider.track to the sink."""
    client, events = _sunk()
    api.set_provider(FlagkitProvider(client))
    try:
        of_client = api.get_client()
        of_client.track(
            "purchase",
            EvaluationContext("user-3", {"plan": "pro"}),
            TrackingEventDetails(value=19.0, attributes={"value": "kept", "context": 1}),
        )
        of_client.track("signup")
    finally:
        api.clear_providers()
    client.flush()
    purchase, signup = events
    assert ("purchase", 19.0, "user-3") == (purchase.name, purchase.value, purchase.targeting_key)
    assert {"value": "kept", "context": 1} == dict(purchase.attributes)
    assert client.variant_of("pricing", USER) == purchase.variants["pricing"]
    assert ("signup", None, {}) == (signup.name, signup.value, dict(signup.variants))
