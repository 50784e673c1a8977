"""The native format's vocabulary, without pydantic: operators and variant value bounds.

The pydantic models (``model``) and the C-decoded shapes (``shapes``) both
use these, and the fast load path imports only this module, not pydantic
(which a process then loads only when a document needs the models).
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

__all__ = ["MAX_VARIANT_DEPTH", "OPERATORS", "Operator", "check_variant_value"]

Operator = Literal[
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "lt",
    "lte",
    "gt",
    "gte",
    "semver_eq",
    "semver_lt",
    "semver_lte",
    "semver_gt",
    "semver_gte",
    "before",
    "after",
    "exists",
    "in_segment",
]
OPERATORS: tuple[str, ...] = get_args(Operator)


#: Bounds on variant values: 64-bit integers, finite floats, objects nested
#: at most this deep (values are copied for every caller, recursively).
MAX_VARIANT_DEPTH = 32
_INT_LIMIT = 2**63


def check_variant_value(value: Any) -> Any:
    """Return a variant value if it is a bounded boolean, string, number or JSON object."""
    if isinstance(value, str | bool | int | float):
        _check_number(value)
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        _check_json(value)
        return value
    raise ValueError("must be a boolean, string, number or JSON object")


def _check_number(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -_INT_LIMIT <= value < _INT_LIMIT:
        raise ValueError("integers must fit in 64 bits")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")


def _check_json(value: Any) -> None:
    """Check a JSON object iteratively: bounded depth, bounded numbers, string keys."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_VARIANT_DEPTH:
            raise ValueError(f"objects may nest at most {MAX_VARIANT_DEPTH} levels deep")
        if isinstance(node, dict):
            if not all(isinstance(k, str) for k in node):
                raise ValueError("object keys must be strings")
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, int | float):
            _check_number(node)
        elif node is not None and not isinstance(node, str):
            raise ValueError(f"{type(node).__name__} is not a JSON value")
