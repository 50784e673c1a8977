"""Forcing flags to values or variants for a block of code.

Three layers, looked up in this order:

* a client's *local* overrides (``Client.override(..., local=True)``): a
  ContextVar of that client alone, so concurrent tasks and threads each see
  their own, and other clients see nothing;
* *global* overrides (``flagkit.testing.override(None, ...)``): one
  ContextVar every client reads, for the current thread or task;
* a client's *process* overrides (``Client.override(...)``): seen by every
  thread, so a test calling an app that serves requests on another thread
  still sees them.

Each layer nests: overlapping blocks restore exactly, in any exit order,
even after an exception. Any change recomputes whether the affected clients
must leave their fast path (``Client._refresh_mode``), under one lock so
that a stale "no overrides" is never written after a newer "active".
"""

from __future__ import annotations

import functools
import inspect
import itertools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from flagkit._sources import forking

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = [
    "ClientOverride",
    "GlobalOverride",
    "OverrideScope",
    "Overrides",
    "live_clients",
    "mode_lock",
    "register_client",
    "watch_new_clients",
]

P = ParamSpec("P")
R = TypeVar("R")

_EMPTY: Mapping[str, Any] = MappingProxyType({})
#: Serialises every change of override state *and* the recomputation of the
#: clients' fast-path switch that follows it.
mode_lock = threading.RLock()

_clients: weakref.WeakSet[Client] = weakref.WeakSet()


_watchers: list[Callable[[Client], object]] = []


def register_client(client: Client) -> None:
    """Remember ``client`` (weakly) so global overrides and test tools can reach it."""
    _clients.add(client)
    for watcher in list(_watchers):
        watcher(client)


def watch_new_clients(watcher: Callable[[Client], object]) -> Callable[[], None]:
    """Call ``watcher(client)`` for every client created from now on; return the unsubscriber.

    For test tools (the pytest plugin records every client a test creates).
    """
    _watchers.append(watcher)
    return lambda: _watchers.remove(watcher)


def live_clients() -> list[Client]:
    """Return every client that is still alive."""
    return list(_clients)


def _refresh_all() -> None:
    for client in live_clients():
        client._refresh_mode()


class _ContextLayer:
    """Override blocks in a ContextVar, each removable on its own, with a cheap "any?" count.

    The variable holds the open blocks (token, values) in entry order and
    their merge. Leaving a block removes exactly that block, whatever the
    order blocks are left in (``ContextVar.reset`` would restore the values
    from before the block, dropping blocks opened after it).
    """

    def __init__(self, name: str) -> None:
        self.var: ContextVar[tuple[tuple[tuple[int, Mapping[str, Any]], ...], Mapping[str, Any]]]
        self.var = ContextVar(name, default=((), _EMPTY))
        self.users = 0
        self._ids = itertools.count()

    def current(self) -> Mapping[str, Any]:
        """Return the merged values of the blocks open in this context."""
        return self.var.get()[1]

    def push(self, values: Mapping[str, Any]) -> int:
        token = next(self._ids)
        blocks, merged = self.var.get()
        self.var.set(((*blocks, (token, dict(values))), MappingProxyType({**merged, **values})))
        self.users += 1
        return token

    def pop(self, token: int) -> None:
        try:
            blocks = tuple(block for block in self.var.get()[0] if block[0] != token)
            merged: dict[str, Any] = {}
            for _, values in blocks:  # later blocks win
                merged.update(values)
            self.var.set((blocks, MappingProxyType(merged) if merged else _EMPTY))
        finally:
            self.users -= 1


_global = _ContextLayer("flagkit_global_overrides")
_serial = itertools.count()


class _ModuleLocks:
    def after_fork_in_child(self) -> None:
        global mode_lock
        mode_lock = threading.RLock()


_module_locks = _ModuleLocks()
forking.register(_module_locks)


class Overrides:
    """One client's override layers (local and process), plus the global one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._layers: dict[int, Mapping[str, Any]] = {}
        self._ids = itertools.count()
        self.process: Mapping[str, Any] = _EMPTY
        self.local = _ContextLayer(f"flagkit_overrides_{next(_serial)}")
        forking.register(self)

    def after_fork_in_child(self) -> None:
        """Replace the lock (a thread that held it is gone in the child)."""
        self._lock = threading.Lock()

    def any_active(self) -> bool:
        """Return True when some override might apply (cheap, may be conservative)."""
        return bool(self.process) or self.local.users > 0 or _global.users > 0

    def lookup(self, flag_key: str) -> tuple[bool, Any]:
        """Return (found, forced value or variant) for ``flag_key``; local layers win."""
        for layer in (self.local.current(), _global.current(), self.process):
            if flag_key in layer:
                return True, layer[flag_key]
        return False, None

    def push(self, values: Mapping[str, Any]) -> int:
        """Add a process layer; return its token."""
        with self._lock:
            token = next(self._ids)
            self._layers[token] = dict(values)
            self._recompute()
        return token

    def pop(self, token: int) -> None:
        """Remove the process layer ``token``."""
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
    # A process that never imported asyncio runs no task: no need to import it.
    asyncio = sys.modules.get("asyncio")
    try:
        task = None if asyncio is None else asyncio.current_task()
    except RuntimeError:  # no running event loop
        task = None
    return threading.get_ident(), 0 if task is None else id(task)


class _Layer(Protocol):
    def push(self, values: Mapping[str, Any]) -> Any: ...

    def pop(self, token: Any) -> None: ...


class OverrideScope:
    """A block with forced flags: a context manager, and a decorator (sync or async).

    Entering pushes the values onto one layer (see the module docstring);
    leaving pops them, and each change tells the affected clients.
    """

    def __init__(self, values: Mapping[str, Any], layer: _Layer) -> None:
        self._values = dict(values)
        self._layer = layer
        # One stack per thread and task: a scope object shared between threads
        # (a module-level decorator, say) must restore each one's own token.
        self._tokens: dict[tuple[int, int], list[Any]] = {}

    def __enter__(self) -> OverrideScope:
        with mode_lock:
            self._tokens.setdefault(_where(), []).append(self._layer.push(self._values))
            self.changed()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with mode_lock:
            where = _where()
            stack = self._tokens[where]
            token = stack.pop()
            if not stack:
                del self._tokens[where]
            try:
                self._layer.pop(token)
            finally:
                self.changed()

    def changed(self) -> None:
        """Tell the clients that may be affected (called under ``mode_lock``)."""

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
        return type(self)(self._values, self._layer)

    def values(self) -> Iterator[tuple[str, Any]]:
        """Return the forced (flag, value or variant) pairs."""
        return iter(self._values.items())


class ClientOverride(OverrideScope):
    """Overrides on one client's local or process layer; it alone leaves its fast path."""

    def __init__(self, client: Client, values: Mapping[str, Any], *, local: bool) -> None:
        overrides = client._overrides
        super().__init__(values, overrides.local if local else overrides)
        self._client = client
        self._local = local

    def changed(self) -> None:
        """Switch the client's getters (called under the mode lock)."""
        self._client._refresh_mode()

    def _fresh(self) -> OverrideScope:
        return ClientOverride(self._client, self._values, local=self._local)


class GlobalOverride(OverrideScope):
    """Overrides every client sees, in the current thread or task only."""

    def __init__(self, values: Mapping[str, Any], layer: _Layer = _global) -> None:
        super().__init__(values, layer)

    def changed(self) -> None:
        """Switch every client's getters (called under the mode lock)."""
        _refresh_all()
