"""``override``: force flags for a block or a function, on one client or on all.

Built on ``Client.override`` and the override layers (``flagkit._client.overrides``):

* ``override(client, values)`` uses the client's *process* layer by default:
  every thread sees it, so a test driving an app that serves requests on
  another thread still sees the forced flags. Layers nest and restore
  exactly, in any exit order, even after an exception.
* ``override(None, values)`` forces the flags on *every* client, including
  clients created inside the block, through the ContextVar scope: the
  current thread or asyncio task and the tasks it starts see it, and
  concurrent tests or tasks do not see each other's values.
* ``local=True`` with a client picks that client's ContextVar scope: the
  current thread or task only, and that client only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flagkit._client.client import Client
from flagkit._client.overrides import GlobalOverride, OverrideScope
from flagkit._core.snapshot import Snapshot
from flagkit._definitions.validate import value_type_of
from flagkit.testing._errors import UnknownFlagError

__all__ = ["check_override_values", "override"]


def override(
    client: Client | None,
    values: Mapping[str, Any],
    /,
    *,
    local: bool | None = None,
    strict: bool = True,
) -> OverrideScope:
    """Force flags to variants (by name) or values for a ``with`` block or a decorated function.

    ``client=None`` applies to every client, in this thread or task only.
    With a client, ``strict`` (the default) refuses flags the client does
    not know, and values that are neither a variant name nor of the flag's
    type (for a string flag: neither a variant name nor a declared value),
    so a typo cannot silently test nothing.
    """
    if client is None:
        if local is False:
            raise ValueError("override(None, ...) is always local: pass a client for local=False")
        return GlobalOverride(values)
    if strict:
        check_override_values(client.snapshot, values)
    return client.override(values, local=bool(local))


def check_override_values(snapshot: Snapshot, values: Mapping[str, Any]) -> None:
    """Raise UnknownFlagError for flags or values that ``snapshot``'s flags do not allow.

    A snapshot without any flags (a pure fake) accepts everything.
    """
    flags = snapshot.flags
    if not flags:
        return
    for key, forced in values.items():
        flag = flags.get(key)
        if flag is None:
            known = ", ".join(sorted(flags)) or "none"
            raise UnknownFlagError(f"cannot override unknown flag {key!r} (flags: {known})")
        if isinstance(forced, str) and forced in flag.variants:
            continue
        kind = value_type_of(forced)
        if kind == "str" and flag.value_type == "str":
            # A string flag takes any string: only a declared one is not a likely typo.
            if forced in flag.variants.values():
                continue
        elif kind == flag.value_type or (kind == "int" and flag.value_type == "float"):
            continue
        raise UnknownFlagError(
            f"cannot override flag {key!r} with {forced!r}: not a variant "
            f"({', '.join(flag.variants)}) nor a declared value"
            if kind == "str" and flag.value_type == "str"
            else f"cannot override flag {key!r} with {forced!r}: not a variant "
            f"({', '.join(flag.variants)}) nor "
            f"{'an' if flag.value_type[0] in 'aeiou' else 'a'} {flag.value_type} value"
        )
