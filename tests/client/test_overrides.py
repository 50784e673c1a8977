"""Client overrides: local per client and task, process per client, global for every client."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

import flagkit
from flagkit import Reason
from flagkit.testing import override

BOOL = {"on": True, "off": False}
DOC = {
    "flags": {
        "f": {"variants": BOOL, "default": "off"},
        "g": {"variants": BOOL, "default": "off"},
        "h": {"variants": BOOL, "default": "off"},
        "colour": {"variants": {"red": "red", "blue": "blue", "grey": "grey"}, "default": "grey"},
    }
}

Scope = Callable[[flagkit.Client, dict[str, Any]], AbstractContextManager[Any]]
SCOPES: dict[str, Scope] = {
    "local": lambda client, values: client.override(values, local=True),
    "process": lambda client, values: client.override(values),
    "global": lambda _, values: override(None, values),
}


def two_clients() -> tuple[flagkit.Client, flagkit.Client]:
    """Return two clients over the same document."""
    return flagkit.Client.from_dict(DOC), flagkit.Client.from_dict(DOC)


def flags(client: flagkit.Client) -> tuple[bool, bool, bool]:
    """Return what ``client`` serves for f, g and h."""
    return client.get_bool("f", False), client.get_bool("g", False), client.get_bool("h", False)


def test_a_local_override_is_seen_by_its_client_only() -> None:
    """client_a.override(..., local=True) does not change what client_b serves."""
    a, b = two_clients()
    with a.override({"f": "on"}, local=True):
        assert (True, False) == (a.get_bool("f", False), b.get_bool("f", False))
        assert (Reason.OVERRIDE, Reason.STATIC) == (
            a.get_bool_details("f", False).reason,
            b.get_bool_details("f", False).reason,
        )
    assert (False, False) == (a.get_bool("f", False), b.get_bool("f", False))


def test_a_process_override_is_seen_by_its_client_only() -> None:
    """client_a.override(...) reaches other threads, but not client_b."""
    a, b = two_clients()
    seen: list[tuple[bool, bool]] = []
    with a.override({"f": "on"}):
        worker = threading.Thread(
            target=lambda: seen.append((a.get_bool("f", False), b.get_bool("f", False)))
        )
        worker.start()
        worker.join()
        assert (True, False) == (a.get_bool("f", False), b.get_bool("f", False))
    assert [(True, False)] == seen
    assert (False, False) == (a.get_bool("f", False), b.get_bool("f", False))


def test_a_global_override_reaches_every_client() -> None:
    """flagkit.testing.override(None, ...) forces the flag on both clients, then restores."""
    a, b = two_clients()
    with override(None, {"f": "on"}):
        assert (True, True) == (a.get_bool("f", False), b.get_bool("f", False))
        assert Reason.OVERRIDE == b.get_bool_details("f", False).reason
    assert (False, False) == (a.get_bool("f", False), b.get_bool("f", False))


@pytest.mark.parametrize("scope", list(SCOPES))
def test_nested_overrides_restore_exactly(scope: str) -> None:
    """An inner block wins while open; leaving each block restores exactly what was before."""
    a, _ = two_clients()
    make = SCOPES[scope]
    with make(a, {"f": "on", "g": "on"}):
        with make(a, {"f": "off", "h": "on"}):
            assert (False, True, True) == flags(a)
        assert (True, True, False) == flags(a)
        with pytest.raises(RuntimeError), make(a, {"g": "off"}):
            raise RuntimeError("boom")
        assert (True, True, False) == flags(a)
    assert (False, False, False) == flags(a)
    with make(a, {"h": "on"}):  # a later block sees nothing of the earlier ones
        assert (False, False, True) == flags(a)


def test_process_overrides_restore_exactly_in_any_exit_order() -> None:
    """Overlapping process blocks left first-in-first-out restore exactly too."""
    a, _ = two_clients()
    first, second = a.override({"f": "on"}), a.override({"g": "on"})
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert (False, True, False) == flags(a)
    second.__exit__(None, None, None)
    assert (False, False, False) == flags(a)


@pytest.mark.parametrize("scope", ["local", "global"])
def test_context_overrides_restore_exactly_in_any_exit_order(scope: str) -> None:
    """Overlapping local or global blocks left first-in-first-out restore exactly."""
    a, _ = two_clients()
    first, second = SCOPES[scope](a, {"f": "on"}), SCOPES[scope](a, {"g": "on"})

    def scenario() -> tuple[tuple[bool, bool, bool], tuple[bool, bool, bool]]:
        first.__enter__()
        second.__enter__()
        try:
            first.__exit__(None, None, None)
            between = flags(a)
        finally:
            second.__exit__(None, None, None)  # always balanced: no open block leaks
        with SCOPES[scope](a, {"h": "on"}):
            later = flags(a)
        return between, later

    # A copied context keeps whatever the layer leaves behind out of this thread's.
    between, later = contextvars.copy_context().run(scenario)
    assert ((False, True, False), (False, False, True)) == (between, later)


def test_concurrent_tasks_keep_their_own_local_overrides() -> None:
    """Two tasks each hold a local override on one client; neither sees the other's, nor does b."""
    a, b = two_clients()
    both_inside = asyncio.Barrier(2)

    async def task(colour: str) -> tuple[str, str]:
        with a.override({"colour": colour}, local=True):
            await both_inside.wait()  # both blocks are open at once
            return a.get_str("colour", "?"), b.get_str("colour", "?")

    async def main() -> list[tuple[str, str]]:
        return list(await asyncio.gather(task("red"), task("blue")))

    assert [("red", "grey"), ("blue", "grey")] == asyncio.run(main())
    assert "grey" == a.get_str("colour", "?")
