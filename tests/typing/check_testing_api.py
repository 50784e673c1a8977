"""Type-check-only: flagkit.testing as a user writes it. Read by mypy, never run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_type

from flagkit import Client
from flagkit.testing import (
    FlagSet,
    Recorder,
    SplitResult,
    attr,
    boolean,
    cohort,
    override,
    record,
    split_check,
)

client = (
    FlagSet()
    .flag("f")
    .variants(on=True, off=False)
    .rule(when=attr("country").in_(["NL"]), serve="on")
    .client()
)
assert_type(client, Client)
assert_type(boolean("g", on=True, kind="ops").build(), dict[str, Any])


@override(client, {"f": "on"})
def handler(user: str, *, retries: int = 1) -> bool:
    return client.get_bool("f", False, {"targetingKey": user})


assert_type(handler("u", retries=2), bool)


@override(None, {"f": True})
async def async_handler(user: str) -> int:
    return 1


async def use_async() -> None:
    assert_type(await async_handler("u"), int)


with record(client) as rec:
    assert_type(rec, Recorder)

assert_type(cohort(client, "f", "on", 3), list[str])
assert_type(
    cohort(client, "f", "on", 3, context_factory=lambda k: {"targetingKey": k}),
    list[Mapping[str, Any]],
)
assert_type(split_check("flags.yaml", "pricing-test"), SplitResult)
