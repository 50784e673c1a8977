"""Hooks around every evaluation, with OpenFeature's stages.

``before`` runs first and may return context to merge in; then ``after``
(on success) or ``error`` (when the evaluation resolved with an error);
``finally_after`` always runs last. ``before`` hooks run in registration
order, the others in reverse, as OpenFeature specifies.

One deliberate difference from OpenFeature: a hook that raises is logged and
ignored, and the evaluation result is unchanged. Observability code must
never change what a user sees.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flagkit._details import Details

__all__ = ["Hook", "HookContext", "HookHints"]

logger = logging.getLogger("flagkit")

HookHints = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class HookContext:
    """What a hook knows about the evaluation it observes."""

    flag_key: str
    flag_type: str | None
    default_value: Any
    context: Mapping[str, Any]
    client_name: str = "flagkit"
    hints: HookHints = field(default_factory=dict)


class Hook:
    """Base class for hooks: override the stages you need; each defaults to no-op."""

    def before(self, hook_context: HookContext, hints: HookHints) -> Mapping[str, Any] | None:
        """Run before evaluation; return context to merge in, or None."""
        return None

    def after(self, hook_context: HookContext, details: Details, hints: HookHints) -> None:
        """Run after an evaluation that resolved without an error."""

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        """Run when the evaluation resolved with an error."""

    def finally_after(self, hook_context: HookContext, details: Details, hints: HookHints) -> None:
        """Run last, whatever happened."""


def log_hook_failure(hook: Hook, stage: str, flag_key: str) -> None:
    """Log (with traceback) a hook that raised; evaluation carries on."""
    logger.warning(
        "flagkit: %s.%s raised while evaluating %r; ignored",
        type(hook).__name__,
        stage,
        flag_key,
        exc_info=True,
    )
