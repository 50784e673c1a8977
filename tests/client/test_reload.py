"""File reload: changes go live atomically, bad changes keep the last good flags."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import ChangeEvent, ErrorCode, Reason
from tests.helpers import wait_until

BOOL = {"on": True, "off": False}


def write(path: Path, flags: dict[str, Any]) -> None:
    """Write a document atomically (a new inode, as editors and deploy tools do)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"flags": flags}))
    os.replace(tmp, path)


def watcher_polls(client: flagkit.Client, polls: int) -> None:
    """Wait until the file watcher has finished ``polls`` more polls of an unchanged file.

    Each such poll marks a success; the second one to finish after a change
    to the file started after it, so it has seen (and dealt with) the change.
    """
    for _ in range(polls):
        assert wait_until(_next_success(client))


def _next_success(client: flagkit.Client) -> Callable[[], bool]:
    """Return a predicate: has the source marked a success since now?"""
    before = client.source.status().last_success_at
    return lambda: client.source.status().last_success_at != before


def check_unchanged(source: flagkit.Source, times: int = 3) -> None:
    """Poll a file source ``times`` more times ourselves; none may make new flags live."""
    assert isinstance(source, flagkit.FileSource)
    assert [False] * times == [source.check() for _ in range(times)]


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    write(
        path, {"a": {"variants": BOOL, "default": "off"}, "b": {"variants": BOOL, "default": "on"}}
    )
    return path


def test_a_changed_file_goes_live(flag_file: Path) -> None:
    """A running client picks up an edited file and tells listeners once."""
    events: list[ChangeEvent] = []
    with flagkit.Client.from_file(flag_file, watch=True, interval=0.02) as client:
        client.on_change(events.append)
        assert client.get_bool("a", True) is False
        write(
            flag_file,
            {"a": {"variants": BOOL, "default": "on"}, "c": {"variants": BOOL, "default": "on"}},
        )
        assert wait_until(lambda: client.get_bool("a", False) is True)
        watcher_polls(client, 3)  # the watcher looked again: no duplicate events
        check_unchanged(client.source)  # and so did we, synchronously
    assert 1 == len(events)
    assert (frozenset({"c"}), frozenset({"b"}), frozenset({"a"})) == (
        events[0].added,
        events[0].removed,
        events[0].modified,
    )


def test_a_malformed_change_keeps_the_last_good_flags(flag_file: Path) -> None:
    """Invalid JSON or an invalid document is reported; the old flags keep serving."""
    errors: list[Exception] = []
    with flagkit.Client.from_file(flag_file, watch=True, interval=0.02) as client:
        client.on_error(errors.append)
        flag_file.write_text("{broken json")
        assert wait_until(lambda: len(errors) >= 1)
        assert client.get_bool("b", False) is True
        status = client.status()
        assert status.ready
        assert status.last_error is not None
        assert "not valid JSON" in status.last_error
        assert status.error_age() is not None
        write(
            flag_file,
            {"a": {"variants": BOOL, "default": "nope"}, "b": {"variants": BOOL, "default": "off"}},
        )
        assert wait_until(lambda: len(errors) >= 2)
        assert "unknown variant 'nope'" in str(errors[-1])
        assert client.get_bool("b", True) is False  # the good flag updated
        assert client.get_bool("a", True) is False  # the broken one kept its last good
        write(flag_file, {"a": {"variants": BOOL, "default": "on"}})
        assert wait_until(lambda: client.get_bool("a", False) is True)


def test_touch_without_change_does_not_recompile(flag_file: Path) -> None:
    """Rewriting identical content costs no compile and fires no event."""
    events: list[ChangeEvent] = []
    with flagkit.Client.from_file(flag_file, watch=True, interval=0.02) as client:
        client.on_change(events.append)
        snapshot = client.snapshot
        flag_file.write_text(flag_file.read_text())
        os.utime(flag_file, ns=(time.time_ns(), time.time_ns() + 10**9))
        watcher_polls(client, 2)  # a poll that started after the touch has finished
        check_unchanged(client.source)
        assert client.snapshot is snapshot
    assert [] == events


def test_invalid_file_at_start_raises(tmp_path: Path) -> None:
    """A client does not start on a file it cannot load."""
    path = tmp_path / "flags.json"
    path.write_text('{"flags": {"a": {"variants": {"on": true}, "default": "x"}}, "bogus": 1}')
    with pytest.raises(flagkit.DefinitionError, match="unknown variant 'x'"):
        flagkit.Client.from_file(path, watch=True)


def test_close_joins_the_poller_and_leaks_no_threads(flag_file: Path) -> None:
    """close() stops the watcher thread; the client is a context manager."""
    baseline = threading.active_count()
    clients = [flagkit.Client.from_file(flag_file, watch=True, interval=0.01) for _ in range(5)]
    assert threading.active_count() == baseline + 5
    for client in clients:
        client.close()
        client.close()  # idempotent
    assert threading.active_count() == baseline
    assert clients[0].status().closed


def test_concurrent_reads_never_see_a_torn_snapshot() -> None:
    """1,000 reloads under concurrent evaluation: every read sees one whole generation."""

    def document(generation: int) -> dict[str, Any]:
        value = f"g{generation}"
        return {
            "flags": {
                "x": {"variants": {value: value}, "default": value},
                "y": {"variants": {value: value}, "default": value},
                "z": {
                    "variants": {value: value, "off": "off"},
                    "prerequisites": [{"flag": "x", "variants": [value]}],
                    "off_variant": "off",
                    "default": value,
                },
            }
        }

    source = flagkit.MemorySource(document(0))
    client = flagkit.Client(source)
    stop = threading.Event()
    failures: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            everything = client.all_flags({})
            values = {d.value for d in everything.values()}
            if len(values) != 1:
                failures.append(f"torn: {values}")
            if client.get_str("z", "?") == "off":
                failures.append("prerequisite saw another generation")
            reads[0] += 1

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for generation in range(1, 1001):
            source.update(document(generation))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert [] == failures
    assert client.get_str("x", "?") == "g1000"
    assert reads[0] > 0


def test_memory_source_bad_update_keeps_flags() -> None:
    """MemorySource.update raises on an invalid document and keeps the live flags."""
    source = flagkit.MemorySource({"flags": {"a": {"variants": BOOL, "default": "on"}}})
    client = flagkit.Client(source)
    with pytest.raises(flagkit.DefinitionError):
        source.update({"flags": {"a": {"variants": BOOL, "default": "maybe"}}, "bogus": 1})
    assert client.get_bool("a", False) is True
    assert "unknown variant" in (client.status().last_error or "")


def test_memory_source_bad_flag_keeps_its_last_good_definition() -> None:
    """An update with one broken flag serves the good ones and keeps the broken one's last good."""
    source = flagkit.MemorySource({"flags": {"a": {"variants": BOOL, "default": "on"}}})
    client = flagkit.Client(source)
    errors: list[Exception] = []
    client.on_error(errors.append)
    source.update(
        {
            "flags": {
                "a": {"variants": BOOL, "default": "maybe"},
                "b": {"variants": BOOL, "default": "on"},
                "c": {"variants": BOOL, "default": "nope"},
            }
        }
    )
    assert (True, True) == (client.get_bool("a", False), client.get_bool("b", False))
    missing = client.get_bool_details("c", False)
    assert (Reason.ERROR, ErrorCode.PARSE_ERROR) == (missing.reason, missing.error_code)
    status = client.status()
    assert ("a", "c") == status.refused
    assert {"a", "c"} == {p.flag for p in status.problems}
    assert isinstance(errors[-1], flagkit.RefusedFlagsError)
    assert (("a", "c"), ("a",)) == (errors[-1].refused, errors[-1].kept)
    assert "unknown variant 'nope'" in str(errors[-1])


def test_a_segment_change_is_a_change_of_the_flags_using_it() -> None:
    """Listeners hear about flags whose segment (or prerequisite) changed."""

    def document(members: list[str], default: str) -> dict[str, Any]:
        return {
            "segments": {"beta": {"include": members}},
            "flags": {
                "b": {
                    "variants": BOOL,
                    "rules": [{"when": [{"op": "in_segment", "value": "beta"}], "serve": "on"}],
                    "default": "off",
                },
                "base": {"variants": BOOL, "default": default},
                "child": {
                    "variants": BOOL,
                    "prerequisites": [{"flag": "base", "variants": ["on"]}],
                    "off_variant": "off",
                    "default": "on",
                },
            },
        }

    source = flagkit.MemorySource(document(["u1"], "on"))
    client = flagkit.Client(source)
    events: list[flagkit.ChangeEvent] = []
    client.on_change(events.append)
    source.update(document(["u1", "u2"], "on"))
    source.update(document(["u1", "u2"], "off"))
    assert [{"b"}, {"base", "child"}] == [set(e.modified) for e in events]
