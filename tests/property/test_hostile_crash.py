"""Hostile input cannot crash or hang the interpreter: each run is a subprocess that must exit 0.

A segmentation fault (mmh3 given a string with a lone surrogate used to be
one) or a hang (an ``IntEnum`` targeting key used to make a rollout scan a
range of 2**64 integers) cannot be caught in-process, so these tests run the
hostile calls in a child interpreter and look at how it ended: exit status 0,
nothing on stderr, and no problem in what it reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.hostile import HANG_EXIT

ROOT = Path(__file__).resolve().parents[2]
#: Generous: the machine running CI may be loaded; a hang is caught sooner by the watchdog.
TIMEOUT = 600


#: flagkit logs failed evaluations at WARNING (once per flag and error code); the
#: child formats each record, as a real handler would, and writes it nowhere, so
#: stderr holds only what must not happen: a traceback, a logging error, a crash.
QUIET_LOGS = """
import logging, os
logging.getLogger("flagkit").addHandler(logging.StreamHandler(open(os.devnull, "w")))
"""


def run_child(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with the repository importable."""
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", QUIET_LOGS + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_known_crashers_and_hangs_end_cleanly() -> None:
    """Each input that once killed or hung the interpreter, evaluated on every path."""
    child = run_child(
        """
        import json
        from tests.hostile import Liar, Tenant, clients_for, flagd_document, native_document
        from tests.hostile import torture, unleash_document

        fractional = {"fractional": [["on", 50], ["off", 50]]}
        flag = {"state": "ENABLED", "variants": {"on": True, "off": False}, "targeting": fractional}
        surrogate_key = {"flags": {"k\\ud800": flag}}
        clients = clients_for(surrogate_key, "flagd") + clients_for(native_document())
        clients += clients_for(flagd_document(), "flagd")
        clients += clients_for(unleash_document(), "unleash")
        keys = [
            Liar("x\\ud800"), torture(str, "lie", "x\\ud800"), torture(str, "raise", "x\\ud800"),
            Tenant.ACME, Tenant.GLOBEX, torture(int, "lie", 2**64), torture(int, "raise", 7),
            torture(float, "lie", 1.5), "\\ud800", 10**5000,
        ]
        answers = []
        for client in clients:
            for flag in client.flag_keys():
                for key in keys:
                    context = {"targetingKey": key, "email": key, "org": {"id": key}}
                    context |= {"userId": key, "sessionId": key, "country": key}
                    answers.append(client.get_details(flag, None, context).reason.value)
                    answers.append(repr(client.get_bool(flag, False, context)))
                    answers.append(client.get_variant(flag, context).name)
        print(json.dumps(len(answers)))
        """
    )
    assert (0, "") == (child.returncode, child.stderr)
    assert json.loads(child.stdout) > 1000


def test_a_seeded_fuzz_run_ends_cleanly_with_no_problem() -> None:
    """Thousands of hostile calls through every entry point: exit 0 and no problem tallied."""
    child = run_child(
        """
        import json, random
        from tests.hostile import clients_for, flagd_document, fuzz, native_document
        from tests.hostile import unleash_document

        clients = clients_for(native_document()) + clients_for(flagd_document(), "flagd")
        clients += clients_for(unleash_document(), "unleash")
        tally = fuzz(clients, random.Random(20261130), 20_000, time_limit=60)
        print(json.dumps(tally))
        """
    )
    assert (0, "") == (child.returncode, child.stderr)
    tally = json.loads(child.stdout)
    slowest = tally.pop("slowest_us")
    assert {"calls": 20_000} == tally
    assert slowest < 60_000_000


def test_the_watchdog_ends_a_hanging_run() -> None:
    """The fuzz loop's time limit works: a call that never returns ends the process."""
    child = run_child(
        """
        import random, time
        import flagkit
        from tests.hostile import fuzz

        class Stuck(flagkit.Hook):
            def before(self, hook_context, hints):
                time.sleep(3600)

        client = flagkit.Client.from_dict({"flags": {}}, hooks=[Stuck()])
        fuzz([client], random.Random(1), 10, time_limit=1)
        """
    )
    assert HANG_EXIT == child.returncode
    assert "a call ran past 1 s: hung" in child.stderr
    assert "in before" in child.stderr  # every thread's traceback, the stuck one included
