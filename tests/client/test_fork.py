"""Fork safety: a client created before fork keeps reloading in the child, without deadlocks."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

import flagkit
from tests.helpers import wait_until

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
BOOL = {"on": True, "off": False}


def test_child_keeps_reloading_after_fork(tmp_path: Path) -> None:
    """The child restarts the watcher and sees a change written after the fork."""
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": {"a": {"variants": BOOL, "default": "off"}}}))
    client = flagkit.Client.from_file(path, watch=True, interval=0.02)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait for the change, report, exit without cleanup
        os.close(read_end)
        seen = wait_until(lambda: client.get_bool("a", False))
        os.write(write_end, b"on" if seen else b"off")
        os._exit(0)
    os.close(write_end)
    # The child's watcher compares against the file it saw at the fork: this
    # write (a new inode) is a change to it whenever its next poll runs.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"flags": {"a": {"variants": BOOL, "default": "on"}}}))
    os.replace(tmp, path)
    answer = os.read(read_end, 16)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    client.close()
    assert (b"on", 0) == (answer, status)


def test_locks_held_by_other_threads_at_fork_do_not_deadlock_the_child() -> None:
    """Counters and publish locks are replaced in a forked child."""
    client = flagkit.Client.from_dict(
        {"flags": {"f": {"variants": BOOL, "default": "on"}}}, counters=True
    )
    client.get_bool("f", False)
    assert client._counters is not None
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with client._counters._tables.lock, client._publish_lock:  # type: ignore[union-attr]
            held.set()
            release.wait(10)

    threading.Thread(target=holder, daemon=True).start()
    held.wait(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        done: list[bool] = []

        def work() -> None:
            client.get_bool("f", False)
            client.source.update({"flags": {"f": {"variants": BOOL, "default": "off"}}})  # type: ignore[attr-defined]
            done.append(client.get_bool("f", True) is False)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(5)
        os.write(write_end, b"ok" if done == [True] else b"hung")
        os._exit(0)
    release.set()
    os.close(write_end)
    answer = os.read(read_end, 8)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert answer == b"ok"


def test_guards_keep_checking_in_a_forked_child() -> None:
    """A guard check running in another thread at fork time does not stop the child's guards."""
    errors = {"metric": "error_rate", "effect": 0.05}
    guard = {"control": "off", "metrics": [errors], "min_sample": 50}
    document = {
        "flags": {
            "f": {
                "variants": BOOL,
                "default": {"rollout": {"weights": {"on": 50, "off": 50}, "guard": guard}},
            }
        }
    }
    client = flagkit.Client.from_dict(document, guard_interval=0)
    outcomes = client._outcomes
    assert outcomes is not None
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with outcomes._due_lock, client._guards.lock:
            held.set()
            release.wait(10)

    threading.Thread(target=holder, daemon=True).start()
    held.wait(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        for i in range(2000):
            with client.toggle("f", False, {"targetingKey": f"u{i}"}) as served:
                if served.variant == "on":
                    served.error()
        tripped = client.status().guards[0].state == "tripped"
        os.write(write_end, b"tripped" if tripped else b"watching")
        os._exit(0)
    release.set()
    os.close(write_end)
    answer = os.read(read_end, 16)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert b"tripped" == answer
