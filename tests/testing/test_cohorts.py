"""Cohorts and split checks, verified against the real evaluation."""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import flagkit
from flagkit.testing import (
    CohortNotFoundError,
    FlagSet,
    UnknownFlagError,
    assert_split,
    assignments,
    chi_square_sf,
    cohort,
    rollout,
    split_check,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "flagkit" / "examples" / "flags.yaml"

#: Off for everyone until 2026-12-01T09:00Z, then on for everyone.
STEP = {
    "flags": {
        "step": {
            "variants": {"on": True, "off": False},
            "default": {
                "rollout": {
                    "weights": {"on": 0, "off": 100},
                    "schedule": [{"at": "2026-12-01T09:00:00Z", "weights": {"on": 100, "off": 0}}],
                }
            },
        }
    }
}
#: Naive 07:00: before the step read as UTC, after it read in New York (12:00Z).
NAIVE = dt.datetime(2026, 12, 1, 7, 0)
AS_UTC = NAIVE.replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize("variant", ["control", "treatment-a", "treatment-b"])
def test_every_cohort_key_lands_in_its_variant(variant: str) -> None:
    """Each key ``cohort`` returns is served that variant by a real client."""
    client = flagkit.Client.from_file(EXAMPLE)
    keys = cohort(EXAMPLE, "pricing-test", variant, 20)
    assert 20 == len(set(keys))
    assert [variant] * 20 == [client.variant_of("pricing-test", {"targetingKey": k}) for k in keys]


def test_cohort_is_deterministic_and_accepts_every_input() -> None:
    """A path, a document, a snapshot and a client give the same keys; start/prefix move."""
    flags = rollout("f", {"on": 10, "off": 90})
    document = flags.build()
    client = flags.client()
    expected = cohort(document, "f", "on", 5)
    assert expected == cohort(client, "f", "on", 5)
    assert expected == cohort(client.snapshot, "f", "on", 5)
    shifted = cohort(document, "f", "on", 5, start=1000, prefix="acct-")
    assert all(k.startswith("acct-") and int(k[5:]) >= 1000 for k in shifted)


def test_cohort_with_a_context_factory_returns_contexts() -> None:
    """For a rollout by another attribute, a factory builds whole contexts."""
    client = (
        FlagSet()
        .flag("dash")
        .variants(on=True, off=False)
        .rollout({"on": 25, "off": 75}, by="org.id")
        .client()
    )
    contexts = cohort(
        client, "dash", "on", 3, context_factory=lambda k: {"targetingKey": "u", "org": {"id": k}}
    )
    assert ["on"] * 3 == [client.variant_of("dash", c) for c in contexts]


def test_unreachable_variant_raises_with_a_clear_message() -> None:
    """A variant no key reaches fails within the budget, naming flag, variant and spread."""
    flags = (
        FlagSet()
        .flag("f")
        .variants(on=True, off=False)
        .rollout({"on": 50, "off": 50}, by="org.id")
        .build()
    )
    with pytest.raises(CohortNotFoundError) as caught:
        cohort(flags, "f", "on", 1, budget=50)
    message = str(caught.value)
    assert "variant 'on' of flag 'f'" in message
    assert "(default): 50" in message
    assert "context_factory" in message
    with pytest.raises(UnknownFlagError, match="no variant 'x'"):
        cohort(flags, "f", "x", 1)
    with pytest.raises(UnknownFlagError, match="no flag 'g'"):
        cohort(flags, "g", "on", 1)


def test_assignments_match_the_client() -> None:
    """``assignments`` gives the variant a real client serves each key."""
    client = flagkit.Client.from_file(EXAMPLE)
    keys = [f"k{i}" for i in range(50)]
    expected = {k: client.variant_of("pricing-test", {"targetingKey": k}) for k in keys}
    assert expected == assignments(EXAMPLE, "pricing-test", keys)


def test_split_check_passes_for_a_correct_config() -> None:
    """The example A/B test splits 50/25/25 as declared."""
    result = split_check(EXAMPLE, "pricing-test", sample=4000)
    assert result.ok
    assert {"control": 0.5, "treatment-a": 0.25, "treatment-b": 0.25} == result.expected
    assert 4000 == sum(result.observed.values())
    assert 2 == result.df


def test_split_check_follows_the_schedule() -> None:
    """``at`` picks the ramp step in force; the observed split matches it."""
    at = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    result = split_check(EXAMPLE, "search-ramp", sample=3000, at=at)
    assert ({"on": 0.1, "off": 0.9}, True) == (result.expected, result.ok)


def test_assert_split_reports_a_broken_rollout_with_a_table() -> None:
    """Against the wrong expectation the check fails with a readable table."""
    with pytest.raises(AssertionError) as caught:
        assert_split(
            EXAMPLE, "pricing-test", sample=2000, expected={"control": 1, "treatment-a": 1}
        )
    message = str(caught.value)
    assert "flag 'pricing-test' does not split as expected" in message
    assert re.search(r"variant +expected +observed +count", message)
    assert "treatment-b" in message


def test_split_check_needs_expected_shares_for_targeted_flags() -> None:
    """Rules make the split depend on contexts: the check asks for ``expected``."""
    with pytest.raises(ValueError, match="pass expected="):
        split_check(EXAMPLE, "beta-banner")
    result = split_check(EXAMPLE, "beta-banner", expected={"off": 1}, sample=100)
    assert (1.0, 0) == (result.p_value, result.df)


def test_split_check_reads_expected_shares_from_a_client() -> None:
    """A client's compiled plan gives the expected shares: no definition needed."""
    with flagkit.Client.from_file(EXAMPLE) as client:
        from_client = split_check(client, "pricing-test", sample=2000)
    from_file = split_check(EXAMPLE, "pricing-test", sample=2000)
    assert from_file.expected == from_client.expected
    assert from_file.observed == from_client.observed


@pytest.mark.parametrize(
    ("statistic", "df", "expected"),
    [
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (13.815510557964274, 2, 0.001),
        (9.487729036781154, 4, 0.05),
        (0.0, 3, 1.0),
        (1.0, 10, 0.9998278843700441),
        (100.0, 3, 1.5541594316e-21),
    ],
)
def test_chi_square_survival_function_matches_tables(
    statistic: float, df: int, expected: float
) -> None:
    """The hand-written survival function matches published chi-square quantiles."""
    assert math.isclose(expected, chi_square_sf(statistic, df), rel_tol=1e-8)


@pytest.fixture
def new_york() -> Iterator[None]:
    """Run the test with the process's local time zone set to America/New_York."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "America/New_York")
        time.tzset()
        try:
            assert 5 * 3600 == NAIVE.timestamp() - AS_UTC  # the zone is in force (tzdata)
            yield
        finally:
            patch.undo()
            time.tzset()


def _client_at_naive_utc() -> flagkit.Client:
    """Return a client over STEP whose clock is NAIVE read as UTC."""
    return flagkit.Client.from_dict(STEP, clock=lambda: AS_UTC)


@pytest.mark.usefixtures("new_york")
def test_cohort_reads_a_naive_at_as_utc() -> None:
    """cohort(at=naive) finds keys that a client at that UTC instant serves the variant."""
    keys = cohort(STEP, "step", "off", 5, at=NAIVE, budget=1000)
    client = _client_at_naive_utc()
    assert ["off"] * 5 == [client.variant_of("step", {"targetingKey": k}) for k in keys]


@pytest.mark.usefixtures("new_york")
def test_assignments_read_a_naive_at_as_utc() -> None:
    """assignments(at=naive) agree with a client at that UTC instant."""
    keys = [f"user-{i}" for i in range(50)]
    client = _client_at_naive_utc()
    assert {k: client.variant_of("step", {"targetingKey": k}) for k in keys} == assignments(
        STEP, "step", keys, at=NAIVE
    )


@pytest.mark.usefixtures("new_york")
def test_split_check_reads_a_naive_at_as_utc() -> None:
    """split_check(at=naive) expects and observes what a client at that UTC instant serves."""
    client = _client_at_naive_utc()
    served = Counter(
        client.variant_of("step", {"targetingKey": f"user-{i}"}) or "(default)" for i in range(500)
    )
    result = split_check(STEP, "step", sample=500, at=NAIVE)
    assert ({"on": 0.0, "off": 1.0}, dict(served), True) == (
        result.expected,
        result.observed,
        result.ok,
    )
