"""Outcomes, tracked events, counters and guards exported as OpenTelemetry metrics."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import flagkit
from flagkit.otel import OutcomeMetrics
from flagkit.testing import FlagSet, guard, metric

USER = {"targetingKey": "user-3"}  # served "on" by a 50/50 split of "split"


def _points(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict[str, Any], float]]]:
    """Return each metric's data points as (attributes, value)."""
    data = reader.get_metrics_data()
    if data is None:  # nothing observed at all
        return {}
    found: dict[str, list[tuple[dict[str, Any], float]]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for item in scope.metrics:
                found[item.name] = [
                    (dict(point.attributes or {}), point.value)  # type: ignore[union-attr]
                    for point in item.data.data_points
                ]
    return found


def test_outcomes_are_observable_metrics_with_semantic_attributes() -> None:
    """Calls, errors, wall time, events, evaluations and guards, each per flag and variant."""
    spend = metric("event_mean", 1.0, worse="lower", event="purchase")
    document = (
        FlagSet()
        .rollout("split", {"on": 50, "off": 50})
        .rollout("guarded", {"on": 50, "off": 50}, guard=guard("off", spend))
        .document()
    )
    client = flagkit.Client.from_dict(document, outcomes=True, counters=True)
    reader = InMemoryMetricReader()
    OutcomeMetrics(
        client, meter_provider=MeterProvider(metric_readers=[reader]), provider_name="shop"
    )

    @client.feature("split", fallback=lambda fail: "old", context=lambda fail: USER)
    def new(fail: bool) -> str:
        if fail:
            raise ValueError("boom")
        return "new"

    new(False)
    new(False)
    with pytest.raises(ValueError, match="boom"):
        new(True)
    client.track("purchase", USER, 30.0)
    client.track("purchase", USER, -5.0)
    points = _points(reader)
    on = {
        "feature_flag.key": "split",
        "feature_flag.result.variant": "on",
        "feature_flag.provider.name": "shop",
    }
    assert [(on, 3)] == points["flagkit.toggle.calls"]
    assert [(on, 1)] == points["flagkit.toggle.errors"]
    ((attributes, seconds),) = points["flagkit.toggle.duration"]
    assert on == attributes
    assert 0 < seconds < 1
    variant = client.variant_of("guarded", USER)
    tracked = {
        "feature_flag.key": "guarded",
        "feature_flag.result.variant": variant,
        "feature_flag.provider.name": "shop",
        "flagkit.event.name": "purchase",
    }
    assert [(tracked, 2)] == points["flagkit.tracked.events"]
    assert [(tracked, 25.0)] == points["flagkit.tracked.value"]
    evaluations = {
        (
            a["feature_flag.key"],
            a.get("feature_flag.result.variant"),
            a["feature_flag.result.reason"],
        ): v
        for a, v in points["flagkit.evaluations"]
    }
    assert 3 == evaluations[("split", "on", "split")]
    guarded = {"feature_flag.key": "guarded", "feature_flag.provider.name": "shop"}
    assert [(guarded, 0)] == points["flagkit.guard.tripped"]


def test_an_idle_client_exports_no_points() -> None:
    """Nothing recorded, nothing observed: instruments report no data points."""
    client = flagkit.Client.from_dict(FlagSet().boolean("f").document())
    reader = InMemoryMetricReader()
    OutcomeMetrics(client, meter_provider=MeterProvider(metric_readers=[reader]))
    assert {} == {name: values for name, values in _points(reader).items() if values}
