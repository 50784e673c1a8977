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
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from flagkit._client.context import merge_contexts
from flagkit._client.counters import shown_key
from flagkit._core.details import Details

__all__ = ["Hook", "HookContext", "HookHints", "run_after_hooks", "run_before_hooks"]

logger = logging.getLogger("flagkit")

HookHints = Mapping[str, Any]


_NO_HINTS: HookHints = MappingProxyType({})


class HookContext:
    """What a hook knows about the evaluation it observes (read-only by convention).

    A plain slotted class rather than a frozen dataclass: one is built per
    observed evaluation, and a frozen dataclass costs several times more.
    """

    __slots__ = ("client_name", "context", "default_value", "flag_key", "flag_type", "hints")

    def __init__(  # noqa: PLR0917 - mirrors OpenFeature's HookContext fields
        self,
        flag_key: str,
        flag_type: str | None,
        default_value: Any,
        context: Mapping[str, Any],
        client_name: str = "flagkit",
        hints: HookHints = _NO_HINTS,
    ) -> None:
        self.flag_key = flag_key
        self.flag_type = flag_type
        self.default_value = default_value
        self.context = context
        self.client_name = client_name
        self.hints = hints

    def with_context(self, context: Mapping[str, Any]) -> HookContext:
        """Return a copy seeing ``context`` (after a before hook added to it)."""
        return HookContext(
            self.flag_key, self.flag_type, self.default_value, context, self.client_name, self.hints
        )

    def __repr__(self) -> str:
        return f"HookContext(flag_key={self.flag_key!r}, flag_type={self.flag_type!r})"


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
        shown_key(flag_key),  # the caller's key: cut, so a huge one cannot flood the log
        exc_info=True,
    )


def run_before_hooks(
    hooks: Sequence[Hook], hook_context: HookContext, ctx: Mapping[str, Any] | None
) -> tuple[Mapping[str, Any] | None, HookContext]:
    """Run ``before`` hooks in order; return the context with what they added merged in."""
    for hook in hooks:
        try:
            extra = hook.before(hook_context, hook_context.hints)
            # What a hook returns is merged here too: a hook returning something
            # that is not a mapping is a failing hook, not a failed evaluation.
            if extra is None or ctx is None:
                continue
            if not issubclass(type(extra), Mapping):
                raise TypeError(f"before() returned a {type(extra).__name__}, not a mapping")
            merged = merge_contexts(ctx, extra)
        except Exception:
            log_hook_failure(hook, "before", hook_context.flag_key)
            continue
        ctx = merged
        hook_context = hook_context.with_context(ctx)
    return ctx, hook_context


def run_after_hooks(hooks: Sequence[Hook], hook_context: HookContext, details: Details) -> None:
    """Run ``after`` (or ``error``) then ``finally_after`` hooks, in reverse order."""
    flag_key = hook_context.flag_key
    for hook in reversed(hooks):
        try:
            if details.error_code is not None:
                hook.error(hook_context, details.as_exception(), hook_context.hints)
            else:
                hook.after(hook_context, details, hook_context.hints)
        except Exception:
            log_hook_failure(hook, "error" if details.error_code else "after", flag_key)
    for hook in reversed(hooks):
        try:
            hook.finally_after(hook_context, details, hook_context.hints)
        except Exception:
            log_hook_failure(hook, "finally_after", flag_key)
