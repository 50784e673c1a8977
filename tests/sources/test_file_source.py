"""FileSource: reloads, races with saves, broken and vanished files, and honest health."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import flagkit
from tests.helpers import wait_until

NUMBERS = {"one": 1, "two": 2, "three": 3}


def document(default: str) -> dict[str, Any]:
    """Return a document whose one int flag ``f`` serves ``default``."""
    return {"flags": {"f": {"variants": NUMBERS, "default": default}}}


def replace(path: Path, text: str) -> None:
    """Write ``text`` atomically (a new inode, as editors and deploy tools do)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class Unwatched:
    """An unwatched file source (only ``check()`` polls it), its client and its errors."""

    path: Path
    source: flagkit.FileSource
    client: flagkit.Client
    errors: list[Exception]

    def last_success_at(self) -> float | None:
        return self.source.status().last_success_at


@pytest.fixture
def unwatched(tmp_path: Path) -> Iterator[Unwatched]:
    """Return an unwatched source over a good file serving ``f`` = 1, and a client over it."""
    path = tmp_path / "flags.json"
    replace(path, json.dumps(document("one")))
    source = flagkit.FileSource(path)
    client = flagkit.Client(source)
    errors: list[Exception] = []
    client.on_error(errors.append)
    yield Unwatched(path, source, client, errors)
    client.close()


def test_watcher_survives_any_failure_and_keeps_watching(tmp_path: Path) -> None:
    """Whatever a bad file raises, it is reported and later good files still load."""
    path = tmp_path / "flags.json"
    path.write_text(
        json.dumps({"flags": {"f": {"variants": {"one": 1, "two": 2}, "default": "one"}}})
    )
    errors: list[Exception] = []
    with flagkit.Client.from_file(path, watch=True, interval=0.02) as client:
        client.on_error(errors.append)
        path.write_text("[" * 100_000 + "]" * 100_000)
        assert wait_until(lambda: bool(errors))
        path.write_text(
            json.dumps({"flags": {"f": {"variants": {"one": 1, "two": 2}, "default": "two"}}})
        )
        assert wait_until(lambda: client.get_int("f", 0) == 2)
        assert client.get_int("f", 0) == 2
    assert errors


def test_file_changed_between_stat_and_read_is_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save racing a reload is seen by the next poll (stat before read)."""
    from flagkit._sources import file as _file_source

    path = tmp_path / "flags.json"

    def write(default: str) -> int:
        return path.write_text(json.dumps(document(default)))

    write("one")
    source = flagkit.FileSource(path)
    client = flagkit.Client(source)
    real_read = _file_source.read_bytes

    def racing_read(p: Any) -> bytes:
        data = real_read(p)
        write("three")  # the second save lands right after the read
        return data

    write("two")
    monkeypatch.setattr(_file_source, "read_bytes", racing_read)
    source.check()
    monkeypatch.setattr(_file_source, "read_bytes", real_read)
    source.check()
    assert client.get_int("f", 0) == 3


def test_a_broken_file_is_not_reported_healthy_by_later_checks(unwatched: Unwatched) -> None:
    """Checks of a file that failed to load never mark a success; the old flags keep serving."""
    healthy_at = unwatched.last_success_at()
    assert healthy_at is not None
    replace(unwatched.path, "{broken json")
    assert [False, False] == [unwatched.source.check(), unwatched.source.check()]
    status = unwatched.source.status()
    assert healthy_at == status.last_success_at
    assert 1 == unwatched.client.get_int("f", 0)
    assert status.last_error is not None
    assert "not valid JSON" in status.last_error
    assert 1 == len(unwatched.errors)  # the same broken file is reported once


def test_a_vanished_file_is_a_source_error(unwatched: Unwatched) -> None:
    """Deleting the file makes check() report a SourceError, once; the old flags keep serving."""
    unwatched.path.unlink()
    assert False is unwatched.source.check()
    assert isinstance(unwatched.errors[-1], flagkit.SourceError)
    assert "cannot read" in str(unwatched.errors[-1])
    assert False is unwatched.source.check()
    assert 1 == len(unwatched.errors)
    assert 1 == unwatched.client.get_int("f", 0)


def test_a_broken_file_that_then_vanishes_is_a_source_error(unwatched: Unwatched) -> None:
    """A file that failed to load and is then deleted is reported as a SourceError too."""
    replace(unwatched.path, "{broken json")
    unwatched.source.check()
    unwatched.path.unlink()
    unwatched.source.check()
    assert 2 == len(unwatched.errors)
    assert isinstance(unwatched.errors[-1], flagkit.SourceError)


def test_a_good_file_after_a_broken_one_loads(unwatched: Unwatched) -> None:
    """After a broken file, restoring a good one: check() makes it live and marks the success."""
    replace(unwatched.path, "{broken json")
    unwatched.source.check()
    broken_since = unwatched.last_success_at()
    replace(unwatched.path, json.dumps(document("two")))
    assert True is unwatched.source.check()
    assert 2 == unwatched.client.get_int("f", 0)
    after = unwatched.last_success_at()
    assert after is not None
    assert broken_since is not None
    assert after > broken_since


def test_a_good_file_after_a_vanished_one_loads(unwatched: Unwatched) -> None:
    """A file that comes back after being deleted is loaded by the next check()."""
    unwatched.path.unlink()
    unwatched.source.check()
    replace(unwatched.path, json.dumps(document("three")))
    assert True is unwatched.source.check()
    assert 3 == unwatched.client.get_int("f", 0)
