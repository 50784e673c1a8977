"""Type-check-only: the public API as a user writes it. Read by mypy, never run.

`.ci/run` runs `mypy --strict tests/typing`; an `assert_type` that stops
holding, or a decorator that loses its signature, fails CI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_type

import flagkit
from flagkit import Client, Context, Details

client = Client.from_file("flags.yaml")
ctx = Context("user-1", country="NL")

assert_type(client.get_bool("f", False, ctx), bool)
assert_type(client.get_str("f", "x", {"targetingKey": "u"}), str)
assert_type(client.get_int("f", 1), int)
assert_type(client.get_float("f", 1.0), float)
assert_type(client.get_object("f", {"a": 1}), dict[str, int] | dict[str, Any])
assert_type(client.get_bool_details("f", False), Details)
assert_type(client.get_details("f"), Details)
assert_type(client.all_flags(ctx), dict[str, Details])
assert_type(client.variant_of("f"), str | None)


def old_checkout(cart: list[int], coupon: str | None = None) -> float:
    return float(sum(cart))


@client.feature("new-checkout", fallback=old_checkout)
def new_checkout(cart: list[int], coupon: str | None = None) -> float:
    return float(sum(cart)) * 0.9


assert_type(new_checkout([1, 2], coupon="X"), float)


async def old_fetch(user_id: int) -> str:
    return "old"


@client.feature(
    "new-fetch", fallback=old_fetch, context=lambda user_id: {"targetingKey": str(user_id)}
)
async def new_fetch(user_id: int) -> str:
    return "new"


async def use_fetch() -> None:
    assert_type(await new_fetch(3), str)


price = client.dispatch(
    "pricing-test",
    {"treatment-a": lambda amount: amount * 0.9, "treatment-b": lambda amount: amount * 0.8},
    fallback=lambda amount: amount,
)


def control(amount: float) -> float:
    return amount


def discount(amount: float) -> float:
    return amount * 0.9


typed_price = client.dispatch("pricing-test", {"treatment-a": discount}, fallback=control)
assert_type(typed_price(10.0), float)

with client.override({"new-checkout": True}):
    pass


@client.override({"new-checkout": False})
def under_override(x: int) -> str:
    return str(x)


assert_type(under_override(1), str)
assert_type(client.status(), flagkit.ClientStatus)

with flagkit.scoped_context({"targetingKey": "u"}) as scoped:
    assert_type(client.get_bool("f", True), bool)


# Declared flags: the value type follows the default's.
canary = flagkit.Flag("checkout-canary", default=False)
assert_type(canary, flagkit.Flag[bool])
assert_type(canary.get(ctx), bool)
assert_type(canary.details(), Details)
assert_type(flagkit.Flag("limit", default=10, client=client).get(), int)
assert_type(flagkit.Flag("ratio", default=0.5).bind(client).get(), float)
assert_type(flagkit.Flag("theme", default={"primary": "#000"}).get(), dict[str, str])
flagkit.set_default_client(client)
assert_type(flagkit.default_client(), Client | None)

# What `flagkit generate` writes (tests/typing/generated_flags.py, kept current by
# tests/cli/test_generate.py) type-checks, and its values are typed.
from tests.typing.generated_flags import API_BACKEND, CHECKOUT_THEME, ApiBackend  # noqa: E402

assert_type(API_BACKEND.get(), ApiBackend)
assert_type(CHECKOUT_THEME.get(ctx), dict[str, Any])

# Outcomes, tracking and guards (docs/monitoring.md).
assert_type(client.track("purchase", {"targetingKey": "u"}, 9.5, coupon="X"), None)
with client.toggle("new-checkout", False, {"targetingKey": "u"}) as served:
    assert_type(served, flagkit.Toggle)
    assert_type(served.variant, str | None)
    served.error()
assert_type(client.outcomes(), dict[flagkit.OutcomeKey, flagkit.OutcomeTotals])


def page(trip: flagkit.GuardTrip) -> None:
    evidence: flagkit.Evidence = trip.evidence
    assert_type(evidence.interval, tuple[float, float])


unsubscribe = client.on_guard(page)
assert_type(unsubscribe, Callable[[], None])
assert_type(client.reset_guard("new-checkout"), bool)
assert_type(client.check_guards(), list[flagkit.GuardTrip])
guards: tuple[flagkit.GuardStatus, ...] = client.status().guards
