"""Unleash's client specification: every case of every file, none skipped (279)."""

from __future__ import annotations

import functools
import json

import pytest

from flagkit import Client, Snapshot
from flagkit.formats.unleash import snapshot_from_unleash
from tests.formats.unleash_spec import (
    EXPECTED_CASES,
    EXPECTED_FILES,
    SpecCase,
    spec_cases,
    spec_files,
)

CASES = spec_cases()


@functools.cache
def _snapshot(state_json: str) -> Snapshot:
    return snapshot_from_unleash(json.loads(state_json))


def _client(case: SpecCase) -> Client:
    return Client(_snapshot(json.dumps(case.state, sort_keys=True)))


def test_the_whole_specification_is_here() -> None:
    """22 files and 279 cases are collected: a lost file would make this fail, not pass."""
    assert EXPECTED_FILES == len(spec_files())
    assert EXPECTED_CASES == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "enabled"], ids=lambda c: c.id)
def test_is_enabled(case: SpecCase) -> None:
    """get_bool answers what Unleash's is_enabled must answer."""
    assert case.expected is _client(case).get_bool(case.toggle, False, case.context), (
        case.description
    )


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "variant"], ids=lambda c: c.id)
def test_get_variant(case: SpecCase) -> None:
    """get_variant answers what Unleash's get_variant must answer."""
    variant = _client(case).get_variant(case.toggle, case.context)
    assert case.expected == variant.to_dict(), case.description
