"""The expiry guard: a release flag evaluated past its ``expires`` date is a time bomb.

A hook cannot fail an evaluation (hooks that raise are logged and ignored:
evaluation never raises), so the guard *collects* expired evaluations and
reports them at ``check()``: a ``FlagExpiredWarning`` per flag in ``warn``
mode, one ``FlagExpiredError`` naming every flag in ``fail`` mode. Used as
a context manager it checks on exit; the pytest plugin checks after each
test. ``today`` is injectable, so tests of the guard do not depend on the
calendar.
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, get_args

from flagkit._client.client import Client
from flagkit._client.hooks import Hook, HookContext, HookHints
from flagkit._core.details import Details
from flagkit.testing._errors import FlagExpiredError, FlagExpiredWarning

__all__ = ["EXPIRY_MODES", "ExpiredEvaluation", "ExpiryGuard", "ExpiryMode", "expiry_guard"]

ExpiryMode = Literal["warn", "fail", "ignore"]
EXPIRY_MODES: tuple[str, ...] = get_args(ExpiryMode)
Today = dt.date | Callable[[], dt.date]


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True, slots=True)
class ExpiredEvaluation:
    """One evaluation of a flag after its expiry date."""

    flag_key: str
    expires: dt.date
    today: dt.date
    variant: str | None
    context: Mapping[str, Any]

    def describe(self) -> str:
        """Return a sentence naming the flag, the dates, the variant and the context."""
        return (
            f"flag {self.flag_key!r} expired on {self.expires.isoformat()} "
            f"(today is {self.today.isoformat()}) but was evaluated: variant "
            f"{self.variant!r} for {dict(self.context)!r}; remove the flag or extend 'expires'"
        )


class ExpiryGuard(Hook):
    """Collect evaluations of expired flags on the clients it guards; report at ``check()``."""

    def __init__(
        self,
        clients: Iterable[Client] = (),
        *,
        mode: ExpiryMode = "warn",
        today: Today | None = None,
    ) -> None:
        if mode not in EXPIRY_MODES:
            raise ValueError(f"expiry mode must be one of {', '.join(EXPIRY_MODES)}, not {mode!r}")
        self.mode: ExpiryMode = mode
        self._today = today or _utc_today
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._guarded: list[Client] = []
        self.expired: list[ExpiredEvaluation] = []
        for client in clients:
            self.guard(client)

    def today(self) -> dt.date:
        """Return the date the guard compares expiry dates with."""
        return self._today if isinstance(self._today, dt.date) else self._today()

    def guard(self, client: Client) -> None:
        """Start watching ``client`` (no-op in ``ignore`` mode or if already guarded)."""
        if self.mode == "ignore" or any(c is client for c in self._guarded):
            return
        self._guarded.append(client)
        client.add_hook(self)

    def release(self) -> None:
        """Stop watching every client; what was collected stays."""
        for client in self._guarded:
            client.remove_hook(self)
        self._guarded.clear()

    def after(self, hook_context: HookContext, details: Details, hints: HookHints) -> None:
        """Note the evaluation when its flag is past its expiry date."""
        expires = self._expiry_of(hook_context.flag_key)
        if expires is None:
            return
        today = self.today()
        if today > expires:
            found = ExpiredEvaluation(
                hook_context.flag_key,
                expires,
                today,
                details.variant,
                dict(hook_context.context),
            )
            with self._lock:
                self.expired.append(found)

    def _expiry_of(self, flag_key: str) -> dt.date | None:
        for client in self._guarded:
            flag = client.snapshot.flags.get(flag_key)
            if flag is not None and flag.meta.expires is not None:
                return flag.meta.expires
        return None

    def check(self) -> None:
        """Report and forget what was collected: warn once per flag, or raise for all."""
        with self._lock:
            found, self.expired = self.expired, []
        if not found or self.mode == "ignore":
            return
        first: dict[str, ExpiredEvaluation] = {}
        for item in found:
            first.setdefault(item.flag_key, item)
        if self.mode == "fail":
            lines = "\n".join(f"  {item.describe()}" for item in first.values())
            raise FlagExpiredError(
                f"{len(first)} expired flag(s) evaluated (flagkit expiry guard, mode=fail):\n"
                + lines
            )
        for item in first.values():
            warnings.warn(item.describe(), FlagExpiredWarning, stacklevel=2)

    def __enter__(self) -> ExpiryGuard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
        if exc_type is None:
            self.check()


def expiry_guard(
    *clients: Client, mode: ExpiryMode = "warn", today: Today | None = None
) -> ExpiryGuard:
    """Return a guard over ``clients``; as a ``with`` block it reports on exit."""
    return ExpiryGuard(clients, mode=mode, today=today)
