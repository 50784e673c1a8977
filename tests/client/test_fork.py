"""Fork safety: a client created before fork keeps reloading in the child."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import flagkit

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
        deadline = time.monotonic() + 10
        seen = False
        while time.monotonic() < deadline and not seen:
            seen = client.get_bool("a", False)
            time.sleep(0.01)
        os.write(write_end, b"on" if seen else b"off")
        os._exit(0)
    os.close(write_end)
    time.sleep(0.1)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"flags": {"a": {"variants": BOOL, "default": "on"}}}))
    os.replace(tmp, path)
    answer = os.read(read_end, 16)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    client.close()
    assert (b"on", 0) == (answer, status)
