"""The OpenTelemetry hook records semantic-convention span events."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import flagkit
from flagkit.otel import EVENT_NAME, OpenTelemetryHook


def test_evaluations_become_span_events(example_client: flagkit.Client) -> None:
    """Each evaluation inside a span adds a feature_flag.evaluation event."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    client = flagkit.Client(example_client.snapshot, hooks=[OpenTelemetryHook(include_value=True)])
    with tracer.start_as_current_span("request"):
        client.get_bool(
            "beta-banner", False, {"targetingKey": "u1", "country": "NL", "plan": "pro"}
        )
        client.get_bool("no-such-flag", False, {"targetingKey": "u1"})
    client.get_bool("beta-banner", False)  # no span: nothing recorded, nothing raised
    (span,) = exporter.get_finished_spans()
    hit, miss = (dict(e.attributes or {}) for e in span.events)
    assert [EVENT_NAME, EVENT_NAME] == [e.name for e in span.events]
    assert {
        "feature_flag.key": "beta-banner",
        "feature_flag.provider.name": "flagkit",
        "feature_flag.result.reason": "targeting_match",
        "feature_flag.result.variant": "on",
        "feature_flag.context.id": "u1",
        "feature_flag.result.value": True,
    } == hit
    assert ("flag_not_found", "error") == (miss["error.type"], miss["feature_flag.result.reason"])
    assert "feature_flag.result.variant" not in miss
