"""Tracking (OpenFeature's tracking API): outcomes attributed to the variants served.

``Client.track(name, context, value, **attributes)`` records that
something happened for a context (a purchase, a sign-up, a page load). It
returns nothing and never raises, as OpenFeature specifies. The event is
attributed to the variant the same context is served by each flag that
opted in: flags whose exposures are tracked (experiments, or
``track_exposure: true``) and guarded flags whose guard watches a tracked
event. The flags are evaluated again, pure and unrecorded (no counters, no
exposures, no hooks), which gives the variant that was served as long as
the flag did not change in between; the exposure events, joined on the
targeting key, stay the record of what was served when.

With neither an exposure sink nor an opted-in flag, ``track`` returns at
once: unused, it costs nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flagkit._client.observed import evaluate
from flagkit._core.snapshot import Snapshot

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["opted_in", "track"]

logger = logging.getLogger("flagkit")

_cache: dict[int, tuple[Snapshot, tuple[str, ...]]] = {}


def opted_in(snapshot: Snapshot) -> tuple[str, ...]:
    """Return the keys of the flags tracked events are attributed to (cached per snapshot)."""
    cached = _cache.get(id(snapshot))
    if cached is not None and cached[0] is snapshot:
        return cached[1]
    keys = tuple(
        key
        for key, flag in snapshot.flags.items()
        if flag.track_exposure
        or (
            flag.plan.guard is not None
            and any(metric.event is not None for metric in flag.plan.guard.metrics)
        )
    )
    if len(_cache) >= 64:  # a few live snapshots per process; bounded all the same
        _cache.clear()
    _cache[id(snapshot)] = (snapshot, keys)
    return keys


def track(
    client: Client,
    name: str,
    context: Mapping[str, Any] | None,
    value: float | None,
    attributes: Mapping[str, Any],
) -> None:
    """Attribute one tracked event and deliver it (see the module docstring); never raise."""
    try:
        exposures = client._exposures
        outcomes = client._outcomes
        snapshot = client._snapshot
        flags = opted_in(snapshot)
        if exposures is None and (outcomes is None or not flags):
            return
        if not isinstance(name, str) or not name:
            logger.debug("flagkit: track() needs an event name, got %r", name)
            return
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            logger.debug("flagkit: track(%r) dropped a value that is not a number", name)
            value = None
        ctx = client._context_for(context)
        if ctx is None:
            logger.debug("flagkit: track(%r) got a context that is not a mapping", name)
            return
        variants: dict[str, str] = {}
        for key in flags:
            details = evaluate(
                client, key, None, context, None, details=True, snapshot=snapshot, record=False
            )
            if details.variant is not None:
                variants[key] = details.variant
        if outcomes is not None:
            for key, variant in variants.items():
                outcomes.record_event(key, variant, name, value)
        if exposures is not None:
            exposures.record_track(name, ctx.get("targetingKey"), value, dict(attributes), variants)
    except Exception:  # tracking must never break the caller
        logger.debug("flagkit: track(%r) failed", name, exc_info=True)
