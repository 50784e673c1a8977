"""A flag's variant as Unleash's ``get_variant`` reports it: ``Client.get_variant``.

A format that defines the answer (Unleash) builds it once per resolution
at compile time (``Resolution.view``) and per variant name
(``CompiledFlag.views``, for overrides and the observed path). Any other
flag gets the same shape from its outcome: the variant served (or
``"disabled"`` when none), whether one was served, and whether the flag is
on (served anything but ``False``).
"""

from __future__ import annotations

from flagkit._core.details import DISABLED_VARIANT, Details, Variant
from flagkit._core.snapshot import CompiledFlag, Resolution

__all__ = ["view_of", "view_of_details"]


def _generic(variant: str | None, value: object, payload: object) -> Variant:
    return Variant(
        variant if variant is not None else "disabled",
        enabled=variant is not None,
        feature_enabled=value is not False,
        payload=payload,
    )


def view_of(resolution: Resolution) -> Variant:
    """Return a resolution's variant answer (built once, then cached on it)."""
    view = resolution.view
    if view is None:
        if not resolution.has_value:
            view = DISABLED_VARIANT
        else:
            view = _generic(resolution.variant, resolution.value, resolution.payload)
        resolution.view = view  # a race builds two equal answers
    return view


def view_of_details(flag: CompiledFlag | None, details: Details) -> Variant:
    """Return the variant answer of an observed evaluation (overrides included)."""
    if details.error_code is not None or flag is None:
        return DISABLED_VARIANT
    view = flag.views.get(details.variant) if details.variant is not None else None
    if view is not None:
        if details.payload is not None and details.payload != view.payload:
            return view._replace(payload=details.payload)
        return view
    return _generic(details.variant, details.value, details.payload)
