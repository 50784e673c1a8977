"""AsyncHTTPSource: the same behaviour as HTTPSource, from a task on the running loop."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import warnings
from pathlib import Path

import flagkit
from tests.helpers import wait_until_async
from tests.sources.httpserver import FlagServer, Reply, flags_document


def test_polls_changes_and_survives_faults(server: FlagServer, tmp_path: Path) -> None:
    """Changes go live, faults keep the last good flags, and the cache is written."""
    cache = tmp_path / "cache.json"

    async def scenario() -> None:
        source = flagkit.AsyncHTTPSource(server.url, interval=0.02, cache_path=cache)
        client = flagkit.Client(source)
        assert await source.wait_until_ready(10)
        assert True is client.get_bool("banner", False)
        assert "network" == client.status().live
        server.publish(flags_document(False))
        assert await wait_until_async(lambda: client.get_bool("banner", True) is False)
        server.fallback = Reply(body=b"{", headers={"Content-Type": "application/json"})
        assert await wait_until_async(lambda: client.status().last_error is not None)
        assert False is client.get_bool("banner", True)
        served = json.dumps(flags_document(False)).encode()
        assert await wait_until_async(lambda: cache.exists() and cache.read_bytes() == served)
        await source.aclose()
        await source.aclose()  # idempotent
        client.close()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(scenario())
        gc.collect()


def test_back_off_spaces_the_requests(server: FlagServer) -> None:
    """Failures back off in the task exactly as on the thread (with a cap above the interval)."""
    server.fallback = Reply(500)

    async def scenario() -> None:
        source = flagkit.AsyncHTTPSource(server.url, interval=0.05, jitter=0.0, backoff_cap=0.4)
        client = flagkit.Client(source)
        assert await wait_until_async(lambda: server.count() >= 4, timeout=15)
        client.close()  # the synchronous close cancels the task too
        await source.aclose()

    asyncio.run(scenario())
    times = [r.at for r in server.requests[:4]]
    for (a, b), expected in zip(itertools.pairwise(times), [0.05, 0.1, 0.2], strict=True):
        assert b - a >= expected * 0.9


def test_cache_and_bootstrap_serve_before_the_loop_polls(tmp_path: Path) -> None:
    """Without a server, the bootstrap serves and wait_until_ready times out."""

    async def scenario() -> None:
        source = flagkit.AsyncHTTPSource(
            "http://127.0.0.1:9/flags.json",
            bootstrap=flags_document("boot"),
            interval=0.05,
            connect_timeout=0.2,
        )
        client = flagkit.Client(source)
        assert "bootstrap" == client.status().live
        assert "boot" == client.get_str("banner", "x")
        assert not await source.wait_until_ready(0.2)
        await source.aclose()

    asyncio.run(scenario())


def test_a_client_created_outside_a_loop_starts_polling_on_first_use_in_one(
    server: FlagServer,
) -> None:
    """Created at import time (no loop): no error, defaults until a loop runs, then polling."""
    source = flagkit.AsyncHTTPSource(server.url, interval=0.05)
    client = flagkit.Client(source)  # no running loop here, as at a module's top level
    assert source.deferred
    assert False is client.get_bool("banner", False)  # still no loop: the default
    assert 0 == server.count()

    async def scenario() -> None:
        client.get_bool("banner", False)  # the first use inside the loop starts the task
        assert not source.deferred
        assert await wait_until_async(lambda: client.get_bool("banner", False))
        assert not client._observed  # back on the fast path once started
        await source.aclose()

    asyncio.run(scenario())
    client.close()


def test_wait_until_ready_in_a_lifespan_hook_starts_polling(server: FlagServer) -> None:
    """``await source.wait_until_ready()`` (e.g. in a lifespan hook) starts the deferred task."""
    source = flagkit.AsyncHTTPSource(server.url, interval=0.05)
    client = flagkit.Client(source)

    async def lifespan() -> None:
        assert await source.wait_until_ready(10)
        assert "network" == client.status().live
        await source.aclose()

    asyncio.run(lifespan())
    # A second loop (a second test client, a reloaded app) takes over polling.
    source2 = flagkit.AsyncHTTPSource(server.url, interval=0.05, lazy=True)
    client2 = flagkit.Client(source2)

    async def twice() -> None:
        before = server.count()
        assert await source2.wait_until_ready(10)
        assert await wait_until_async(lambda: server.count() > before + 1)

    asyncio.run(twice())  # asyncio.run cancels the task as its loop ends...
    asyncio.run(twice())  # ...and the next loop's first use starts a new one
    source2.close()
    client.close()
    client2.close()
