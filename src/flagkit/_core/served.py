"""The type check on the served value: what a typed getter makes of a resolution.

flagd checks the type of the value it serves, not a type declared for the
flag (flagd ``core/pkg/evaluator/json.go``, ``resolve``), and flagkit does the
same for every format:

- a resolution with no value (``DISABLED``, ``DEFAULT`` with no default
  variant, any ``ERROR``) serves the caller's default with its own reason and
  error code, whichever getter asked;
- a value of the getter's type is served; ints are numbers, so a float
  getter serves them as floats;
- a float with no fractional part, read as an integer, is served as that
  integer (JSON, and flagd, do not tell ``1`` from ``1.0``);
- anything else is ``ERROR``/``TYPE_MISMATCH`` with the caller's default
  (an integer getter never truncates ``1.5``).

The client's fast path gets this rule for free from ``Snapshot.evaluators``:
each per-type table holds only entries whose every outcome the getter serves
unchanged (flags of the getter's type, and constants with no value), and
the int table a view of each float flag with an integral variant
(:func:`integer_view`). Any other read can only serve the caller's default,
which the fast path returns at once; with counters on, it takes the observed
path, which applies :func:`served_as` and counts the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagkit._core.details import ErrorCode, Reason

if TYPE_CHECKING:
    from flagkit._core.snapshot import CompiledFlag, Evaluator, Outcome, Resolution, ValueType
    from flagkit._types import ContextLike

__all__ = ["fits", "integer_view", "served_as"]


def fits(value: Any, value_type: ValueType) -> bool:
    """Return True when ``value`` is of ``value_type`` (ints count as floats, bools as neither).

    The class is read with ``type()``: an object whose ``__class__`` claims
    to be a ``str`` (which fools ``isinstance``) is not one.
    """
    kind = type(value)
    if value_type == "bool":
        return kind is bool
    if value_type == "str":
        return issubclass(kind, str)
    if value_type == "int":
        return issubclass(kind, int) and kind is not bool
    if value_type == "float":
        return issubclass(kind, int | float) and kind is not bool
    return issubclass(kind, dict)


def _type_name(value: Any) -> str:
    kind = type(value)
    if kind is bool:
        return "bool"
    if issubclass(kind, int):
        return "int"
    if issubclass(kind, float):
        return "float"
    if issubclass(kind, str):
        return "str"
    return "object"


def served_as(resolution: Resolution, value_type: ValueType | None) -> Resolution:
    """Return what a ``value_type`` getter serves of ``resolution`` (see the module docstring).

    Returns ``resolution`` itself when it serves unchanged; otherwise a new
    resolution (an integral float as an int, or ERROR/TYPE_MISMATCH).
    """
    if value_type is None or not resolution.has_value:
        return resolution
    value = resolution.value
    if fits(value, value_type):
        return resolution
    from flagkit._core.snapshot import Resolution

    if value_type == "int" and type(value) is float and value.is_integer():
        return Resolution(
            resolution.flag_key,
            value=int(value),
            variant=resolution.variant,
            reason=resolution.reason,
            rule=resolution.rule,
        )
    return Resolution(
        resolution.flag_key,
        reason=Reason.ERROR,
        error_code=ErrorCode.TYPE_MISMATCH,
        error_message=f"flag served {_type_name(value)}, asked for {value_type}",
        has_value=False,
    )


def integer_view(flag: CompiledFlag) -> Evaluator | Resolution | None:
    """Return the int table's entry for a float flag with an integral variant, else None.

    ``1.0`` read as an integer serves ``1`` (:func:`served_as`); a float flag
    none of whose variants is integral never serves an integer, and stays
    out of the table (its reads take the observed path).
    """
    if flag.value_type != "float" or not any(
        type(value) is float and value.is_integer() for value in flag.variants.values()
    ):
        return None
    constant = flag.constant
    if constant is not None:
        return served_as(constant, "int")
    evaluate = flag.evaluate_fast
    # One int resolution per float resolution served (prebuilt, so few);
    # a race computes two equal ones.
    seen: dict[Resolution, Resolution] = {}

    def evaluate_as_int(ctx: ContextLike) -> Outcome:
        resolution, bucket = evaluate(ctx)
        served = seen.get(resolution)
        if served is None:
            served = served_as(resolution, "int")
            if served is not resolution and served.has_value:
                seen[resolution] = served
        return served, bucket

    return evaluate_as_int
