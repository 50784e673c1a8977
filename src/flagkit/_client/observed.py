"""The observed evaluation: every evaluation that is not the fast path, defined once.

``Client``'s typed getters run a fast path when nothing observes them
(``client.py``). Everything else goes through :func:`evaluate`: details,
``variant_of``, ``all_flags``, and getters while hooks, exposure events, a
client context or overrides are active. One function, in this order:

1. **guard**: any exception (a hostile context, key or hook target) becomes
   the caller's default with reason ERROR (GENERAL, naming the exception);
   a key that is no string at all is FLAG_NOT_FOUND, and a key is reported
   (details, hooks, counters) as an exact string;
2. **context**: the call's (or the scoped) context over the client's; not a
   mapping is INVALID_CONTEXT;
3. **before hooks**, which may add context;
4. **resolve**: an override, else the flag (FLAG_NOT_FOUND), else its
   evaluator's outcome, type-checked on the value it serves (``served``:
   TYPE_MISMATCH, or an integral float as an int);
5. **record**: counters and exposure events (``record=False`` for bulk reads);
6. **convert and copy**: numbers to float for a float getter, and JSON
   objects deep-copied, so no caller can mutate the shared snapshot;
7. **after hooks** (``after`` or ``error``, then ``finally_after``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flagkit._client.context import EMPTY_CONTEXT
from flagkit._client.counters import label_of, shown_key
from flagkit._client.hooks import HookContext, run_after_hooks, run_before_hooks
from flagkit._core.details import Details, ErrorCode, Reason
from flagkit._core.served import fits, served_as
from flagkit._core.snapshot import (
    NO_VALUE,
    CompiledFlag,
    Outcome,
    Resolution,
    Snapshot,
    ValueType,
)
from flagkit._core.values import plain
from flagkit._errors import describe

if TYPE_CHECKING:
    from flagkit._client.client import Client
    from flagkit._client.exposure import ExposureLog

__all__ = ["convert", "copy_json", "error_details", "evaluate", "read_all"]

logger = logging.getLogger("flagkit")

_MESSAGES = {
    ErrorCode.FLAG_NOT_FOUND: "no such flag",
    ErrorCode.INVALID_CONTEXT: "the context is not a mapping",
}


def copy_json(value: Any) -> Any:
    """Return a deep copy of JSON data, so a caller cannot mutate the snapshot.

    Containers are read through ``dict``'s and ``list``'s own methods (a
    subclass's ``items`` or ``__iter__`` does not run); data nested past the
    interpreter's recursion limit raises RecursionError (the guard's GENERAL).
    """
    kind = type(value)
    if kind is dict or issubclass(kind, dict):
        return {k: copy_json(v) for k, v in dict.items(value)}
    if kind is list or issubclass(kind, list):
        return [copy_json(v) for v in list.copy(value)]
    return value


def convert(value: Any, value_type: ValueType | None) -> Any:
    """Return a served value as the caller receives it: float for a float getter, objects copied."""
    if value_type == "float":
        return float(value)  # a flag's int or float, or a plain forced one: see _forced
    return copy_json(value) if type(value) is dict else value


def evaluate(
    client: Client,
    flag_key: str,
    default: Any,
    context: Mapping[str, Any] | None,
    value_type: ValueType | None,
    *,
    details: bool,
    snapshot: Snapshot | None = None,
    record: bool = True,
    prepared: tuple[Mapping[str, Any] | None, str | None] | None = None,
) -> Any:
    """Evaluate with everything observing it; return Details, or just the value.

    ``snapshot`` pins the generation (``all_flags`` reads every flag from
    one); ``record=False`` skips hooks, counters and exposure events;
    ``prepared`` is ``client._context_for(context)`` already computed.
    """
    key = flag_key  # the key as reported: an exact str, whatever the caller passed
    try:
        if type(key) is not str:
            key = label_of(flag_key)
        if client._deferred:  # a source waiting for first use: this is it
            client._activate()
        fail = client._fail if record else error_details
        ctx, unusable = client._context_for(context) if prepared is None else prepared
        hooks = client._hooks if record else ()
        hook_context: HookContext | None = None
        if hooks:
            hook_context = HookContext(
                key, value_type, default, EMPTY_CONTEXT if ctx is None else ctx, client.name
            )
            ctx, hook_context = run_before_hooks(hooks, hook_context, ctx)
        if ctx is None:
            result: Details | Outcome = fail(key, default, ErrorCode.INVALID_CONTEXT, unusable)
        elif not issubclass(type(flag_key), str):
            message = f"a flag key is a string, not {type(flag_key).__name__}"
            result = fail(key, default, ErrorCode.FLAG_NOT_FOUND, message)
        else:
            current = client._snapshot if snapshot is None else snapshot
            result = _resolve(client, current, key, flag_key, default, ctx, value_type, record)
        if hook_context is None and not details:
            if isinstance(result, Details):
                return result.value
            value = result[0].value
            return default if value is NO_VALUE else convert(value, value_type)
        full = _details(result, key, default, value_type)
        if hook_context is not None:
            run_after_hooks(hooks, hook_context, full)
        return full if details else full.value
    except Exception as exc:  # the one guard of the observed path: never raise
        return _failed(client, key, default, describe(exc), details=details)


def read_all(
    client: Client,
    keys: Iterable[str],
    context: Mapping[str, Any] | None,
    snapshot: Snapshot,
    prepared: tuple[Mapping[str, Any] | None, str | None] | None,
) -> Iterator[tuple[str, Details]]:
    """Yield each key's Details from one snapshot, unrecorded (a bulk read, not a use).

    ``prepared`` is the context merged once for all of them (see ``evaluate``).
    """
    for key in keys:
        details: Details = evaluate(
            client,
            key,
            None,
            context,
            None,
            details=True,
            snapshot=snapshot,
            record=False,
            prepared=prepared,
        )
        yield key, details


def _failed(client: Client, key: object, default: Any, message: str, *, details: bool) -> Any:
    """Return the default, or its Details, for an evaluation that raised (counted once)."""
    label = key if type(key) is str else label_of(key)
    try:
        failed = client._fail(label, default, ErrorCode.GENERAL, message)
    except Exception:  # counting must not turn into a failure of its own
        logger.debug("flagkit: counting a failed evaluation failed", exc_info=True)
        failed = error_details(label, default, ErrorCode.GENERAL, message)
    return failed if details else default


def _resolve(  # noqa: PLR0917 - the pipeline's one internal step
    client: Client,
    snapshot: Snapshot,
    flag_key: str,
    lookup: Any,
    default: Any,
    ctx: Mapping[str, Any],
    value_type: ValueType | None,
    record: bool,
) -> Details | Outcome:
    """Return an override's or an error's Details, or the flag's outcome (recorded).

    ``lookup`` is the key as the caller passed it: it names a flag by its own
    hash and equality, as in any dict, and as the fast path looks it up, so
    both paths agree on which flag a str subclass names. ``flag_key`` is its
    exact string, for everything reported.
    """
    fail = client._fail if record else error_details
    flag = snapshot.flags.get(lookup)
    overrides = client._overrides
    if overrides.any_active():
        found, forced = overrides.lookup(lookup)
        if found:
            return _forced(client, flag_key, flag, forced, default, value_type)
    if flag is None:
        return fail(flag_key, default, ErrorCode.FLAG_NOT_FOUND)
    outcome = flag.evaluate(ctx)
    if value_type is not None:  # the type check follows the served value (``served``)
        served = served_as(outcome[0], value_type)
        if served is not outcome[0]:
            outcome = (served, outcome[1] if served.has_value else None)
    if record:
        resolution = outcome[0]
        if resolution.error_code is not None:
            client._resolved_with_error(flag_key, resolution.error_code, resolution.error_message)
        counters = client._counters
        if counters is not None:
            counters.add(resolution)
        exposures = client._exposures
        if exposures is not None and flag.track_exposure and resolution.has_value:
            _expose(exposures, flag_key, resolution, ctx)
    return outcome


def _expose(exposures: ExposureLog, flag_key: str, resolution: Resolution, ctx: Any) -> None:
    """Record an exposure; a context that cannot be read, or a full log, changes no result."""
    try:
        target = ctx.get("targetingKey")
        exposures.record(flag_key, resolution.variant, target, resolution.reason.value)
    except Exception:
        logger.debug(
            "flagkit: recording an exposure of %r failed", shown_key(flag_key), exc_info=True
        )


def _details(
    result: Details | Outcome, flag_key: str, default: Any, value_type: ValueType | None
) -> Details:
    if isinstance(result, Details):
        return result
    resolution, bucket = result
    details = resolution.with_bucket(bucket, default)
    if not resolution.has_value or (value_type != "float" and type(details.value) is not dict):
        return details
    value = convert(details.value, value_type)
    return Details(
        flag_key,
        value,
        details.variant,
        details.reason,
        rule=details.rule,
        bucket=bucket,
        payload=details.payload,
    )


def _forced(  # noqa: PLR0917 - the pipeline's one internal step
    client: Client,
    flag_key: str,
    flag: CompiledFlag | None,
    forced: Any,
    default: Any,
    value_type: ValueType | None,
) -> Details:
    """Return the Details of a forced variant name or value (TYPE_MISMATCH if it does not fit).

    The forced value is read as the plain built-in it is made of, like a
    context value (``values.plain``).
    """
    variant: str | None = None
    value = plain(forced)
    if flag is not None and type(value) is str and value in flag.variants:
        variant, value = value, flag.variants[value]
    elif flag is not None:
        variant = next(
            (name for name, v in flag.variants.items() if type(v) is type(value) and v == value),
            None,
        )
    if value_type is not None and not fits(value, value_type):
        message = f"override of type {type(forced).__name__} is not a {value_type}"
        return client._fail(flag_key, default, ErrorCode.TYPE_MISMATCH, message)
    return Details(flag_key, convert(value, value_type), variant, Reason.OVERRIDE, rule="override")


def error_details(
    flag_key: str, default: Any, code: ErrorCode, message: str | None = None
) -> Details:
    """Return the Details of an evaluation that failed with ``code``: the caller's default."""
    text = message or _MESSAGES.get(code, code.value)
    return Details(flag_key, default, None, Reason.ERROR, code, text)
