"""``flagkit.testing.record``: evaluations and exposures captured for assertions."""

from __future__ import annotations

import asyncio
import threading

import pytest

import flagkit
from flagkit.testing import FlagSet, override, record

CTX = {"targetingKey": "user-1", "country": "NL"}


def _flags() -> FlagSet:
    return (
        FlagSet()
        .boolean("new-checkout", on=True)
        .rollout("pricing-test", {"a": 50, "b": 50}, kind="experiment")
    )


def test_records_evaluations_with_variant_and_context() -> None:
    """Each evaluation is recorded with its variant, value, reason and context."""
    client = _flags().client()
    with record(client) as rec:
        client.get_bool("new-checkout", False, CTX)
    (evaluation,) = rec.evaluations("new-checkout")
    assert ("on", True, "STATIC", CTX) == (
        evaluation.variant,
        evaluation.value,
        evaluation.reason,
        evaluation.context,
    )
    rec.assert_evaluated("new-checkout", times=1, variant="on", context={"country": "NL"})
    rec.assert_not_evaluated("pricing-test")


def test_detaches_on_exit() -> None:
    """After the block the recorder sees nothing more and the client drops the hook."""
    client = _flags().client()
    with record(client) as rec:
        pass
    client.get_bool("new-checkout", False, CTX)
    assert ([], False) == (rec.evaluations(), client._observed)


def test_exposures_mirrored_without_an_exposure_log() -> None:
    """Experiments expose their variant; overrides and non-tracked flags do not."""
    client = _flags().client()
    variant = client.variant_of("pricing-test", CTX)
    with record(client) as rec:
        client.get_str("pricing-test", "", CTX)
        client.get_bool("new-checkout", False, CTX)
        with override(client, {"pricing-test": "a"}):
            client.get_str("pricing-test", "", CTX)
    assert variant is not None
    rec.assert_exposed("pricing-test", variant=variant, key="user-1", times=1)
    rec.assert_not_exposed("new-checkout")


def test_exposures_tapped_from_the_exposure_log() -> None:
    """With an exposure log, the recorder taps what the client hands it, before dedupe."""
    delivered: list[flagkit.ExposureEvent] = []
    client = _flags().client(exposures=delivered.extend)
    with record(client) as rec:
        client.get_str("pricing-test", "", CTX)
        client.get_str("pricing-test", "", CTX)
    client.flush()
    assert (2, 1) == (len(rec.exposures("pricing-test")), len(delivered))
    client.close()


def test_failure_messages_name_flag_variant_and_context() -> None:
    """A failed assertion lists what was recorded, so the mismatch is obvious."""
    client = _flags().client()
    with record(client) as rec:
        client.get_bool("new-checkout", False, CTX)
    with pytest.raises(AssertionError) as caught:
        rec.assert_evaluated("new-checkout", variant="off")
    message = str(caught.value)
    assert "'new-checkout'" in message
    assert "variant 'off'" in message
    assert "variant 'on'" in message
    assert "'country': 'NL'" in message
    with pytest.raises(AssertionError, match=r"exposed 0 time\(s\) with variant 'zz'"):
        rec.assert_exposed("pricing-test", variant="zz")


def test_records_from_threads_and_tasks() -> None:
    """Evaluations from many threads and asyncio tasks are all recorded."""
    client = _flags().client()

    async def task() -> None:
        await asyncio.sleep(0)
        client.get_bool("new-checkout", False, CTX)

    async def main() -> None:
        await asyncio.gather(*(task() for _ in range(10)))

    with record(client) as rec:
        threads = [
            threading.Thread(target=client.get_bool, args=("new-checkout", False, CTX))
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        asyncio.run(main())
    rec.assert_evaluated("new-checkout", times=20)


def test_errors_are_recorded_and_clear_forgets() -> None:
    """An unknown flag is recorded with its error code; ``clear`` empties the recorder."""
    client = _flags().client()
    with record(client) as rec:
        client.get_bool("missing", False)
    assert ["FLAG_NOT_FOUND"] == [e.error_code for e in rec.evaluations()]
    assert [None] == rec.variants("missing")
    rec.clear()
    assert [] == rec.evaluations()
