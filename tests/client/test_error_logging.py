"""Evaluation errors are said out loud: once per (flag, error code), at WARNING, rate-limited."""

from __future__ import annotations

import logging

import pytest

import flagkit
from flagkit._client.errorlog import BURST, MAX_SEEN, REFILL_SECONDS, ErrorLog
from flagkit._core.details import ErrorCode

BOOL = {"on": True, "off": False}
DOCUMENT = {
    "flags": {
        "beta-banner": {"variants": BOOL, "default": "off"},
        "beta-banners": {"variants": BOOL, "default": "off"},
        "checkout": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        "theme": {"variants": {"a": "a", "b": "b"}, "default": "a"},
    }
}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "flagkit" and r.levelno == logging.WARNING
    ]


@pytest.fixture(params=["fast", "observed"])
def client(request: pytest.FixtureRequest) -> flagkit.Client:
    """Return a client on the fast path, or one whose getters run the observed path."""
    hooks = [flagkit.Hook()] if request.param == "observed" else []
    return flagkit.Client.from_dict(DOCUMENT, hooks=hooks)


def test_a_mistyped_key_is_logged_once_with_near_matches(
    client: flagkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """``beta-baner``: one WARNING naming FLAG_NOT_FOUND and the keys it probably meant."""
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        assert False is client.get_bool("beta-baner", False)
    lines = _warnings(caplog)
    assert 1 == len(lines), lines
    assert "'beta-baner'" in lines[0]
    assert "FLAG_NOT_FOUND" in lines[0]
    assert "did you mean 'beta-banner' or 'beta-banners'?" in lines[0]


def test_flag_not_found_details_name_the_near_matches(client: flagkit.Client) -> None:
    """The details' message says which keys exist nearby, not only "no such flag"."""
    details = client.get_bool_details("beta-baner", False)
    assert ErrorCode.FLAG_NOT_FOUND == details.error_code
    assert "no such flag; did you mean 'beta-banner' or 'beta-banners'?" == details.error_message
    far = client.get_bool_details("zzzzzz", False)
    assert "no such flag" == far.error_message


def test_a_missing_targeting_key_is_logged_with_a_hint(
    client: flagkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A rollout without a targetingKey: one WARNING, TARGETING_KEY_MISSING, and what to pass."""
    caplog.set_level(logging.DEBUG)
    client.get_bool("checkout", False, {"country": "NL"})
    client.get_bool("checkout", False, {"country": "BE"})
    lines = _warnings(caplog)
    assert 1 == len(lines), lines
    assert "TARGETING_KEY_MISSING" in lines[0]
    assert "targetingKey" in lines[0]


def test_a_getter_of_the_wrong_type_is_logged(
    client: flagkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """``get_bool`` on a string flag: one WARNING with TYPE_MISMATCH and both types."""
    caplog.set_level(logging.DEBUG)
    client.get_bool("theme", False)
    client.get_str("theme", "x")  # right type: nothing
    lines = _warnings(caplog)
    assert 1 == len(lines), lines
    assert "TYPE_MISMATCH" in lines[0]
    assert "served str, asked for bool" in lines[0]


def test_each_distinct_flag_and_code_is_logged_once(
    client: flagkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Two codes for one flag are two lines; repeats of either are none."""
    caplog.set_level(logging.DEBUG)
    for _ in range(2):
        client.get_bool("checkout", False, {})  # TARGETING_KEY_MISSING
        client.get_str("checkout", "x", {"targetingKey": "u"})  # TYPE_MISMATCH (a value served)
    assert 2 == len(_warnings(caplog))


def test_the_success_path_logs_nothing(
    client: flagkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Successful evaluations write no record at any level."""
    caplog.set_level(logging.DEBUG)
    for key in range(100):
        client.get_bool("checkout", False, {"targetingKey": f"user-{key}"})
        client.get_str("theme", "x")
        client.get_bool_details("beta-banner", True)
    assert [] == [r for r in caplog.records if r.name == "flagkit"]


def test_the_log_is_rate_limited_and_says_how_much_it_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A burst of distinct failures logs BURST lines; the next one counts what was held back."""
    caplog.set_level(logging.DEBUG)
    now = [0.0]
    log = ErrorLog(clock=lambda: now[0])
    for index in range(50):
        log.report(f"missing-{index}", ErrorCode.FLAG_NOT_FOUND, "no such flag")
    assert int(BURST) == len(_warnings(caplog))
    now[0] += REFILL_SECONDS
    log.report("one-more", ErrorCode.FLAG_NOT_FOUND, "no such flag")
    lines = _warnings(caplog)
    assert int(BURST) + 1 == len(lines)
    assert f"[{50 - int(BURST)} other failing flag(s) not logged: rate limit]" in lines[-1]


def test_the_memory_of_logged_pairs_is_bounded() -> None:
    """Caller-supplied keys cannot grow the log's memory without limit."""
    log = ErrorLog(clock=lambda: 0.0)
    for index in range(3 * MAX_SEEN):
        log.report(f"k{index}", ErrorCode.FLAG_NOT_FOUND, None)
    assert len(log._seen) <= MAX_SEEN
