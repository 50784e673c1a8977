"""How an Unleash feature reads a flagkit context.

Unleash's context has six standard fields (``userId``, ``sessionId``,
``remoteAddress``, ``environment``, ``appName``, ``currentTime``) and a
``properties`` mapping for everything else. A flagkit context is one flat
mapping. Both shapes work, read the way the official Python SDK reads them:

* a standard field is read from the top level; ``userId`` falls back to
  flagkit's ``targetingKey``, and ``appName`` / ``environment`` to the
  values the document was loaded with (the SDK's static context);
  ``currentTime`` defaults to the evaluator's clock;
* any other name is read from ``properties`` first, then from the top
  level (the SDK moves unknown top-level keys into ``properties``, with
  ``properties`` winning);
* a value that is not a string is read as the SDK sends it, ``str(value)``
  (a datetime as ISO 8601); None counts as absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flagkit._core.values import plain
from flagkit._types import Clock, ContextLike

__all__ = [
    "STANDARD_FIELDS",
    "Reader",
    "StaticContext",
    "default_stickiness",
    "reader_of",
    "text_of",
    "user_id_fallback",
]

_MISSING: Any = object()

#: The context fields Unleash reads from the top level.
STANDARD_FIELDS = frozenset(
    {"userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime"}
)

#: A context field's reader: the value as Unleash sees it (a string), or None.
Reader = Callable[[ContextLike], str | None]
StaticContext = Mapping[str, str]


def text_of(value: Any) -> str | None:
    """Return a context value as Unleash reads it: an exact ``str``, or None when absent.

    A subclass of a built-in (a ``StrEnum``, an ``IntEnum``) is read by the
    value it is made of (``values.plain``), whatever its own ``__str__``
    says. Anything else is what its ``__str__`` (a datetime's
    ``isoformat``) answers, read as an exact string in turn: what is hashed
    or compared is never an object of the caller's class.
    """
    if value is None:
        return None
    if type(value) is str:
        return value
    try:
        value = plain(value)
        text = value.isoformat() if issubclass(type(value), dt.datetime) else value
        if not issubclass(type(text), str):
            text = str(text)
        return str.__str__(text)
    except Exception:  # an object whose __str__ fails has no value here
        return None


def reader_of(name: str, static: StaticContext, clock: Clock) -> Reader:
    """Return the reader of the context field ``name`` (see the module docstring)."""
    if name == "userId":

        def user_id(ctx: ContextLike) -> str | None:
            value = ctx.get("userId")
            if value is None:
                value = ctx.get("targetingKey")
            return value if type(value) is str else text_of(value)

        return user_id
    if name in ("appName", "environment"):
        fallback = static.get(name)

        def configured(ctx: ContextLike) -> str | None:
            value = ctx.get(name)
            if value is None:
                return fallback
            return value if type(value) is str else text_of(value)

        return configured
    if name == "currentTime":

        def current_time(ctx: ContextLike) -> str | None:
            value = ctx.get("currentTime")
            if value is None:
                return dt.datetime.fromtimestamp(clock(), dt.UTC).isoformat()
            return text_of(value)

        return current_time
    if name in STANDARD_FIELDS:

        def standard(ctx: ContextLike) -> str | None:
            value = ctx.get(name)
            return value if type(value) is str else text_of(value)

        return standard

    def property_(ctx: ContextLike) -> str | None:
        # The hot path of every constraint: exact dicts and strings first.
        properties = ctx.get("properties")
        value = _MISSING
        if properties is not None and (type(properties) is dict or isinstance(properties, Mapping)):
            value = properties.get(name, _MISSING)
        if value is _MISSING:
            value = ctx.get(name)
        return value if type(value) is str else text_of(value)

    return property_


def default_stickiness(random_key: Reader) -> Reader:
    """Return the reader of Unleash's ``default`` stickiness: userId, else sessionId, else random.

    One function rather than a chain of readers: it is what every default
    rollout and variant hashes, so it is on the hot path.
    """

    def default_key(ctx: ContextLike) -> str | None:
        value = ctx.get("userId")
        if value is None:
            value = ctx.get("targetingKey")
            if value is None:
                value = ctx.get("sessionId")
                if value is None:
                    return random_key(ctx)
        return value if type(value) is str else text_of(value)

    return default_key


def user_id_fallback(then: Reader | None) -> Reader:
    """Return what a rollout reads when ``userId`` is absent: the targeting key, then ``then``.

    A generated rollout reads ``userId`` itself (the fast flat read) and
    calls this only without one.
    """

    def fallback(ctx: ContextLike) -> str | None:
        value = ctx.get("targetingKey")
        if value is None:
            return None if then is None else then(ctx)
        return value if type(value) is str else text_of(value)

    return fallback
