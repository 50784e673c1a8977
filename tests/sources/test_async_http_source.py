"""AsyncHTTPSource: the same behaviour as HTTPSource, from a task on the running loop."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import warnings
from pathlib import Path

import pytest

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
    """Failures back off in the task exactly as on the thread."""
    server.fallback = Reply(500)

    async def scenario() -> None:
        source = flagkit.AsyncHTTPSource(server.url, interval=0.05, jitter=0.0)
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


def test_starting_outside_a_loop_is_refused() -> None:
    """A clear error, instead of a source that silently never polls."""
    source = flagkit.AsyncHTTPSource("http://127.0.0.1:9/flags.json")
    with pytest.raises(flagkit.SourceError, match="running event loop"):
        flagkit.Client(source)
    source.close()
