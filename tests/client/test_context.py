"""Contexts: the Context value, client-level context, the scoped context, multi-kind."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest

import flagkit
from flagkit import Context, bucket_of, scoped_context
from tests.conftest import MakeClient

BOOL = {"on": True, "off": False}


def test_context_value_is_an_immutable_mapping() -> None:
    """Context holds the targeting key and attributes, and refuses mutation."""
    ctx = Context("user-1", country="NL", org={"id": "acme"})
    assert {"targetingKey": "user-1", "country": "NL", "org": {"id": "acme"}} == dict(ctx)
    assert ctx.targeting_key == "user-1"
    with pytest.raises(TypeError, match="immutable"):
        ctx["country"] = "BE"
    with pytest.raises(TypeError, match="immutable"):
        ctx.update(country="BE")
    derived = ctx.with_attributes(country="BE")
    assert ("BE", "NL") == (derived["country"], ctx["country"])


def test_multi_kind_context_buckets_by_organisation(make_client: MakeClient) -> None:
    """A rollout by org.id reads the organisation part of a user+org context."""
    client = make_client(
        {
            "f": {
                "variants": BOOL,
                "default": {"rollout": {"by": "org.id", "weights": {"on": 50, "off": 50}}},
            }
        }
    )
    for org in ("acme", "globex", "initech", "umbrella"):
        expected = bucket_of("f", org) < 5000
        for user in range(5):
            assert expected is client.get_bool("f", False, Context(f"u{user}", org={"id": org}))


def test_client_context_merges_under_the_call(make_client: MakeClient) -> None:
    """Client-level attributes apply unless the call's context sets them."""
    flags = {
        "f": {
            "variants": BOOL,
            "rules": [
                {
                    "when": [
                        {"attribute": "region", "op": "equals", "value": "eu"},
                        {"attribute": "plan", "op": "equals", "value": "pro"},
                    ],
                    "serve": "on",
                }
            ],
            "default": "off",
        }
    }
    client = flagkit.Client.from_dict({"flags": flags}, context={"region": "eu", "service": "api"})
    assert client.get_bool("f", False, {"plan": "pro"}) is True
    assert client.get_bool("f", False, {"plan": "pro", "region": "us"}) is False


def _region_client() -> flagkit.Client:
    return flagkit.Client.from_dict(
        {
            "flags": {
                "f": {
                    "variants": {"eu": "eu", "us": "us", "none": "none"},
                    "rules": [
                        {
                            "when": [{"attribute": "region", "op": "equals", "value": "eu"}],
                            "serve": "eu",
                        },
                        {
                            "when": [{"attribute": "region", "op": "equals", "value": "us"}],
                            "serve": "us",
                        },
                    ],
                    "default": "none",
                }
            }
        }
    )


def test_scoped_context_is_used_when_no_context_is_given() -> None:
    """Calls without a context use the scoped one; nested scopes merge and restore."""
    client = _region_client()
    assert client.get_str("f", "?") == "none"
    with scoped_context({"region": "eu", "plan": "pro"}) as outer:
        assert client.get_str("f", "?") == "eu"
        with scoped_context({"region": "us"}) as inner:
            assert client.get_str("f", "?") == "us"
            assert {"region": "us", "plan": "pro"} == dict(inner)
        assert client.get_str("f", "?") == "eu"
        assert client.get_str("f", "?", {"region": "us"}) == "us"  # explicit wins
        assert outer["plan"] == "pro"
    assert client.get_str("f", "?") == "none"


def test_scoped_context_travels_with_asyncio_tasks() -> None:
    """Each asyncio task sees the context it was started with."""
    client = _region_client()

    async def handler(region: str) -> tuple[str, str]:
        with scoped_context({"region": region}):
            await asyncio.sleep(0)
            inner = await asyncio.create_task(read())
            return inner, client.get_str("f", "?")

    async def read() -> str:
        await asyncio.sleep(0)
        return client.get_str("f", "?")

    async def main() -> list[tuple[str, str]]:
        return list(await asyncio.gather(handler("eu"), handler("us"), handler("eu")))

    assert [("eu", "eu"), ("us", "us"), ("eu", "eu")] == asyncio.run(main())


def test_scoped_context_crosses_threads_with_copy_context() -> None:
    """A thread run through copy_context() sees the scope; a bare thread does not."""
    client = _region_client()
    seen: dict[str, Any] = {}
    with scoped_context({"region": "us"}):
        ctx = contextvars.copy_context()
        carried = threading.Thread(
            target=lambda: seen.update(carried=ctx.run(client.get_str, "f", "?"))
        )
        bare = threading.Thread(target=lambda: seen.update(bare=client.get_str("f", "?")))
        carried.start()
        bare.start()
        carried.join()
        bare.join()
    assert {"carried": "us", "bare": "none"} == seen
