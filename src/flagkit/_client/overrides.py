"""Forcing flags to values or variants for a block of code.

Two scopes: *process* overrides are seen by every thread (a test calling an
app that serves requests on another thread still sees them), and *local*
overrides live in a ContextVar, so concurrent tasks and threads each see
their own. Both are layers: nested and overlapping blocks restore exactly,
in any exit order, even after an exception.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType, TracebackType
from typing import Any, ParamSpec, TypeVar

from flagkit._sources import forking

__all__ = ["OverrideScope", "Overrides"]

P = ParamSpec("P")
R = TypeVar("R")

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_local: ContextVar[Mapping[str, Any]] = ContextVar("flagkit_overrides", default=_EMPTY)
_local_users = 0  # how many local override blocks are open anywhere (a cheap "any?" test)
#: Serialises every change of override state *and* the recomputation of the
#: clients' fast-path switch that follows it, so a stale "no overrides" can
#: never be written after a newer "overrides active".
mode_lock = threading.RLock()


class _ModuleLocks:
    def after_fork_in_child(self) -> None:
        global mode_lock
        mode_lock = threading.RLock()


_module_locks = _ModuleLocks()
forking.register(_module_locks)


class Overrides:
    """One client's override layers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._layers: dict[int, Mapping[str, Any]] = {}
        self._ids = itertools.count()
        self.process: Mapping[str, Any] = _EMPTY
        forking.register(self)

    def after_fork_in_child(self) -> None:
        """Replace the lock (a thread that held it is gone in the child)."""
        self._lock = threading.Lock()

    def any_active(self) -> bool:
        """Return True when some override might apply (cheap, may be conservative)."""
        return bool(self.process) or _local_users > 0

    def lookup(self, flag_key: str) -> tuple[bool, Any]:
        """Return (found, forced value or variant) for ``flag_key``; local layers win."""
        local = _local.get()
        if flag_key in local:
            return True, local[flag_key]
        process = self.process
        if flag_key in process:
            return True, process[flag_key]
        return False, None

    def push_process(self, values: Mapping[str, Any]) -> int:
        with self._lock:
            token = next(self._ids)
            self._layers[token] = dict(values)
            self._recompute()
        return token

    def pop_process(self, token: int) -> None:
        with self._lock:
            self._layers.pop(token, None)
            self._recompute()

    def _recompute(self) -> None:
        merged: dict[str, Any] = {}
        for token in sorted(self._layers):  # later layers win
            merged.update(self._layers[token])
        self.process = MappingProxyType(merged)


def _where() -> tuple[int, int]:
    """Identify the running thread and asyncio task (0 outside a task)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running event loop
        task = None
    return threading.get_ident(), 0 if task is None else id(task)


class OverrideScope:
    """A block with forced flags: a context manager, and a decorator (sync or async)."""

    def __init__(self, overrides: Overrides, values: Mapping[str, Any], *, local: bool) -> None:
        self._overrides = overrides
        self._values = dict(values)
        self._local = local
        # One stack per thread and task: a scope object shared between threads
        # (a module-level decorator, say) must restore each one's own token.
        self._tokens: dict[tuple[int, int], list[Any]] = {}

    def __enter__(self) -> OverrideScope:
        global _local_users
        with mode_lock:
            stack = self._tokens.setdefault(_where(), [])
            if self._local:
                stack.append(_local.set(MappingProxyType({**_local.get(), **self._values})))
                _local_users += 1
            else:
                stack.append(self._overrides.push_process(self._values))
            self.changed()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _local_users
        with mode_lock:
            where = _where()
            stack = self._tokens[where]
            token = stack.pop()
            if not stack:
                del self._tokens[where]
            try:
                if self._local:
                    _local.reset(token)
                else:
                    self._overrides.pop_process(token)
            finally:
                if self._local:
                    _local_users -= 1
                self.changed()

    def changed(self) -> None:
        """Hook for subclasses: called under ``mode_lock`` after every change."""

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        """Apply the overrides around every call of ``func``."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                with self._fresh():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper

    def _fresh(self) -> OverrideScope:
        # Each call gets its own scope, so concurrent calls do not share tokens.
        return OverrideScope(self._overrides, self._values, local=self._local)

    def values(self) -> Iterator[tuple[str, Any]]:
        """Return the forced (flag, value or variant) pairs."""
        return iter(self._values.items())
