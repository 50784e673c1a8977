"""Helpers shared by the tests: one patient wait (sync and async), and Hypothesis effort.

``wait_until`` is the only way a test waits for something a background
thread or task does: it polls, so a fast machine does not wait long and a
loaded CI machine gets time. A test never asserts that *nothing* happened
after a bare sleep; it drives the code synchronously instead, or waits for
an event that proves the work it is checking has been done.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping

from hypothesis import settings

__all__ = [
    "CI_SCALE",
    "MAX_CI_EXAMPLES",
    "examples",
    "profile_name",
    "wait_until",
    "wait_until_async",
]

#: How often ``wait_until`` and ``wait_until_async`` look again, in seconds.
POLL_INTERVAL = 0.01
#: The ``ci`` profile runs this many times the examples of the default one...
CI_SCALE = 4
#: ...but never more than this per test.
MAX_CI_EXAMPLES = 2000


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` every 10 ms until it is true or ``timeout`` runs out.

    Return its final truth value (so ``assert wait_until(...)`` reads as the
    condition). The timeout is generous: CI machines are loaded.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(POLL_INTERVAL)
    return bool(predicate())


async def wait_until_async(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    """Like ``wait_until``, but yield to the event loop between polls instead of blocking it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(POLL_INTERVAL)
    return bool(predicate())


def profile_name(environ: Mapping[str, str] | None = None) -> str:
    """Return the Hypothesis profile the environment asks for: ``"ci"`` or ``"default"``.

    ``HYPOTHESIS_PROFILE`` decides when it is set (``ci`` or anything else,
    which means ``default``); otherwise ``CI=true`` (any case) means ``ci``.
    """
    env = os.environ if environ is None else environ
    chosen = env.get("HYPOTHESIS_PROFILE")
    if chosen is not None:
        return "ci" if chosen == "ci" else "default"
    return "ci" if env.get("CI", "").lower() == "true" else "default"


def examples(n: int) -> int:
    """Return the ``max_examples`` of a property test written for ``n`` in the default profile.

    ``n`` when the default profile is loaded; in the ``ci`` profile, ``n``
    times ``CI_SCALE``, at most ``MAX_CI_EXAMPLES``. It reads the profile
    that is loaded (tests/conftest.py loads it before any test module is
    imported, and ``--hypothesis-profile`` on the command line wins), so an
    explicit ``@settings(max_examples=examples(n))`` follows the profile.
    """
    if settings.get_current_profile_name() == "ci":
        return max(n, min(n * CI_SCALE, MAX_CI_EXAMPLES))
    return n
