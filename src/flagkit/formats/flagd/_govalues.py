"""Go flagd's value semantics: what its JSON Logic engine does with JSON values.

flagd (the Go server, ``core/pkg/evaluator``) evaluates targeting with
``github.com/diegoholiveira/jsonlogic/v3`` (v3.9.1), whose value rules differ
from the JavaScript reference implementation in many small ways. This module
ports them, function by function, from that library's ``internal/typing``
and ``internal/javascript`` packages and ``comp.go``:

- truthiness (``typing.IsTrue``): false, 0, "", [], {} and null are falsy,
  and NaN is *truthy* (``NaN != 0``);
- two number conversions: a lenient one for comparisons
  (``javascript.ToNumber``: null is 0, booleans 1/0, unparsable text NaN)
  and a strict one for arithmetic (``typing.ToNumber``: text that does not
  parse is 0, and anything but numbers and text is a Go panic);
- ``typing.ToString``: numbers in plain decimal (``1e21`` is
  ``1000000000000000000000``), null is "", anything else but text panics;
- ``==`` compares text as text and everything else as numbers, null equal
  only to null; ``<`` compares text by code point and everything else as
  numbers.

A Go panic (a failed type assertion, an index out of range) makes flagd's
whole evaluation fail with ``PARSE_ERROR``; it is raised here as
:class:`GoPanic`. Everything is a float64 in Go: Python ints are converted
where Go would compute.

Go has no subclasses: a value is what it is made of. A context may hold
instances of subclasses of ``str``, ``int``, ``float``, ``list``, ``tuple`` or
``dict`` (a ``StrEnum``, or a hostile class whose ``__eq__`` always answers
True, whose ``__len__`` lies, whose ``__float__`` raises), so every function
here reads a value by its real type (``type()``, which a ``__class__``
property cannot fake) and by its value (``values.plain``): no method of the
caller's class ever runs, and a subclass answers exactly as its value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from flagkit._core.values import PLAIN_TYPES, plain

__all__ = [
    "GoPanic",
    "equals",
    "format_f",
    "format_v",
    "go_int",
    "hard_equals",
    "interface_equals",
    "is_array",
    "is_map",
    "is_number",
    "is_primitive",
    "is_true",
    "js_number",
    "json_text",
    "key_text",
    "less",
    "parse_float",
    "to_number",
    "to_string",
    "trim_space",
]


class GoPanic(Exception):
    """What the Go engine would panic on; flagd then answers ERROR/PARSE_ERROR."""


def is_number(value: Any) -> bool:
    """Return True for a JSON number (Go ``typing.IsNumber``: int or float64)."""
    kind = type(value)
    return kind is float or kind is int or (issubclass(kind, int | float) and kind is not bool)


def is_array(value: Any) -> bool:
    """Return True for a JSON array (Go ``[]any``)."""
    kind = type(value)
    return kind is list or issubclass(kind, list | tuple)


def is_map(value: Any) -> bool:
    """Return True for a JSON object (Go ``map[string]any``)."""
    kind = type(value)
    return kind is dict or issubclass(kind, Mapping)


def is_primitive(value: Any) -> bool:
    """Return True for a boolean, text or number (Go ``typing.IsPrimitive``; null is not)."""
    return issubclass(type(value), bool | str) or is_number(value)


def is_true(value: Any) -> bool:
    """Return Go jsonlogic's truthiness (``typing.IsTrue``): NaN is truthy."""
    if value is True or value is False:
        return value
    value = plain(value)
    kind = type(value)
    if kind is int or kind is float:
        return value != 0 or math.isnan(value)
    if kind is str or kind is list or kind is tuple or is_map(value):
        return len(value) > 0
    return False


_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX: Final = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_INF: Final = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)


def parse_float(text: str) -> float | None:
    """Return Go's ``strconv.ParseFloat(text, 64)``, or None on a syntax error.

    Out-of-range values are ±Inf (Go reports ErrRange but returns them, and
    both callers keep the value). No surrounding space is allowed.
    """
    if _DECIMAL.fullmatch(text):
        return float(text)
    if _HEX.fullmatch(text):
        return float.fromhex(text)
    if _INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if text.lower() == "nan":
        return math.nan
    return None


def _float(number: Any) -> float:
    try:
        return float(number)
    except OverflowError as exc:  # a JSON number no float64 holds: Go cannot decode it
        raise GoPanic(f"number out of range: {exc}") from exc


def to_number(value: Any) -> float:
    """Return ``typing.ToNumber``: text parses (0 if it cannot), numbers convert, else panic."""
    if type(value) not in PLAIN_TYPES:
        value = plain(value)
    if type(value) is str:
        number = parse_float(value)
        return 0.0 if number is None else number
    if is_number(value):
        return _float(value)
    raise GoPanic(f"interface conversion: {type(value).__name__} is not float64")


def js_number(value: Any) -> float:
    """Return ``javascript.ToNumber``: null 0, booleans 1/0, text parsed (else NaN), else NaN."""
    if value is None:
        return 0.0
    if type(value) not in PLAIN_TYPES:
        value = plain(value)
    if type(value) is bool:
        return 1.0 if value else 0.0
    if is_number(value):
        return _float(value)
    if type(value) is str:
        if not trim_space(value):
            return 0.0
        number = parse_float(value)
        return math.nan if number is None else number
    return math.nan


def format_f(number: float) -> str:
    """Return Go's ``strconv.FormatFloat(number, 'f', -1, 64)``: shortest digits, no exponent."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    return format(Decimal(repr(number)).normalize(), "f")


def to_string(value: Any) -> str:
    """Return ``typing.ToString``: numbers as ``format_f``, null "", text itself, else panic."""
    value = plain(value)
    if type(value) is str:
        return value
    if is_number(value):
        if type(value) is int and abs(value) <= 2**53:
            return str(value)
        return format_f(_float(value))
    if value is None:
        return ""
    raise GoPanic(f"interface conversion: {type(value).__name__} is not string")


def _exponent_form(number: float, *, json: bool) -> str:
    """Return ``strconv``'s ``'e'`` format with the shortest digits (``1.5e+06``).

    The exponent has at least two digits; ``encoding/json`` then writes a
    small negative one with one digit (``1e-07`` becomes ``1e-7``).
    """
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    power = exponent + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    width = 1 if json and -10 < power < 0 else 2
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):0{width}d}"


def format_v(value: Any) -> str:
    """Return Go's ``fmt.Sprintf("%v", value)`` for a JSON value (flagd's ``sem_ver`` uses it).

    A float64 prints as ``%g`` with the shortest digits, which switches to an
    exponent below 1e-4 and from 1e6 up (``1e+06``).
    """
    value = plain(value)
    if type(value) is str:
        return value
    if value is None:
        return "<nil>"
    if type(value) is bool:
        return "true" if value else "false"
    if is_number(value):
        number = _float(value)
        if not math.isfinite(number) or number == 0:
            return format_f(number)
        power = Decimal(repr(number)).adjusted()
        if power < -4 or power >= 6:
            return _exponent_form(number, json=False)
        return format_f(number)
    return repr(value)


def go_int(number: float) -> int:
    """Return Go's ``int(number)`` on amd64: truncation, and MinInt64 for NaN or out of range."""
    if math.isnan(number) or not -(2.0**63) <= number < 2.0**63:
        return -(2**63)
    return int(number)


#: Go's ``unicode.IsSpace``: Latin-1 space, then the Unicode White_Space property.
_SPACE: Final = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def trim_space(text: str) -> str:
    """Return Go's ``strings.TrimSpace(text)``."""
    return text.strip(_SPACE)


def equals(left: Any, right: Any) -> bool:
    """Return Go jsonlogic's ``equals``: null equals only null, text as text, else as numbers."""
    if left is None or right is None:
        return left is None and right is None
    if issubclass(type(left), str) and issubclass(type(right), str):
        return str.__eq__(left, right) is True
    return js_number(left) == js_number(right)


def less(left: Any, right: Any) -> bool:
    """Return Go jsonlogic's ``less``: text by code point, everything else as numbers."""
    if issubclass(type(left), str) and issubclass(type(right), str):
        return str.__lt__(left, right) is True
    return js_number(right) > js_number(left)


def _kind(value: Any) -> str:
    kind = type(value)
    if kind is bool:
        return "bool"
    if issubclass(kind, str):
        return "string"
    if is_number(value):
        return "float64"
    if is_array(value):
        return "slice"
    if is_map(value):
        return "map"
    return type(value).__name__


def hard_equals(parsed: Any) -> bool:
    """Return ``===`` over its evaluated arguments: same Go kind, then ``equals``."""
    if not is_array(parsed) or len(parsed) < 2:
        return False
    left, right = parsed[0], parsed[1]
    if left is None or right is None:
        return left is None and right is None
    if _kind(left) != _kind(right):
        return False
    return equals(left, right)


def interface_equals(left: Any, right: Any) -> bool:
    """Return Go's ``left == right`` on two ``any`` values (panics on maps and slices)."""
    left, right = plain(left), plain(right)
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind in ("map", "slice"):
        raise GoPanic(f"runtime error: comparing uncomparable type {kind}")
    if kind == "float64":
        return _float(left) == _float(right)
    return bool(left == right) if kind in ("bool", "string") else left is right


def _json_string(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20:
            out.append(_CONTROL.get(char, f"\\u{code:04x}"))
        elif char in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")  # Go strings hold no lone surrogates: invalid UTF-8
        else:
            out.append(char)
    return f'"{"".join(out)}"'


_CONTROL: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def key_text(key: Any) -> str:
    """Return an object key as text: a string by its value, anything else (YAML) as ``str``."""
    key = plain(key)
    return key if type(key) is str else str(key)


def json_text(value: Any) -> str:
    """Return Go ``encoding/json``'s encoding of a JSON value (HTML-escaped, keys sorted).

    Raises :class:`GoPanic` for NaN and infinities, which Go cannot encode.
    """
    value = plain(value)
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is str:
        return _json_string(value)
    if is_number(value):
        if type(value) is int and abs(value) <= 2**53:
            return str(value)
        number = _float(value)
        if not math.isfinite(number):
            raise GoPanic(f"json: unsupported value: {format_f(number)}")
        if number != 0 and not 1e-6 <= abs(number) < 1e21:
            return _exponent_form(number, json=True)
        return format_f(number)
    if is_array(value):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if is_map(value):
        items = sorted(
            ((key_text(k), v) for k, v in value.items()),
            key=lambda item: item[0].encode("utf-8", "replace"),
        )
        return "{" + ",".join(f"{_json_string(k)}:{json_text(v)}" for k, v in items) + "}"
    raise GoPanic(f"json: unsupported type: {type(value).__name__}")
