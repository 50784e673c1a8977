"""Evaluation contexts: plain mappings, the ``Context`` value, and the scoped context.

A context is any mapping: ``targetingKey`` plus attributes, nested ones
included (``{"org": {"id": "acme"}}`` is read by ``org.id``). That nesting is
how multi-kind contexts work: a user and their organisation in one mapping,
and a rollout can bucket by either.

The *scoped* context is a ``ContextVar``: set it once per request (web
middleware) and every evaluation without an explicit context uses it. It
follows asyncio tasks automatically; a thread started by hand needs
``contextvars.copy_context().run`` (or ``asyncio.to_thread``, which copies).
Setting it never raises; something unusable makes the scope's evaluations
report INVALID_CONTEXT.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, NoReturn

from flagkit._errors import describe
from flagkit._types import ContextLike

__all__ = [
    "EMPTY_CONTEXT",
    "Context",
    "ContextLike",
    "UnusableContext",
    "current_context",
    "merge_contexts",
    "read_scoped_context",
    "reset_context",
    "scoped_context",
    "set_context",
]


class Context(dict[str, Any]):
    """An immutable evaluation context: a targeting key plus attributes.

    ``Context("user-1", country="NL", org={"id": "acme"})``. It is a dict
    (so evaluation reads it at C speed) that refuses mutation; derive a new
    one with ``with_attributes``.
    """

    __slots__ = ()

    def __init__(self, targeting_key: str | None = None, /, **attributes: Any) -> None:
        if targeting_key is not None:
            attributes["targetingKey"] = targeting_key
        super().__init__(attributes)

    @property
    def targeting_key(self) -> str | None:
        """Return the targeting key, if any."""
        key = self.get("targetingKey")
        return key if isinstance(key, str) else None

    def with_attributes(self, **attributes: Any) -> Context:
        """Return a new context with ``attributes`` added or replaced."""
        return Context(None, **{**self, **attributes})

    def _immutable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a Context is immutable; use with_attributes() to derive one")

    __setitem__ = __delitem__ = _immutable
    clear = pop = popitem = setdefault = update = __ior__ = _immutable

    def __repr__(self) -> str:
        return f"Context({dict.__repr__(self)})"


EMPTY_CONTEXT: Mapping[str, Any] = Context()


class UnusableContext(Mapping[str, Any]):
    """The scoped context after ``set_context`` got something it could not use.

    ``set_context`` never raises: given a value that is not a mapping, or a
    mapping that cannot be read (its ``keys`` or ``__getitem__`` raise), it
    sets this instead, and every evaluation in the scope reports
    INVALID_CONTEXT with ``reason`` as its message. As a mapping it is empty.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"UnusableContext({self.reason!r})"


_current: ContextVar[Mapping[str, Any]] = ContextVar("flagkit_context", default=EMPTY_CONTEXT)


#: The scoped context's reader, bound once: the getters' fast path calls it directly.
read_scoped_context = _current.get


def current_context() -> Mapping[str, Any]:
    """Return the scoped context of the running thread or task (empty if unset)."""
    return _current.get()


def merge_contexts(base: Mapping[str, Any], top: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``top`` over ``base`` (top-level keys of ``top`` win)."""
    if not base:
        return top
    if not top:
        return base
    return {**base, **top}


def set_context(context: Mapping[str, Any]) -> Token[Mapping[str, Any]]:
    """Set the scoped context, merged over the current one; return a token to reset it.

    The scope holds a copy (a ``dict``), read once here. Never raises: a
    ``context`` that is not a readable mapping makes every evaluation in the
    scope report INVALID_CONTEXT (see ``UnusableContext``).
    """
    try:
        if not isinstance(context, Mapping):
            raise TypeError(f"the scoped context is not a mapping but a {type(context).__name__}")
        merged: Mapping[str, Any] = {**_current.get(), **context}
    except Exception as exc:
        merged = UnusableContext(f"the scoped context cannot be used: {describe(exc)}")
    return _current.set(merged)


def reset_context(token: Token[Mapping[str, Any]]) -> None:
    """Restore the scoped context that ``set_context`` replaced."""
    _current.reset(token)


@contextmanager
def scoped_context(context: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Use ``context`` (merged over the current one) for evaluations in this block."""
    token = set_context(context)
    try:
        yield _current.get()
    finally:
        _current.reset(token)
