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
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flagkit._client.counters import MAX_KEY_CHARS
from flagkit._client.observed import read_all
from flagkit._core.snapshot import Snapshot
from flagkit._core.values import plain

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["event_name", "event_value", "opted_in", "track"]

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


def event_name(name: object) -> str | None:
    """Return a tracked event's name as an exact string of 1 to 256 characters, else None.

    Read by value (``values.plain``): a str subclass's own methods never run.
    """
    name = plain(name)
    return name if type(name) is str and 0 < len(name) <= MAX_KEY_CHARS else None


def event_value(value: object) -> int | float | None:
    """Return a tracked value as an exact int or float that a float holds finitely, else None."""
    value = plain(value)
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int and -sys.float_info.max <= value <= sys.float_info.max:
        return value
    return None


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
        event = event_name(name)
        if event is None:
            logger.debug("flagkit: track() needs an event name of 1 to %d chars", MAX_KEY_CHARS)
            return
        name = event
        number = event_value(value)
        if number is None and value is not None:
            logger.debug("flagkit: track(%r) dropped a value that is not a number", name)
        value = number
        ctx, unusable = client._context_for(context)
        if ctx is None:
            logger.debug("flagkit: track(%r) got a context it cannot use: %s", name, unusable)
            return
        read = read_all(client, flags, context, snapshot, (ctx, None))
        variants = {key: d.variant for key, d in read if d.variant is not None}
        if outcomes is not None:
            for key, variant in variants.items():
                outcomes.record_event(key, variant, name, value)
        if exposures is not None:
            exposures.record_track(name, ctx.get("targetingKey"), value, dict(attributes), variants)
    except Exception:  # tracking must never break the caller
        logger.debug("flagkit: track(%r) failed", name, exc_info=True)
