"""Named flag configurations: every flag on, every flag off, or as the file says.

Fowler's feature-toggles article advises testing with the toggles of the
next release on and with all of them off; these helpers turn that into
override mappings. A flag's *on* variant is the one whose value is True, else
the one named ``on``, else the only variant that is not its off variant; its
*off* variant is its ``off_variant``, else the one whose value is False,
else the one named ``off``. A flag without such a variant keeps its state
from the file in that configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from flagkit._core.snapshot import CompiledFlag, Snapshot

__all__ = ["STATE_NAMES", "StateName", "flag_states", "off_variant_of", "on_variant_of"]

StateName = Literal["on", "off", "file"]
STATE_NAMES: tuple[StateName, ...] = ("on", "off", "file")


def _named(flag: CompiledFlag, value: bool, name: str) -> str | None:
    for variant, served in flag.variants.items():
        if served is value:
            return variant
    return name if name in flag.variants else None


def off_variant_of(flag: CompiledFlag) -> str | None:
    """Return the variant that means "off" for ``flag``, or None."""
    declared = getattr(flag.definition, "off_variant", None)
    return declared if isinstance(declared, str) else _named(flag, False, "off")


def on_variant_of(flag: CompiledFlag) -> str | None:
    """Return the variant that means "on" for ``flag``, or None."""
    found = _named(flag, True, "on")
    if found is not None:
        return found
    off = off_variant_of(flag)
    others = [name for name in flag.variants if name != off]
    return others[0] if off is not None and len(others) == 1 else None


def flag_states(
    snapshot: Snapshot,
    flags: Iterable[str] | None = None,
    *,
    states: Iterable[StateName] = STATE_NAMES,
) -> dict[str, dict[str, Any]]:
    """Return, per named state, the overrides that put ``flags`` (default: all) in it.

    Flags the snapshot does not know are booleans: True when on, False when off.
    """
    keys = list(snapshot.flags) if flags is None else list(flags)
    result: dict[str, dict[str, Any]] = {}
    for state in states:
        if state not in STATE_NAMES:
            raise ValueError(f"unknown flag state {state!r} (states: {', '.join(STATE_NAMES)})")
        values: dict[str, Any] = {}
        if state != "file":
            for key in keys:
                flag = snapshot.flags.get(key)
                if flag is None:
                    values[key] = state == "on"
                    continue
                variant = on_variant_of(flag) if state == "on" else off_variant_of(flag)
                if variant is not None:
                    values[key] = variant
        result[state] = values
    return result
