"""The session's Unleash server: started once, shared by the integration tests, then stopped.

Without Node or PostgreSQL the tests skip with a message saying what to
install; under CI (``CI=true``) that is a failure instead, so CI cannot
pass without having run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.unleash.features import create_features
from tests.integration.unleash.harness import UnleashServer, missing_requirements, running_unleash


@dataclass
class Unleash:
    """The running server, its features, and how long starting it took."""

    server: UnleashServer
    features: list[str]
    timings: dict[str, float]


@pytest.fixture(scope="session")
def unleash() -> Iterator[Unleash]:
    missing = missing_requirements()
    if missing is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Unleash integration test: {missing}")
        pytest.skip(missing)
    with running_unleash() as (server, timings):
        yield Unleash(server, create_features(server), timings)
