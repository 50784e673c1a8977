"""Instants: parsing the date-times that flag files and contexts carry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flagkit._core.values import plain

__all__ = ["as_utc", "iso_instant", "timestamp_of"]


def as_utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` as an aware datetime, reading a naive one as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def timestamp_of(value: Any) -> float | None:
    """Return the POSIX timestamp of a context value, or None when it is not a time.

    Accepted: an aware or naive (UTC) ``datetime``, a ``date`` (midnight UTC),
    an ISO 8601 string (``Z`` allowed), or a number of seconds since the epoch.
    Strings and numbers are read as the plain values they are made of.
    """
    value = plain(value)
    kind = type(value)
    if kind is bool:
        return None
    if kind is int or kind is float:
        try:
            return float(value)
        except OverflowError:  # an int too large for a float is no instant
            return None
    if issubclass(kind, dt.datetime):
        return as_utc(value).timestamp()
    if issubclass(kind, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    if kind is str and 0 < len(value) <= 64:
        text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        return as_utc(parsed).timestamp()
    return None


def iso_instant(timestamp: float) -> str:
    """Return a POSIX timestamp as ISO 8601 UTC, to the second (``2026-12-01T09:00:00Z``)."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
