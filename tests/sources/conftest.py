"""Fixtures for source tests: a live HTTP server and a patient wait."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.sources.httpserver import FlagServer, flags_document


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` runs out (generous: CI is loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


@pytest.fixture
def server() -> Iterator[FlagServer]:
    """Return a running flag server that serves a document with ``banner`` on."""
    flag_server = FlagServer()
    flag_server.publish(flags_document(True))
    yield flag_server
    flag_server.close()
