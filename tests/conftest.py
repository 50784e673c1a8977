"""Shared fixtures: the example flag file, and a builder of one-off clients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import flagkit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "flags.yaml"

MakeClient = Callable[..., flagkit.Client]


@pytest.fixture(scope="session")
def example_client() -> flagkit.Client:
    """Return a client over examples/flags.yaml."""
    return flagkit.Client.from_file(EXAMPLE)


@pytest.fixture
def make_client() -> MakeClient:
    """Return a function building a client from flag and segment definitions."""

    def build(
        flags: Mapping[str, Any],
        segments: Mapping[str, Any] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> flagkit.Client:
        document = {"flags": dict(flags), "segments": dict(segments or {})}
        return flagkit.Client.from_dict(document, clock=clock)

    return build
