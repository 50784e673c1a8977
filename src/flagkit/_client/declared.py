"""Declared flags: a key, its type and its default, written once.

``Flag("checkout-canary", default=False)`` is a typed handle: ``flag.get(ctx)``
returns a ``bool`` (type checkers see ``Flag[bool]``), ``flag.details(ctx)``
the full ``Details``. A typo then happens once, in the declaration, where
``flagkit lint --code`` and the pytest plugin's check compare declarations
with the flag file; ``flagkit generate`` writes the declarations of a file.

The getter follows the default's type: ``bool``, ``str``, ``int``,
``float``, a ``dict`` (JSON object), or a ``str`` enum, whose members are
the flag's variant values (``flagkit generate`` writes one per string flag):
a value the enum does not know serves the default, with reason ERROR
(``TYPE_MISMATCH``), so the code never sees a string it did not declare.

A flag uses the client it is bound to (``client=`` or ``bind``), else the
default client (``flagkit.set_default_client``). With neither, it serves
its default with reason ERROR (``PROVIDER_NOT_READY``): evaluation never
raises, here as anywhere.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flagkit._client.errorlog import ErrorLog
from flagkit._core.details import Details, ErrorCode, Reason
from flagkit._types import ContextLike

if TYPE_CHECKING:
    from flagkit._client.client import Client

__all__ = ["Flag", "default_client", "set_default_client"]

logger = logging.getLogger("flagkit")

T = TypeVar("T")

_default: Client | None = None
_NO_CLIENT = "no client: bind the flag (client=, bind) or call flagkit.set_default_client()"
_unbound = ErrorLog()  # says once per flag that it has no client to ask


def set_default_client(client: Client | None) -> None:
    """Make ``client`` the one unbound declared flags use (None: no default client)."""
    global _default
    _default = client


def default_client() -> Client | None:
    """Return the client unbound declared flags use, if one was set."""
    return _default


def _getter_name(default: object) -> str:
    """Return the typed getter a default's type calls for (bool before int: it is one)."""
    if isinstance(default, bool):
        return "get_bool"
    if isinstance(default, str):
        return "get_str"
    if isinstance(default, int):
        return "get_int"
    if isinstance(default, float):
        return "get_float"
    if isinstance(default, dict):
        return "get_object"
    raise TypeError(
        f"a flag's default must be a bool, str, int, float, dict or str enum, "
        f"not {type(default).__name__}"
    )


class Flag(Generic[T]):
    """A declared flag: its key, its type (the default's) and its default."""

    __slots__ = ("_enum", "_getter", "client", "default", "description", "key")

    def __init__(
        self,
        key: str,
        *,
        default: T,
        client: Client | None = None,
        description: str | None = None,
    ) -> None:
        self.key = key
        self.default = default
        self.client = client
        self.description = description
        self._getter = _getter_name(default)
        self._enum: type[enum.Enum] | None = (
            type(default) if isinstance(default, enum.Enum) else None
        )

    def bind(self, client: Client) -> Flag[T]:
        """Return this declaration bound to ``client``."""
        return Flag(self.key, default=self.default, client=client, description=self.description)

    def _client(self) -> Client | None:
        return self.client if self.client is not None else _default

    def get(self, context: ContextLike | None = None) -> T:
        """Return the flag's value for ``context``, or the default on any problem."""
        client = self._client()
        if client is None:
            _unbound.report(self.key, ErrorCode.PROVIDER_NOT_READY, _NO_CLIENT)
            return self.default
        value = getattr(client, self._getter)(self.key, self._raw_default(), context)
        typed = self._typed(value)
        if typed is self.default and self._enum is not None and value != self._raw_default():
            client._resolved_with_error(
                self.key,
                ErrorCode.TYPE_MISMATCH,
                f"{value!r} is not a value of {self._enum.__name__}",
            )
        return typed

    def details(self, context: ContextLike | None = None) -> Details:
        """Return the full details of evaluating the flag for ``context``."""
        client = self._client()
        if client is None:
            _unbound.report(self.key, ErrorCode.PROVIDER_NOT_READY, _NO_CLIENT)
            return Details(
                self.key, self.default, None, Reason.ERROR, ErrorCode.PROVIDER_NOT_READY, _NO_CLIENT
            )
        details: Details = getattr(client, f"{self._getter}_details")(
            self.key, self._raw_default(), context
        )
        if self._enum is None or details.error_code is not None:
            return details if details.error_code is None else _with_value(details, self.default)
        typed = self._typed(details.value)
        if typed is self.default and details.value != self._raw_default():
            return Details(
                self.key,
                self.default,
                None,
                Reason.ERROR,
                ErrorCode.TYPE_MISMATCH,
                f"{details.value!r} is not a value of {self._enum.__name__}",
            )
        return _with_value(details, typed)

    def _raw_default(self) -> Any:
        return self.default.value if isinstance(self.default, enum.Enum) else self.default

    def _typed(self, value: Any) -> T:
        """Return ``value`` as the declared enum's member (the default if it is none)."""
        if self._enum is None:
            return value  # type: ignore[no-any-return]
        try:
            member: T = self._enum(value)  # type: ignore[assignment]
        except ValueError:
            return self.default
        return member

    def __repr__(self) -> str:
        return f"Flag({self.key!r}, default={self.default!r})"


def _with_value(details: Details, value: Any) -> Details:
    return Details(
        details.flag_key,
        value,
        details.variant,
        details.reason,
        details.error_code,
        details.error_message,
        details.rule,
        details.bucket,
    )
