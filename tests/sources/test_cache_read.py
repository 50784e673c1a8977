"""Reading the last-known-good cache: only a regular file, never blocking, never raising."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from flagkit import HTTPSource
from flagkit._sources.cache_file import read_cache
from tests.sources.httpserver import FlagServer


def test_a_fifo_at_the_cache_path_does_not_block_the_constructor(
    server: FlagServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A FIFO (no writer) at the cache path is ignored with a warning, at once."""
    cache = tmp_path / "flags.cache.json"
    os.mkfifo(cache)
    built: list[HTTPSource] = []
    worker = threading.Thread(
        target=lambda: built.append(HTTPSource(server.url, interval=3600, cache_path=cache)),
        daemon=True,
    )
    worker.start()
    worker.join(60)  # generous: only a regression (a blocking open) gets near it
    assert not worker.is_alive(), "the constructor blocked on the FIFO"
    try:
        assert "none" == built[0].status().live
        assert "not a regular file" in caplog.text
    finally:
        built[0].close()


def test_an_oversized_cache_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A cache over the size limit is refused before it is read."""
    cache = tmp_path / "flags.cache.json"
    cache.write_bytes(b"{}" * 100)
    assert read_cache(str(cache), max_bytes=10) is None
    assert "larger than 10 bytes" in caplog.text
    assert b"{}" * 100 == read_cache(str(cache), max_bytes=200)
    assert read_cache(str(tmp_path / "absent.json"), max_bytes=10) is None


def test_a_cache_holding_a_huge_repetition_refuses_that_flag(
    server: FlagServer, tmp_path: Path
) -> None:
    """A cached pattern that overflows the regex engine: its flag is refused, nothing raises."""
    condition = {"attribute": "a", "op": "matches", "value": "a{99999999999}"}
    flag = {
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [{"when": [condition], "serve": "on"}],
    }
    cache = tmp_path / "flags.cache.json"
    cache.write_text(json.dumps({"flags": {"f": flag}}))
    source = HTTPSource(server.url, interval=3600, cache_path=cache)
    try:
        snapshot = source.snapshot
        assert snapshot is not None
        assert frozenset({"f"}) == snapshot.refused
        assert ["repetition number is too large"] == [
            "repetition number is too large"
            for problem in snapshot.problems
            if "repetition number is too large" in problem.message
        ]
    finally:
        source.close()
