"""Record what a client evaluated and exposed, for assertions in tests.

The recorder puts a real ``Hook`` on each client it records (it sees every
evaluation through the client's observing path) plus a tap on exposure events: when the client has
an exposure log, the tap wraps the log's ``record`` and so captures exactly
what the client hands it, before deduplication; without a log, the hook
mirrors the client's rule (flags with ``track_exposure``, resolved by
evaluation rather than an override or an error).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flagkit._client.client import Client
from flagkit._client.exposure import ExposureEvent, ExposureLog
from flagkit._client.hooks import Hook, HookContext, HookHints
from flagkit._core.details import Details, Reason

__all__ = ["Evaluation", "Recorder", "record"]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation seen by a recorder (``client``: the client's name; ``thread``: where)."""

    flag_key: str
    value: Any
    variant: str | None
    reason: str
    context: Mapping[str, Any]
    error_code: str | None = None
    client: str = ""
    thread: str = ""

    def describe(self) -> str:
        """Return a one-line account: flag, variant, value, reason and context."""
        error = f", error {self.error_code}" if self.error_code else ""
        return (
            f"{self.flag_key} -> variant {self.variant!r} (value {self.value!r}, "
            f"{self.reason}{error}) for {dict(self.context)!r}"
        )


class _Tap(Hook):
    """The hook a recorder puts on one client (so it knows which client evaluated)."""

    def __init__(self, recorder: Recorder, client: Client) -> None:
        self.recorder = recorder
        self.client = client

    def finally_after(self, hook_context: HookContext, details: Details, hints: HookHints) -> None:
        self.recorder._record(self.client, hook_context, details)


class Recorder(Hook):
    """Capture evaluations and exposure events of one client or several, thread-safely.

    Use ``record(client)`` as a context manager; the recorder detaches on exit.
    ``attach(other)`` records another client too (the pytest plugin's
    recorder attaches to every client a test touches).
    """

    def __init__(self, client: Client | None = None) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._evaluations: list[Evaluation] = []
        self._exposures: list[ExposureEvent] = []
        # Per attached client: its tap, and its exposure log's original ``record``.
        self._attached: dict[int, tuple[Client, _Tap, ExposureLog | None, Any]] = {}

    # -- attaching ----------------------------------------------------------------

    def start(self) -> Recorder:
        """Attach to the client (hook and exposure tap)."""
        if self.client is not None:
            self.attach(self.client)
        return self

    def attach(self, client: Client) -> Recorder:
        """Record ``client``'s evaluations and exposures too (once; idempotent)."""
        with self._lock:
            if id(client) in self._attached:
                return self
            tap = _Tap(self, client)
            log = client.exposures
            original = None
            if log is not None:
                original = log.record

                def record_exposure(
                    flag_key: str, variant: str | None, targeting_key: Any, reason: str
                ) -> None:
                    target = targeting_key if isinstance(targeting_key, str) else None
                    event = ExposureEvent(flag_key, variant, target, reason, time.time())
                    self._add_exposure(event)
                    original(flag_key, variant, targeting_key, reason)

                log.record = record_exposure  # type: ignore[method-assign]
            self._attached[id(client)] = (client, tap, log, original)
        client.add_hook(tap)
        return self

    def stop(self) -> None:
        """Detach from every client; what was recorded stays readable."""
        with self._lock:
            attached, self._attached = list(self._attached.values()), {}
        # Nested recorders on one client stop in reverse order, as ``with`` does.
        for client, tap, log, original in reversed(attached):
            client.remove_hook(tap)
            if log is not None:
                log.record = original

    @property
    def clients(self) -> list[Client]:
        """Return the clients this recorder is attached to."""
        with self._lock:
            return [client for client, *_ in self._attached.values()]

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- recording ----------------------------------------------------------------

    def finally_after(self, hook_context: HookContext, details: Details, hints: HookHints) -> None:
        """Record an evaluation of ``client`` (for a recorder added as a hook by hand)."""
        if self.client is not None:
            self._record(self.client, hook_context, details)

    def _record(self, client: Client, hook_context: HookContext, details: Details) -> None:
        """Record the evaluation (and its exposure, when the client has no log)."""
        error = None if details.error_code is None else details.error_code.value
        evaluation = Evaluation(
            hook_context.flag_key,
            details.value,
            details.variant,
            details.reason.value,
            dict(hook_context.context),
            error,
            client=client.name,
            thread=threading.current_thread().name,
        )
        with self._lock:
            self._evaluations.append(evaluation)
        if client.exposures is None and self._exposes(client, details):
            key = hook_context.context.get("targetingKey")
            target = key if isinstance(key, str) else None
            self._add_exposure(
                ExposureEvent(
                    details.flag_key, details.variant, target, details.reason.value, time.time()
                )
            )

    def _exposes(self, client: Client, details: Details) -> bool:
        flag = client.snapshot.flags.get(details.flag_key)
        return (
            flag is not None
            and flag.track_exposure
            and details.error_code is None
            and details.reason is not Reason.OVERRIDE
            and details.variant is not None
        )

    def _add_exposure(self, event: ExposureEvent) -> None:
        with self._lock:
            self._exposures.append(event)

    # -- reading ------------------------------------------------------------------

    def evaluations(self, flag_key: str | None = None) -> list[Evaluation]:
        """Return the evaluations recorded so far, of one flag or of all."""
        with self._lock:
            return [e for e in self._evaluations if flag_key in (None, e.flag_key)]

    def exposures(self, flag_key: str | None = None) -> list[ExposureEvent]:
        """Return the exposure events recorded so far, of one flag or of all."""
        with self._lock:
            return [e for e in self._exposures if flag_key in (None, e.flag_key)]

    def variants(self, flag_key: str) -> list[str | None]:
        """Return the variants served for ``flag_key``, in order."""
        return [e.variant for e in self.evaluations(flag_key)]

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self._evaluations.clear()
            self._exposures.clear()

    def describe(self, flag_key: str | None = None) -> str:
        """Return the recorded evaluations as indented lines (for failure messages)."""
        lines = [f"  {e.describe()}" for e in self.evaluations(flag_key)]
        return "\n".join(lines) or "  (none)"

    # -- assertions ---------------------------------------------------------------

    def assert_evaluated(
        self,
        flag_key: str,
        *,
        times: int | None = None,
        variant: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[Evaluation]:
        """Assert ``flag_key`` was evaluated (``times`` times, serving ``variant``).

        ``context`` matches evaluations whose context contains those items.
        Return the matching evaluations.
        """
        matching = [
            e
            for e in self.evaluations(flag_key)
            if (variant is None or e.variant == variant)
            and (context is None or _contains(e.context, context))
        ]
        self._check_count(
            "evaluated",
            flag_key,
            found=len(matching),
            times=times,
            wanted=_wanted(variant, context),
        )
        return matching

    def assert_not_evaluated(self, flag_key: str) -> None:
        """Assert ``flag_key`` was never evaluated."""
        if self.evaluations(flag_key):
            raise AssertionError(
                f"flag {flag_key!r} was evaluated, expected never:\n{self.describe(flag_key)}"
            )

    def assert_exposed(
        self,
        flag_key: str,
        *,
        variant: str | None = None,
        key: str | None = None,
        times: int | None = None,
    ) -> list[ExposureEvent]:
        """Assert an exposure of ``flag_key`` (to ``variant``, for targeting ``key``) happened."""
        matching = [
            e
            for e in self.exposures(flag_key)
            if (variant is None or e.variant == variant) and (key is None or e.targeting_key == key)
        ]
        if _miscounted(len(matching), times):
            seen = "\n".join(
                f"  {e.flag_key} -> variant {e.variant!r} for key {e.targeting_key!r} ({e.reason})"
                for e in self.exposures(flag_key)
            )
            wanted = _wanted(variant, None if key is None else {"targetingKey": key})
            recorded = f"Recorded exposures of {flag_key!r}:\n{seen or '  (none)'}\n"
            self._check_count(
                "exposed",
                flag_key,
                found=len(matching),
                times=times,
                wanted=wanted,
                recorded=recorded,
            )
        return matching

    def _check_count(
        self,
        verb: str,
        flag_key: str,
        *,
        found: int,
        times: int | None,
        wanted: str,
        recorded: str = "",
    ) -> None:
        """Raise AssertionError naming the flag, the filter and what was recorded."""
        if _miscounted(found, times):
            raise AssertionError(
                f"flag {flag_key!r} was {verb} {found} time(s){wanted}; "
                f"expected {'at least once' if times is None else times}. {recorded}"
                f"Recorded evaluations of {flag_key!r}:\n{self.describe(flag_key)}"
            )

    def assert_not_exposed(self, flag_key: str) -> None:
        """Assert no exposure event of ``flag_key`` happened."""
        if self.exposures(flag_key):
            events = ", ".join(
                f"{e.variant!r} to {e.targeting_key!r}" for e in self.exposures(flag_key)
            )
            raise AssertionError(f"flag {flag_key!r} was exposed, expected never: {events}")


def _miscounted(found: int, times: int | None) -> bool:
    """Return True when ``found`` matches fall short of ``times`` (None: at least one)."""
    return found == 0 if times is None else found != times


def _contains(context: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(k in context and context[k] == v for k, v in wanted.items())


def _wanted(variant: str | None, context: Mapping[str, Any] | None) -> str:
    parts = []
    if variant is not None:
        parts.append(f"with variant {variant!r}")
    if context is not None:
        parts.append(f"for context {dict(context)!r}")
    return (" " + " ".join(parts)) if parts else ""


def record(client: Client) -> Recorder:
    """Return a recorder of ``client``'s evaluations and exposures; use it with ``with``."""
    return Recorder(client)
