"""JavaScript value semantics, as JSON Logic (json-logic-js) inherits them.

Truthiness (plus ``[]`` is falsy), ``String()``, ``Number()``,
``parseFloat``, loose ``==`` with type coercion, strict ``===``, ordering,
arithmetic, and ``var`` path lookup: what the JSON Logic reference
implementation (https://jsonlogic.com/operations.html) does with JSON
values, which flagd's evaluators follow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from flagkit._core.values import plain

__all__ = [
    "MAX_EXACT_INTEGER",
    "NAN",
    "is_array",
    "is_nan",
    "is_number",
    "js_divide",
    "js_less",
    "js_number",
    "js_remainder",
    "js_string",
    "js_subtract",
    "lookup",
    "loose_equals",
    "missing_keys",
    "number_string",
    "parse_float",
    "strict_equals",
    "to_integer",
    "to_primitive",
    "truthy",
]

#: Integers above 2**53 have no exact double; arithmetic results beyond it
#: become floats, as every JSON Logic number is a double in JavaScript.
MAX_EXACT_INTEGER: Final = 2**53


def truthy(value: Any) -> bool:
    """Return JSON Logic truthiness: JavaScript's, except that ``[]`` is falsy."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value != 0 and not is_nan(value)  # NaN and 0 are falsy
    if isinstance(value, (str, list, tuple)):
        return len(value) > 0
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_array(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def number_string(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    # JavaScript writes exponents without zero padding: 1e-07 -> 1e-7.
    return text.replace("e-0", "e-").replace("e+0", "e+")


def js_string(value: Any) -> str:
    """Return JavaScript's ``String(value)`` for a JSON-like value."""
    value = plain(value)
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_string(value)
    if is_array(value):
        # Array.prototype.join writes null (and undefined) as "".
        return ",".join("" if item is None else js_string(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


# ASCII digits only, as JavaScript reads numbers: Python's \d (and float(),
# int()) would also accept other scripts' digits ("\u0661" is not 1 in JS).
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", re.ASCII)
NAN = float("nan")


def to_primitive(value: Any) -> Any:
    if is_array(value) or isinstance(value, Mapping):
        return js_string(value)
    return value


def js_number(value: Any) -> float | int:
    """Return JavaScript's ``Number(value)``; integers stay Python ints."""
    value = plain(value)
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, (int, float)):
        return value
    value = to_primitive(value)
    if not isinstance(value, str):
        return NAN
    text = value.strip()
    if not text:
        return 0
    if _DECIMAL.fullmatch(text):
        number = float(text)
        return int(text) if text.lstrip("+-").isdigit() else number
    if _RADIX.fullmatch(text):
        return int(text, 0)
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    return NAN


def parse_float(value: Any) -> float | int:
    """Return JavaScript's ``parseFloat(value)`` (``+`` and ``*`` use it)."""
    if is_number(value):
        return value  # type: ignore[no-any-return]
    match = _FLOAT_PREFIX.match(js_string(value).lstrip())
    if match is None:
        return NAN
    text = match.group()
    if text.lstrip("+-") == "Infinity":
        return -math.inf if text.startswith("-") else math.inf
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def to_integer(value: Any) -> int:
    number = js_number(value)
    if is_nan(number):
        return 0
    if math.isinf(number):
        return 1 << 53 if number > 0 else -(1 << 53)
    return int(number)


def loose_equals(left: Any, right: Any) -> bool:
    """Return JavaScript's ``left == right`` for JSON-like values."""
    left, right = plain(left), plain(right)
    if left is None or right is None:
        return left is None and right is None
    left_object = is_array(left) or isinstance(left, Mapping)
    right_object = is_array(right) or isinstance(right, Mapping)
    if left_object and right_object:
        return left is right
    left, right = to_primitive(left), to_primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    return bool(js_number(left) == js_number(right))


def strict_equals(left: Any, right: Any) -> bool:
    """Return JavaScript's ``left === right`` for JSON-like values.

    Both sides are read as plain values first, so a subclass whose ``__eq__``
    always answers True equals only what its value equals.
    """
    left, right = plain(left), plain(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if left is None or right is None:
        return left is right
    return left is right


def js_less(left: Any, right: Any, *, or_equal: bool) -> bool:
    left, right = to_primitive(plain(left)), to_primitive(plain(right))
    if isinstance(left, str) and isinstance(right, str):
        return left <= right if or_equal else left < right
    x, y = js_number(left), js_number(right)
    return bool(x <= y) if or_equal else bool(x < y)


def js_divide(left: Any, right: Any) -> float:
    x, y = js_number(left), js_number(right)
    if y == 0:
        if x == 0 or is_nan(x):
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def js_remainder(left: Any, right: Any) -> float | int:
    x, y = js_number(left), js_number(right)
    if y == 0 or is_nan(x) or is_nan(y) or math.isinf(x):
        return NAN
    if isinstance(x, int) and isinstance(y, int):
        # JavaScript's % takes the sign of the dividend (unlike Python's).
        rest = abs(x) % abs(y)
        return rest if x >= 0 else -rest
    return math.fmod(x, y)


def js_subtract(left: Any, right: Any) -> float | int:
    return js_number(left) - js_number(right)


def lookup(data: Any, path: Any, default: Any) -> Any:
    """Resolve a ``var`` path (dotted string or number) against ``data``.

    What it finds is returned as a plain value (``values.plain``): context
    data enters a rule here, so no operator ever sees a subclass's own
    methods (a ``__eq__`` that always answers True, a lying ``__len__``).
    """
    if path is None or path == "" or (is_array(path) and not path):
        return plain(data)
    current = data
    for part in js_string(path).split("."):
        if isinstance(current, Mapping):
            current = plain(current.get(part))
        elif is_array(current) and part.isascii() and part.isdigit() and int(part) < len(current):
            current = plain(current[int(part)])
        else:
            return default
        if current is None:
            return default
    return current


def missing_keys(data: Any, keys: Sequence[Any]) -> list[Any]:
    return [key for key in keys if lookup(data, key, None) in (None, "")]
