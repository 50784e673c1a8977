"""What an evaluation returns: the value, and why.

Reason and error-code names are OpenFeature's, so that they mean the same
thing here as in every other SDK and in an OpenFeature provider.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NamedTuple

from flagkit._errors import EvaluationError

__all__ = ["DISABLED_VARIANT", "Details", "ErrorCode", "Reason", "Variant"]


class Reason(enum.StrEnum):
    """Why a value was served (OpenFeature names, plus PREREQUISITE_FAILED and OVERRIDE)."""

    STATIC = "STATIC"
    """The flag has no targeting: its one default variant is served to all."""
    TARGETING_MATCH = "TARGETING_MATCH"
    """A targeting rule matched and served a fixed variant."""
    SPLIT = "SPLIT"
    """A rollout (of a rule or of the default) picked the variant by bucket."""
    DEFAULT = "DEFAULT"
    """The flag has rules, none matched, and the default served a fixed variant."""
    DISABLED = "DISABLED"
    """The flag is turned off: its off variant (or the caller's default) is served."""
    PREREQUISITE_FAILED = "PREREQUISITE_FAILED"
    """A prerequisite flag did not serve a required variant: the off variant is served."""
    OVERRIDE = "OVERRIDE"
    """An override (``Client.override``, the testing helpers) forced the value."""
    ERROR = "ERROR"
    """Something went wrong: the caller's default is served, see ``error_code``."""


class ErrorCode(enum.StrEnum):
    """What went wrong when the reason is ERROR (OpenFeature names)."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    PARSE_ERROR = "PARSE_ERROR"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    PROVIDER_NOT_READY = "PROVIDER_NOT_READY"
    GENERAL = "GENERAL"


@dataclass(frozen=True, slots=True)
class Details:
    """The full result of one evaluation.

    ``rule`` names the targeting rule that matched (its ``name``, or
    ``rules[i]``); ``bucket`` is the user's bucket (0-9999) when a rollout
    decided. On error, ``value`` is the caller's default and ``variant`` is None.
    ``payload`` is what a variant carries besides the value, in formats that
    have one (an Unleash variant's ``{"type": ..., "value": ...}``), else None.
    """

    flag_key: str
    value: Any
    variant: str | None
    reason: Reason
    error_code: ErrorCode | None = None
    error_message: str | None = None
    rule: str | None = None
    bucket: int | None = None
    payload: Any = None

    @property
    def is_error(self) -> bool:
        """Return True when the evaluation resolved with an error."""
        return self.error_code is not None

    def raise_for_error(self) -> Details:
        """Raise ``EvaluationError`` if the evaluation failed; return self otherwise."""
        if self.error_code is not None:
            raise self.as_exception()
        return self

    def as_exception(self) -> EvaluationError:
        """Return the error this evaluation resolved with, as an exception object."""
        code = self.error_code.value if self.error_code is not None else "NONE"
        return EvaluationError(self.flag_key, code, self.error_message or "")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the details."""
        return {
            "flag_key": self.flag_key,
            "value": self.value,
            "variant": self.variant,
            "reason": self.reason.value,
            "error_code": None if self.error_code is None else self.error_code.value,
            "error_message": self.error_message,
            "rule": self.rule,
            "bucket": self.bucket,
            "payload": self.payload,
        }


class Variant(NamedTuple):
    """A flag's variant as Unleash's ``get_variant`` reports it (``Client.get_variant``).

    ``name`` is the variant served (``"disabled"`` when none is), ``enabled``
    whether a variant was served, ``feature_enabled`` whether the flag is on
    for the context, and ``payload`` the variant's payload (an Unleash
    ``{"type": ..., "value": ...}``), or None.
    """

    name: str
    enabled: bool
    feature_enabled: bool
    payload: Any = None

    def to_dict(self) -> dict[str, Any]:
        """Return the dict Unleash's Python SDK returns (no ``payload`` key when none)."""
        result: dict[str, Any] = {
            "name": self.name,
            "enabled": self.enabled,
            "feature_enabled": self.feature_enabled,
        }
        if self.payload is not None:
            result["payload"] = dict(self.payload)
        return result


#: The answer when no variant is served and the flag is off (or missing).
DISABLED_VARIANT = Variant("disabled", enabled=False, feature_enabled=False)
