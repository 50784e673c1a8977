"""Fuzz every public evaluation entry point with hostile keys, contexts and defaults.

Documents come from ``flagkit.testing.strategies`` (random valid native
documents) plus three fixed ones that use every operator on every attribute
(native, flagd and Unleash); keys, contexts and defaults from ``tests.hostile``
(torture subclasses, raising dunders, surrogates, huge and deep values).
Each example must answer without an exception, with the caller's default on
every error, and within a time limit: a hanging example ends the test run
with every thread's traceback (``faulthandler.dump_traceback_later``).

The default profile runs a few dozen documents; the ``ci`` profile four
times as many (``tests.helpers.examples``). ``benchmarks/fuzz.py`` runs the
same checks ten million times.
"""

from __future__ import annotations

import faulthandler
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flagkit
from flagkit.testing import strategies as fks
from tests.helpers import examples
from tests.hostile import (
    ENTRY_POINTS,
    Generator,
    check_call,
    clients_for,
    flagd_document,
    native_document,
    unleash_document,
)

#: Seconds one example may take before the run is ended as hung (CI machines are slow).
TIME_LIMIT = 120.0
CALLS_PER_ENTRY_POINT = 3

FIXED = [
    clients_for(native_document()),
    clients_for(flagd_document(), "flagd"),
    clients_for(unleash_document(), "unleash"),
]


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """End the process, dumping every thread's stack, if the block runs past ``seconds``."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def problems_of(clients: list[flagkit.Client], rng: random.Random) -> list[str]:
    """Call every entry point a few times on every client; return what went wrong."""
    keys = tuple({key for client in clients for key in client.flag_keys()})
    generator = Generator(rng, keys)
    found = []
    for client in clients:
        for name, (_, value_type) in ENTRY_POINTS.items():
            for _ in range(CALLS_PER_ENTRY_POINT):
                default = generator.default(value_type or "bool")
                key, context = generator.key(), generator.context()
                problem = check_call(name, client, key, default, context)
                if problem is not None:
                    found.append(f"{name}({key!r:.40}, {type(context).__name__}): {problem}")
    return found


# The hostile inputs are drawn from a seeded random.Random: hundreds of draws per
# example would overflow Hypothesis's own buffer, and a failure names its seed.
SEEDS = st.integers(0, 2**32 - 1)


@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=fks.documents(max_flags=6), seed=SEEDS)
def test_generated_documents_answer_hostile_calls(document: dict[str, Any], seed: int) -> None:
    """Random documents, every entry point, hostile input: no exception, default on error."""
    with time_limit(TIME_LIMIT):
        problems = problems_of(clients_for(document), random.Random(seed))
    assert [] == problems


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(range(len(FIXED))), seed=SEEDS)
def test_every_operator_answers_hostile_calls(which: int, seed: int) -> None:
    """Every operator on every attribute, in each format: no exception, default on error."""
    with time_limit(TIME_LIMIT):
        problems = problems_of(FIXED[which], random.Random(seed))
    assert [] == problems
