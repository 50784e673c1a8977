"""Every source runs the shared contract (tests/sources/contract.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flagkit
from tests.sources.contract import SourceContract
from tests.sources.httpserver import FlagServer

#: A problem outside every flag (an unknown top-level field) refuses the whole document.
INVALID = {"flags": {"banner": {"variants": {}, "default": "missing"}}, "bogus": 1}


class _Harness:
    """What harnesses share: an invalid document is a valid update with bad content."""

    def update(self, document: dict[str, Any]) -> None:
        raise NotImplementedError

    def break_origin(self) -> None:
        self.update(INVALID)


class FileHarness(_Harness):
    """A watched JSON file."""

    live = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def make(self, document: dict[str, Any]) -> flagkit.Source:
        self.update(document)
        return flagkit.FileSource(self.path, watch=True, interval=0.02)

    def update(self, document: dict[str, Any]) -> None:
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(document))
        temp.replace(self.path)


class MemoryHarness:
    """A document held in memory."""

    live = "memory"
    source: flagkit.MemorySource

    def make(self, document: dict[str, Any]) -> flagkit.Source:
        self.source = flagkit.MemorySource(document)
        return self.source

    def update(self, document: dict[str, Any]) -> None:
        self.source.update(document)

    def break_origin(self) -> None:
        with pytest.raises(flagkit.DefinitionError):
            self.source.update(INVALID)


class HTTPHarness(_Harness):
    """A document on a local HTTP server."""

    live = "network"

    def __init__(self, server: FlagServer) -> None:
        self.server = server

    def make(self, document: dict[str, Any]) -> flagkit.Source:
        self.update(document)
        return flagkit.HTTPSource(self.server.url, interval=0.02)

    def update(self, document: dict[str, Any]) -> None:
        self.server.publish(document)


class TestFileSource(SourceContract):
    """FileSource keeps the source contract."""

    @pytest.fixture
    def harness(self, tmp_path: Path) -> FileHarness:
        """Return a harness over a watched file."""
        return FileHarness(tmp_path / "flags.json")


class TestMemorySource(SourceContract):
    """MemorySource keeps the source contract."""

    @pytest.fixture
    def harness(self) -> MemoryHarness:
        """Return a harness over a document in memory."""
        return MemoryHarness()


class TestHTTPSource(SourceContract):
    """HTTPSource keeps the source contract."""

    @pytest.fixture
    def harness(self, server: FlagServer) -> Iterator[HTTPHarness]:
        """Return a harness over a local HTTP server."""
        return HTTPHarness(server)
