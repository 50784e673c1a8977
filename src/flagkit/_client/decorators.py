"""Toggle points as decorators: a flag picks the implementation to call.

``feature`` chooses between a new function and its fallback on a boolean
flag; ``dispatch`` chooses one implementation per variant of any flag (an
A/B test at the toggle point instead of an ``if`` chain). Both keep the
wrapped signature for type checkers (ParamSpec), work on sync and async
functions, and fall back on any problem: an unknown variant, an error, a
context function that raises. A toggle point never raises on its own.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from flagkit._client.counters import shown_key

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["ContextFactory", "dispatch", "feature"]

P = ParamSpec("P")
R = TypeVar("R")
ContextFactory = Callable[..., Mapping[str, Any] | None]

logger = logging.getLogger("flagkit")


class _Broken:
    """The context of a call whose context function raised: always the fallback."""


_BROKEN: Any = _Broken()


def _context_of(factory: ContextFactory | None, flag_key: str, args: Any, kwargs: Any) -> Any:
    if factory is None:
        return None  # the scoped context
    try:
        return factory(*args, **kwargs)
    except Exception:
        logger.warning(
            "flagkit: context function for %r raised; calling the fallback",
            shown_key(flag_key),
            exc_info=True,
        )
        return _BROKEN  # not a mapping: the evaluation errors, so the fallback runs


def dispatch(
    client: Client,
    flag_key: str,
    implementations: Mapping[str, Callable[P, R]],
    *,
    fallback: Callable[P, R],
    context: ContextFactory | None = None,
) -> Callable[P, R]:
    """Return a function calling the implementation of the variant ``flag_key`` serves."""
    table = dict(implementations)
    kinds = {inspect.iscoroutinefunction(f) for f in [*table.values(), fallback]}
    if len(kinds) != 1:
        raise TypeError(f"{flag_key!r}: mix of async and sync implementations")

    def choose(args: Any, kwargs: Any) -> Callable[P, R]:
        variant = client.variant_of(flag_key, _context_of(context, flag_key, args, kwargs))
        return table.get(variant, fallback) if variant is not None else fallback

    if kinds == {True}:

        @functools.wraps(fallback)
        async def async_dispatcher(*args: P.args, **kwargs: P.kwargs) -> Any:
            return await choose(args, kwargs)(*args, **kwargs)  # type: ignore[misc]

        return async_dispatcher  # type: ignore[return-value]

    @functools.wraps(fallback)
    def dispatcher(*args: P.args, **kwargs: P.kwargs) -> R:
        return choose(args, kwargs)(*args, **kwargs)

    return dispatcher


def feature(
    client: Client,
    flag_key: str,
    *,
    fallback: Callable[P, R],
    context: ContextFactory | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a decorator: call the decorated function when the flag is on, else ``fallback``."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func) != inspect.iscoroutinefunction(fallback):
            raise TypeError(
                f"{flag_key!r}: the function and its fallback must both be async or sync"
            )
        get_bool = client.get_bool

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_toggle(*args: P.args, **kwargs: P.kwargs) -> Any:
                on = get_bool(flag_key, False, _context_of(context, flag_key, args, kwargs))
                return await (func if on else fallback)(*args, **kwargs)  # type: ignore[misc]

            return async_toggle  # type: ignore[return-value]

        if context is None:

            @functools.wraps(func)
            def toggle(*args: P.args, **kwargs: P.kwargs) -> R:
                return (func if get_bool(flag_key, False) else fallback)(*args, **kwargs)

            return toggle

        @functools.wraps(func)
        def toggle_with_context(*args: P.args, **kwargs: P.kwargs) -> R:
            on = get_bool(flag_key, False, _context_of(context, flag_key, args, kwargs))
            return (func if on else fallback)(*args, **kwargs)

        return toggle_with_context

    return decorate
