"""The contract every source keeps, as a mixin each source's test class reuses.

A subclass provides a ``harness`` fixture (see ``Harness``); the tests here
then check what a client relies on, whatever the bytes come from.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import flagkit
from tests.helpers import wait_until
from tests.sources.httpserver import flags_document


class Harness(Protocol):
    """Drives one kind of source for the contract tests."""

    live: str  # what status().live says once the source has loaded

    def make(self, document: dict[str, Any]) -> flagkit.Source:
        """Return a source that serves ``document``."""

    def update(self, document: dict[str, Any]) -> None:
        """Make the source's origin hold a new, valid ``document``."""

    def break_origin(self) -> None:
        """Make the source's origin hold an invalid document."""


def _value(client: flagkit.Client) -> Any:
    return client.get_details("banner", None).value


class SourceContract:
    """Tests that every source must pass."""

    def test_publishes_the_initial_snapshot(self, harness: Harness) -> None:
        """A client over the source serves the origin's flags, and says it is ready."""
        with flagkit.Client(harness.make(flags_document("first"))) as client:
            assert wait_until(lambda: "first" == _value(client))
            status = client.status()
            assert (True, harness.live) == (status.ready, status.live)

    def test_picks_up_an_update(self, harness: Harness) -> None:
        """A valid new document reaches the client."""
        with flagkit.Client(harness.make(flags_document("first"))) as client:
            assert wait_until(lambda: "first" == _value(client))
            harness.update(flags_document("second"))
            assert wait_until(lambda: "second" == _value(client))

    def test_keeps_the_last_good_on_a_bad_update(self, harness: Harness) -> None:
        """An invalid document is reported in status() and the live flags stay."""
        with flagkit.Client(harness.make(flags_document("first"))) as client:
            assert wait_until(lambda: "first" == _value(client))
            harness.break_origin()
            assert wait_until(lambda: client.status().last_error is not None)
            assert "first" == _value(client)
            assert client.status().last_error_at is not None
            assert harness.live == client.status().live

    def test_isolates_a_bad_flag_and_keeps_its_last_good(self, harness: Harness) -> None:
        """One broken flag is refused on its own: the others update, it keeps its last good."""
        first = flags_document("first")
        first["flags"]["other"] = flags_document("one")["flags"]["banner"]
        with flagkit.Client(harness.make(first)) as client:
            errors: list[Exception] = []
            client.on_error(errors.append)
            assert wait_until(lambda: "first" == _value(client))
            second = flags_document("second", flag="other")
            second["flags"]["banner"] = {"variants": {"on": 1}, "default": "missing"}
            second["flags"]["new"] = {"variants": {"on": 1}, "default": "missing"}
            harness.update(second)
            assert wait_until(lambda: "second" == client.get_details("other", None).value)
            assert "first" == _value(client)  # refused, serving its last good
            new = client.get_details("new", "mine")
            assert ("mine", flagkit.ErrorCode.PARSE_ERROR) == (new.value, new.error_code)
            status = client.status()
            assert ("banner", "new") == status.refused
            assert {"flags.banner.default", "flags.new.default"} == {
                f"flags.{p.flag}.{p.field}" for p in status.problems
            }
            assert wait_until(lambda: bool(errors))
            assert isinstance(errors[-1], flagkit.RefusedFlagsError)
            assert ("banner",) == errors[-1].kept

    def test_status_names_the_source(self, harness: Harness) -> None:
        """status() carries the source's kind and origin."""
        source = harness.make(flags_document("first"))
        with flagkit.Client(source) as client:
            status = client.status().source
            assert status is not None
            assert (source.kind, source.origin) == (status.kind, status.origin)

    def test_close_is_idempotent_and_joins_threads(self, harness: Harness) -> None:
        """close() twice is fine, and no thread the source started outlives it."""
        before = set(threading.enumerate())
        client = flagkit.Client(harness.make(flags_document("first")))
        assert wait_until(lambda: "first" == _value(client))
        client.close()
        client.close()
        client.source.close()
        started = {t for t in threading.enumerate() if t not in before}
        assert set() == {t for t in started if t.name.startswith("flagkit")}
