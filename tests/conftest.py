"""Shared fixtures: the example flag file, a builder of one-off clients; Hypothesis profiles.

Two Hypothesis profiles, chosen by ``tests.helpers.profile_name``: ``default``
(fast: each property test's own ``max_examples``) and ``ci`` (thorough: four
times the examples, up to 2,000, see ``tests.helpers.examples``). The ``ci``
profile loads when ``HYPOTHESIS_PROFILE=ci``, or when ``CI=true`` and
``HYPOTHESIS_PROFILE`` is unset; ``--hypothesis-profile`` still wins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import flagkit
from tests.helpers import profile_name

ROOT = Path(__file__).resolve().parent.parent
#: The example flag files shipped in the package (``flagkit init`` writes them).
EXAMPLES = ROOT / "src" / "flagkit" / "examples"
EXAMPLE = EXAMPLES / "flags.yaml"
EXAMPLE_FLAGD = EXAMPLES / "flagd.json"

MakeClient = Callable[..., flagkit.Client]

# Hypothesis loads its own "ci" profile whenever a CI variable exists (even
# CI=false); both profiles here descend from its built-in default instead.
_BUILTIN_DEFAULT = settings.get_profile("default")
settings.register_profile("default", _BUILTIN_DEFAULT, deadline=None, print_blob=True)
settings.register_profile(
    "ci",
    _BUILTIN_DEFAULT,
    max_examples=500,  # for tests without their own; the others scale with examples()
    deadline=None,
    derandomize=False,  # explore new examples on every run
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(profile_name())


@pytest.fixture(scope="session")
def example_client() -> flagkit.Client:
    """Return a client over the example flag file."""
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
