"""Resolve flagd flags the way users do, through the Client, for the format tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from flagkit import Client, Details

ExpectedType = Literal["boolean", "string", "integer", "float", "object"]

_GETTERS: dict[ExpectedType | None, str] = {
    None: "get_details",
    "boolean": "get_bool_details",
    "string": "get_str_details",
    "integer": "get_int_details",
    "float": "get_float_details",
    "object": "get_object_details",
}


class Resolved(NamedTuple):
    """What a flagd provider reports: value, variant, reason and error code."""

    value: Any
    variant: str | None
    reason: str
    error_code: str | None = None


def resolved(details: Details) -> Resolved:
    """Return the flagd-comparable part of ``details``."""
    code = None if details.error_code is None else details.error_code.value
    return Resolved(details.value, details.variant, details.reason.value, code)


def flagd_client(document: Mapping[str, Any], **options: Any) -> Client:
    """Return a client over a flagd document held in memory."""
    return Client.from_dict(document, format="flagd", **options)


def resolve(
    client: Client,
    key: str,
    context: Mapping[str, Any] | None = None,
    *,
    default: Any = "DEFAULT",
    expected: ExpectedType | None = None,
) -> Resolved:
    """Resolve ``key`` through the typed details getter for ``expected`` (any type if None)."""
    details: Details = getattr(client, _GETTERS[expected])(key, default, dict(context or {}))
    return resolved(details)
