"""Fixtures for source tests: a live HTTP server (waiting is ``tests.helpers.wait_until``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sources.httpserver import FlagServer, flags_document


@pytest.fixture
def server() -> Iterator[FlagServer]:
    """Return a running flag server that serves a document with ``banner`` on."""
    flag_server = FlagServer()
    flag_server.publish(flags_document(True))
    yield flag_server
    flag_server.close()
