"""OpenTelemetry: record every evaluation as a span event (extra ``flagkit[otel]``).

Follows OpenTelemetry's semantic conventions for feature flags: an event
named ``feature_flag.evaluation`` on the current span, with
``feature_flag.key``, ``feature_flag.provider.name``,
``feature_flag.result.variant``, ``feature_flag.result.reason``,
``feature_flag.context.id`` and, on errors, ``error.type`` and
``feature_flag.error.message``. The flag value is not recorded by default
(it may be large or sensitive); pass ``include_value=True`` to add
``feature_flag.result.value``.

Only ``opentelemetry-api`` is needed: without an SDK configured, spans are
no-ops and so is this hook.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace

from flagkit._client.hooks import Hook, HookContext, HookHints
from flagkit._core.details import Details

__all__ = ["EVENT_NAME", "OpenTelemetryHook"]

EVENT_NAME = "feature_flag.evaluation"


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
