"""OpenTelemetry: evaluations as span events, outcomes as metrics (extra ``flagkit[otel]``).

Follows OpenTelemetry's semantic conventions for feature flags: an event
named ``feature_flag.evaluation`` on the current span, with
``feature_flag.key``, ``feature_flag.provider.name``,
``feature_flag.result.variant``, ``feature_flag.result.reason``,
``feature_flag.context.id`` and, on errors, ``error.type`` and
``feature_flag.error.message``. The flag value is not recorded by default
(it may be large or sensitive); pass ``include_value=True`` to add
``feature_flag.result.value``.

``OutcomeMetrics`` exports what the client counts as asynchronous
(observable) instruments, read from its lock-free per-thread counters only
when a metric reader collects, so the hot path does no OpenTelemetry work.
OpenTelemetry's semantic conventions define feature-flag *attributes*, not
metrics, so the instruments are named under ``flagkit.`` and carry the
conventions' attributes (``feature_flag.key``,
``feature_flag.result.variant``, ``feature_flag.provider.name``,
``feature_flag.result.reason``, ``error.type``):

* ``flagkit.toggle.calls``, ``flagkit.toggle.errors`` (counters) and
  ``flagkit.toggle.duration`` (a counter of seconds: divide by calls for
  the mean) per flag and variant, from toggle points;
* ``flagkit.tracked.events`` (counter) and ``flagkit.tracked.value`` (an
  up-down counter: values may be negative) per flag, variant and
  ``flagkit.event.name``;
* ``flagkit.evaluations`` (counter) from the built-in counters
  (``Client(counters=True)``);
* ``flagkit.guard.tripped`` (a gauge, 1 or 0) per guarded flag.

A guard's trip is also recorded as a ``flagkit.guard.tripped`` event on a
``flagkit.guard`` span (``GUARD_EVENT_NAME``). A Prometheus exporter (or any
other) then gets all of these through the SDK.

Only ``opentelemetry-api`` is needed: without an SDK configured, spans and
instruments are no-ops, and so is everything here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from flagkit._client.guards import TRIP_EVENT
from flagkit._client.hooks import Hook, HookContext, HookHints
from flagkit._core.details import Details

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["EVENT_NAME", "GUARD_EVENT_NAME", "OpenTelemetryHook", "OutcomeMetrics"]

EVENT_NAME = "feature_flag.evaluation"
#: The span event a guard's trip records (on a ``flagkit.guard`` span).
GUARD_EVENT_NAME = TRIP_EVENT


class OpenTelemetryHook(Hook):
    """Add a ``feature_flag.evaluation`` event to the current span per evaluation."""

    def __init__(self, *, provider_name: str = "flagkit", include_value: bool = False) -> None:
        self.provider_name = provider_name
        self.include_value = include_value

    def finally_after(self, hook_context: HookContext, details: Details, hints: HookHints) -> None:
        """Record the evaluation on the current span (if it is recording)."""
        span = trace.get_current_span()
        if not span.is_recording():
            return
        attributes: dict[str, Any] = {
            "feature_flag.key": details.flag_key,
            "feature_flag.provider.name": self.provider_name,
            "feature_flag.result.reason": details.reason.value.lower(),
        }
        if details.variant is not None:
            attributes["feature_flag.result.variant"] = details.variant
        targeting_key = hook_context.context.get("targetingKey")
        if isinstance(targeting_key, str):
            attributes["feature_flag.context.id"] = targeting_key
        if details.error_code is not None:
            attributes["error.type"] = details.error_code.value.lower()
            if details.error_message:
                attributes["feature_flag.error.message"] = details.error_message
        if self.include_value:
            value = details.value
            attributes["feature_flag.result.value"] = (
                value if isinstance(value, str | bool | int | float) else json.dumps(value)
            )
        span.add_event(EVENT_NAME, attributes)


class OutcomeMetrics:
    """Export a client's outcomes, tracked events, counters and guards as OTel metrics.

    ``OutcomeMetrics(client)`` registers observable instruments on a meter
    from ``meter_provider`` (the global one by default); the SDK's readers
    call them when they collect. Keep the object for as long as the client.
    """

    def __init__(
        self,
        client: Client,
        *,
        meter_provider: MeterProvider | None = None,
        provider_name: str = "flagkit",
    ) -> None:
        self.client = client
        self.provider_name = provider_name
        provider = meter_provider or metrics.get_meter_provider()
        meter = provider.get_meter("flagkit")
        counter, up_down, gauge = (
            meter.create_observable_counter,
            meter.create_observable_up_down_counter,
            meter.create_observable_gauge,
        )
        instruments = [
            (counter, "flagkit.toggle.calls", self._calls, "{call}",
             "Calls of the code a flag chose, per served variant."),
            (counter, "flagkit.toggle.errors", self._errors, "{error}",
             "Calls that raised (or were reported failed), per served variant."),
            (counter, "flagkit.toggle.duration", self._duration, "s",
             "Total wall time of the calls, per served variant."),
            (counter, "flagkit.tracked.events", self._events, "{event}",
             "Tracked events attributed to each served variant."),
            (up_down, "flagkit.tracked.value", self._values, "",
             "Sum of tracked events' values, per served variant."),
            (counter, "flagkit.evaluations", self._evaluations, "{evaluation}",
             "Evaluations per flag, variant and reason (Client(counters=True))."),
            (gauge, "flagkit.guard.tripped", self._guards, "",
             "1 while a flag's guard is tripped, else 0."),
        ]  # fmt: skip
        for create, name, callback, unit, description in instruments:
            create(name, [callback], unit=unit, description=description)

    def _attributes(self, flag_key: str, variant: str | None) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "feature_flag.key": flag_key,
            "feature_flag.provider.name": self.provider_name,
        }
        if variant is not None:
            attributes["feature_flag.result.variant"] = variant
        return attributes

    def _per_variant(self, field: str) -> Iterable[Observation]:
        for key, totals in self.client.outcomes().items():
            if not (totals.calls or totals.errors):  # only tracked events: no toggle series
                continue
            value = totals.seconds if field == "seconds" else getattr(totals, field)
            yield Observation(value, self._attributes(key.flag_key, key.variant))

    def _calls(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._per_variant("calls")

    def _errors(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._per_variant("errors")

    def _duration(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._per_variant("seconds")

    def _tracked(self, values: bool) -> Iterable[Observation]:
        for key, totals in self.client.outcomes().items():
            for name, event in totals.events.items():
                attributes = self._attributes(key.flag_key, key.variant)
                attributes["flagkit.event.name"] = name
                yield Observation(event.total if values else event.count, attributes)

    def _events(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._tracked(values=False)

    def _values(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._tracked(values=True)

    def _evaluations(self, options: CallbackOptions) -> Iterable[Observation]:
        for key, count in self.client.counters().items():
            attributes = self._attributes(key.flag_key, key.variant)
            attributes["feature_flag.result.reason"] = key.reason.lower()
            if key.error_code is not None:
                attributes["error.type"] = key.error_code.lower()
            yield Observation(count, attributes)

    def _guards(self, options: CallbackOptions) -> Iterable[Observation]:
        for guard in self.client.status().guards:
            yield Observation(
                1 if guard.state == "tripped" else 0, self._attributes(guard.flag_key, None)
            )
