"""The expiry guard: evaluating a flag past its ``expires`` date warns or fails."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from flagkit.testing import (
    ExpiryGuard,
    FlagExpiredError,
    FlagExpiredWarning,
    FlagSet,
    expiry_guard,
)

TODAY = dt.date(2027, 7, 1)
CTX = {"targetingKey": "user-1"}


def _client():  # type: ignore[no-untyped-def]
    return (
        FlagSet()
        .boolean("old-release", on=True, expires="2027-06-30")
        .boolean("fresh", on=True, expires="2027-07-01")
        .boolean("forever", on=True)
        .client()
    )


def test_warns_once_per_expired_flag_naming_dates_variant_and_context() -> None:
    """In warn mode, each expired flag warns once at check, with the details."""
    client = _client()
    guard = expiry_guard(client, today=TODAY)
    for flag in ("old-release", "old-release", "fresh", "forever"):
        client.get_bool(flag, False, CTX)
    guard.release()
    with pytest.warns(FlagExpiredWarning) as caught:
        guard.check()
    assert 1 == len(caught)
    message = str(caught[0].message)
    assert "flag 'old-release' expired on 2027-06-30 (today is 2027-07-01)" in message
    assert "variant 'on'" in message
    assert "'user-1'" in message


def test_fail_mode_raises_for_every_expired_flag() -> None:
    """In fail mode the block ends with FlagExpiredError (also an AssertionError)."""
    client = _client()

    def evaluate_in_a_guarded_block() -> None:
        with expiry_guard(client, mode="fail", today=lambda: TODAY):
            client.get_bool("old-release", False, CTX)

    with pytest.raises(FlagExpiredError, match="'old-release' expired") as caught:
        evaluate_in_a_guarded_block()
    assert isinstance(caught.value, AssertionError)


def test_ignore_mode_and_unexpired_flags_are_silent() -> None:
    """Ignore mode never reports; a flag on its expiry day is not expired yet."""
    client = _client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with expiry_guard(client, mode="ignore", today=TODAY):
            client.get_bool("old-release", False, CTX)
        with expiry_guard(client, today=TODAY):
            client.get_bool("fresh", False, CTX)
    assert client._observed is False  # the guards detached


def test_guard_collects_until_checked() -> None:
    """Without a block, ``check()`` reports and forgets what was collected."""
    client = _client()
    guard = ExpiryGuard([client], mode="fail", today=TODAY)
    client.get_bool("old-release", False, CTX)
    assert ["old-release"] == [e.flag_key for e in guard.expired]
    guard.release()
    with pytest.raises(FlagExpiredError):
        guard.check()
    guard.check()  # nothing left


def test_unknown_mode_is_refused() -> None:
    """A typo in the mode fails at once."""
    with pytest.raises(ValueError, match="warn, fail, ignore"):
        ExpiryGuard(mode="loud")  # type: ignore[arg-type]
