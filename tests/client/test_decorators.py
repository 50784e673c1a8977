"""Toggle-point decorators: feature and dispatch, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import flagkit

FLAGS = {
    "flags": {
        "new-checkout": {
            "variants": {"on": True, "off": False},
            "rules": [
                {"when": [{"attribute": "plan", "op": "equals", "value": "pro"}], "serve": "on"}
            ],
            "default": "off",
        },
        "pricing-test": {
            "kind": "experiment",
            "variants": {"control": "control", "a": "a", "b": "b", "c": "c"},
            "rules": [
                {
                    "when": [{"attribute": "targetingKey", "op": "equals", "value": "ua"}],
                    "serve": "a",
                },
                {
                    "when": [{"attribute": "targetingKey", "op": "equals", "value": "ub"}],
                    "serve": "b",
                },
                {
                    "when": [{"attribute": "targetingKey", "op": "equals", "value": "uc"}],
                    "serve": "c",
                },
            ],
            "default": "control",
        },
    }
}


@pytest.fixture
def client() -> flagkit.Client:
    return flagkit.Client.from_dict(FLAGS)


def test_feature_picks_new_or_old(client: flagkit.Client) -> None:
    """The decorated function runs when the flag is on, the fallback otherwise."""

    def old_checkout(cart: list[int], plan: str) -> str:
        return f"old:{sum(cart)}"

    @client.feature(
        "new-checkout", fallback=old_checkout, context=lambda cart, plan: {"plan": plan}
    )
    def new_checkout(cart: list[int], plan: str) -> str:
        return f"new:{sum(cart)}"

    assert ("new:3", "old:3") == (new_checkout([1, 2], "pro"), new_checkout([1, 2], "free"))
    assert new_checkout.__name__ == "new_checkout"


def test_feature_uses_the_scoped_context(client: flagkit.Client) -> None:
    """Without a context function, the scoped context decides."""

    @client.feature("new-checkout", fallback=lambda: "old")
    def checkout() -> str:
        return "new"

    assert checkout() == "old"
    with flagkit.scoped_context({"plan": "pro"}):
        assert checkout() == "new"


def test_feature_falls_back_on_errors(client: flagkit.Client) -> None:
    """A missing flag, a wrong type or a raising context function fall back."""

    def boom(*_: Any) -> dict[str, Any]:
        raise RuntimeError("context function failed")

    on_missing = client.feature("no-such-flag", fallback=lambda: "old")(lambda: "new")
    on_wrong_type = client.feature("pricing-test", fallback=lambda: "old")(lambda: "new")
    on_bad_context = client.feature("new-checkout", fallback=lambda: "old", context=boom)(
        lambda: "new"
    )
    assert ("old", "old", "old") == (on_missing(), on_wrong_type(), on_bad_context())


def test_dispatch_per_variant(client: flagkit.Client) -> None:
    """dispatch calls one implementation per variant, the fallback for the rest."""
    price = client.dispatch(
        "pricing-test",
        {"a": lambda user: f"A:{user}", "b": lambda user: f"B:{user}"},
        fallback=lambda user: f"control:{user}",
        context=lambda user: {"targetingKey": user},
    )
    assert ["A:ua", "B:ub", "control:uc", "control:zz"] == [
        price(u) for u in ("ua", "ub", "uc", "zz")
    ]


def test_dispatch_unknown_flag_falls_back(client: flagkit.Client) -> None:
    """An unknown flag dispatches to the fallback."""
    run = client.dispatch("nope", {"a": lambda: "A"}, fallback=lambda: "fallback")
    assert run() == "fallback"


def test_async_feature_and_dispatch(client: flagkit.Client) -> None:
    """Both decorators wrap coroutine functions and stay awaitable."""

    async def old(plan: str) -> str:
        return "old"

    @client.feature("new-checkout", fallback=old, context=lambda plan: {"plan": plan})
    async def new(plan: str) -> str:
        await asyncio.sleep(0)
        return "new"

    async def variant_a(user: str) -> str:
        return "A"

    async def control(user: str) -> str:
        return "control"

    price = client.dispatch(
        "pricing-test",
        {"a": variant_a},
        fallback=control,
        context=lambda user: {"targetingKey": user},
    )

    async def main() -> list[str]:
        return [await new("pro"), await new("free"), await price("ua"), await price("ub")]

    assert ["new", "old", "A", "control"] == asyncio.run(main())


def test_mixing_sync_and_async_is_refused(client: flagkit.Client) -> None:
    """A sync function with an async fallback (or the reverse) is a TypeError up front."""

    async def async_old() -> str:
        return "old"

    with pytest.raises(TypeError, match="both be async or sync"):
        client.feature("new-checkout", fallback=async_old)(lambda: "new")
    with pytest.raises(TypeError, match="mix of async and sync"):
        client.dispatch("pricing-test", {"a": lambda: "A"}, fallback=async_old)


def test_context_function_that_raises_calls_the_fallback() -> None:
    """A toggle point whose context function raises runs the fallback, even with a scope."""
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "f": {
                    "variants": {"on": True, "off": False},
                    "rules": [
                        {
                            "when": [{"attribute": "plan", "op": "equals", "value": "pro"}],
                            "serve": "on",
                        }
                    ],
                    "default": "off",
                }
            }
        }
    )

    def boom(*_: Any) -> dict[str, Any]:
        raise RuntimeError("context function failed")

    toggled = client.feature("f", fallback=lambda: "old", context=boom)(lambda: "new")
    with flagkit.scoped_context({"plan": "pro"}):
        assert toggled() == "old"
