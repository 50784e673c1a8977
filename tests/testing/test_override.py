"""``flagkit.testing.override``: blocks and functions with forced flags, safely scoped."""

from __future__ import annotations

import asyncio
import threading

import pytest

import flagkit
from flagkit import Reason
from flagkit.testing import FlagSet, UnknownFlagError, boolean, override

CTX = {"targetingKey": "user-1"}


def _client() -> flagkit.Client:
    return (
        boolean("new-checkout")
        .flag("pricing-test")
        .variants({"control": "control", "treatment-a": "a"})
        .serve("control")
        .client()
    )


def test_forces_variants_and_values_then_restores() -> None:
    """Inside the block flags are forced (reason OVERRIDE); after it they are back."""
    client = _client()
    with override(client, {"new-checkout": "on", "pricing-test": "treatment-a"}):
        details = client.get_str_details("pricing-test", "x", CTX)
        assert ("a", "treatment-a", Reason.OVERRIDE) == (
            details.value,
            details.variant,
            details.reason,
        )
        assert client.get_bool("new-checkout", False, CTX) is True
    assert ("control", False) == (
        client.get_str("pricing-test", "x", CTX),
        client.get_bool("new-checkout", True, CTX),
    )


def test_restores_after_an_exception() -> None:
    """An exception inside the block still restores the flags."""
    client = _client()
    with pytest.raises(RuntimeError), override(client, {"new-checkout": True}):
        raise RuntimeError("boom")
    assert client.get_bool("new-checkout", True, CTX) is False


def test_decorates_sync_and_async_functions() -> None:
    """As a decorator it forces flags around every call, sync or async."""
    client = _client()

    @override(client, {"new-checkout": True})
    def sync() -> bool:
        return client.get_bool("new-checkout", False, CTX)

    @override(client, {"new-checkout": True})
    async def asynchronous() -> bool:
        return client.get_bool("new-checkout", False, CTX)

    assert (True, True) == (sync(), asyncio.run(asynchronous()))
    assert client.get_bool("new-checkout", True, CTX) is False


def test_client_overrides_are_seen_by_other_threads() -> None:
    """With a client, the default (process) scope reaches threads the test starts."""
    client = _client()
    seen: list[bool] = []
    with override(client, {"new-checkout": True}):
        thread = threading.Thread(
            target=lambda: seen.append(client.get_bool("new-checkout", False))
        )
        thread.start()
        thread.join()
    assert [True] == seen


def test_global_override_reaches_every_client_but_not_other_threads() -> None:
    """``override(None, ...)`` applies to all clients, including new ones, in this thread."""
    first = _client()
    seen: list[bool] = []
    with override(None, {"new-checkout": True}):
        second = _client()
        thread = threading.Thread(target=lambda: seen.append(first.get_bool("new-checkout", False)))
        thread.start()
        thread.join()
        assert (True, True) == (
            first.get_bool("new-checkout", False),
            second.get_bool("new-checkout", False),
        )
    assert [False] == seen
    assert first.get_bool("new-checkout", True) is False


def test_local_overrides_isolate_concurrent_asyncio_tasks() -> None:
    """Concurrent tasks with their own local overrides never see each other's values."""
    client = _client()

    async def task(variant: str) -> list[str]:
        seen = []
        with override(client, {"pricing-test": variant}, local=True):
            for _ in range(20):
                await asyncio.sleep(0)
                seen.append(client.get_str("pricing-test", "x", CTX))
        return seen

    async def main() -> list[list[str]]:
        return list(await asyncio.gather(task("control"), task("treatment-a")))

    assert [["control"] * 20, ["a"] * 20] == asyncio.run(main())


def test_overlapping_threads_restore_exactly() -> None:
    """Threads entering and leaving process overrides in any order leave nothing behind."""
    client = _client()
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        with override(client, {"pricing-test": "treatment-a" if i % 2 else "control"}):
            barrier.wait()
            client.get_str("pricing-test", "x", CTX)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    details = client.get_str_details("pricing-test", "x", CTX)
    assert ("control", False) == (details.value, details.reason is Reason.OVERRIDE)


def test_strict_refuses_unknown_flags_and_values() -> None:
    """A typo in a flag name or a value of the wrong type fails loudly, naming the flag."""
    client = _client()
    with pytest.raises(UnknownFlagError, match="unknown flag 'new-chekout'"):
        override(client, {"new-chekout": True})
    with pytest.raises(UnknownFlagError, match=r"'pricing-test' with 3: not a variant"):
        override(client, {"pricing-test": 3})
    with override(client, {"new-chekout": True}, strict=False):
        pass


def test_a_client_without_flags_is_a_pure_fake() -> None:
    """An empty client accepts any override, so it can stand in for a real flag service."""
    client = FlagSet().client()
    with override(client, {"anything": 42}):
        assert 42 == client.get_int("anything", 0)


def test_global_override_refuses_process_scope() -> None:
    """``override(None, ..., local=False)`` cannot work, and says so."""
    with pytest.raises(ValueError, match="always local"):
        override(None, {"a": True}, local=False)


def test_global_override_decorates_concurrent_tasks_independently() -> None:
    """``override(None, ...)`` as a decorator: each task call gets its own scope."""
    client = _client()

    async def read() -> str:
        await asyncio.sleep(0)
        return client.get_str("pricing-test", "x", CTX)

    forced_a = override(None, {"pricing-test": "treatment-a"})(read)

    async def main() -> list[str]:
        return list(await asyncio.gather(forced_a(), read(), forced_a()))

    assert ["a", "control", "a"] == asyncio.run(main())


def test_one_scope_object_shared_by_overlapping_threads() -> None:
    """A module-level scope entered by two threads at once restores each correctly."""
    import threading

    import flagkit

    client = flagkit.Client.from_dict(
        {"flags": {"f": {"variants": {"on": True, "off": False}, "default": "off"}}}
    )
    shared = client.override({"f": True}, local=True)
    both_inside = threading.Barrier(2)
    errors: list[BaseException] = []
    seen: list[bool] = []

    def work() -> None:
        try:
            with shared:
                both_inside.wait(5)
                seen.append(client.get_bool("f", False))
                both_inside.wait(5)
            seen.append(client.get_bool("f", True))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    assert [True, True, False, False] == sorted(seen, reverse=True)
    assert client.get_bool("f", True) is False


def test_an_undeclared_string_override_says_nor_a_declared_value() -> None:
    """A string flag refuses a string that is neither a variant nor a declared value, saying so."""
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "config-version": {
                    "variants": {"v1": "v1", "v2": "v2", "v3": "v3"},
                    "default": "v1",
                },
                "limit": {"variants": {"low": 1, "high": 2}, "default": "low"},
            }
        }
    )
    with pytest.raises(UnknownFlagError) as caught:
        override(client, {"config-version": "v9"})
    assert (
        "cannot override flag 'config-version' with 'v9': not a variant (v1, v2, v3) "
        "nor a declared value"
    ) == str(caught.value)
    with pytest.raises(UnknownFlagError) as other:
        override(client, {"limit": "many"})
    assert str(other.value).endswith("not a variant (low, high) nor an int value")
