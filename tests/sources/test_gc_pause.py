"""A load never changes the application's garbage collection, and a forked child keeps it.

Issue 17: the collector was turned off process-wide from the watcher thread
during every reload, and 14 of 14 children forked mid-reload ran without
it for good. These tests fork for real, during real reloads.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import flagkit
from flagkit._sources import gc as gc_pause
from tests.helpers import wait_until

BOOL = {"on": True, "off": False}


def _flagd_document(flags: int, version: int) -> str:
    """A flagd document: it loads through the path that may pause the collector."""
    body: dict[str, Any] = {
        f"f{i}": {
            "state": "ENABLED",
            "variants": BOOL,
            "defaultVariant": "on" if (i + version) % 2 else "off",
            "targeting": {"if": [{"==": [{"var": "plan"}, f"p{i}"]}, "on", "off"]},
        }
        for i in range(flags)
    }
    return json.dumps({"flags": body})


def _child_reports_collector() -> int:
    """Fork; the child writes whether its collector is on and exits; return the answer."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer and leave without any cleanup
        os.write(write_end, b"1" if gc.isenabled() else b"0")
        os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1)
    os.close(read_end)
    os.waitpid(pid, 0)
    return int(answer)


def test_children_forked_during_background_reloads_keep_their_collector(tmp_path: Path) -> None:
    """Reloads run on the watcher thread while the main thread forks and samples the collector."""
    path = tmp_path / "flags.json"
    path.write_text(_flagd_document(400, 0))
    client = flagkit.Client.from_file(path, format="flagd", watch=True, interval=0.001)
    reloads: list[int] = []
    client.on_change(lambda event: reloads.append(len(event.changed)))
    stop = threading.Event()

    def rewrite() -> None:
        version = 0
        while not stop.is_set():
            version += 1
            temporary = path.with_suffix(".tmp")
            temporary.write_text(_flagd_document(400, version))
            os.replace(temporary, path)

    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()
    try:
        assert wait_until(lambda: len(reloads) >= 3)
        samples = []
        children = []
        while len(children) < 14 or len(reloads) < 20:
            samples.append(gc.isenabled())
            children.append(_child_reports_collector())
    finally:
        stop.set()
        writer.join()
        client.close()
    assert all(samples)
    assert [1] * len(children) == children


def test_a_child_forked_inside_another_threads_pause_turns_the_collector_on() -> None:
    """The fork hook restores the collector when the pausing thread did not come along."""
    assert gc.isenabled()
    gc.disable()
    gc_pause._pausing_thread = -1  # a thread the child will not have
    try:
        assert 1 == _child_reports_collector()
    finally:
        gc_pause._pausing_thread = None
        gc.enable()


def test_the_collector_is_paused_only_when_the_loading_thread_is_alone() -> None:
    """Alone, a load may pause it; with another thread alive, it never does."""
    script = """
import gc, threading
from flagkit._sources.gc import gc_paused
with gc_paused():
    alone = gc.isenabled()
after = gc.isenabled()
stop = threading.Event()
other = threading.Thread(target=stop.wait)
other.start()
with gc_paused():
    shared = gc.isenabled()
stop.set()
other.join()
print(alone, after, shared)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "False True True" == done.stdout.strip()


def test_the_fork_hook_leaves_the_collector_alone_outside_a_pause() -> None:
    """In a child of a process that was not loading, the hook changes nothing."""
    gc.disable()  # the application's own choice
    try:
        gc_pause.after_fork_in_child()
        assert not gc.isenabled()
        gc_pause._pausing_thread = -1
        gc_pause.after_fork_in_child()
        assert gc.isenabled()
        assert gc_pause._pausing_thread is None
    finally:
        gc_pause._pausing_thread = None
        gc.enable()
