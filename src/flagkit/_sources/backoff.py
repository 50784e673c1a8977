"""Polling delays: jittered intervals, exponential back-off and ``Retry-After``.

Thousands of instances polling one URL must not move in lock-step, and a
failing server must not be hammered: every delay is spread by a jitter
factor, consecutive failures double the delay up to a cap, and a server's
``Retry-After`` (RFC 9110 §10.2.3: seconds or an HTTP date) is honoured.
"""

from __future__ import annotations

import email.utils
import random

__all__ = ["Backoff", "jittered", "parse_retry_after"]

#: A hostile or confused server cannot switch updates off for longer than this.
MAX_RETRY_AFTER = 3600.0


def jittered(delay: float, jitter: float, rng: random.Random) -> float:
    """Return ``delay`` spread uniformly by ``±jitter`` (a fraction, 0 to 1)."""
    return delay * (1.0 + jitter * (2.0 * rng.random() - 1.0))


class Backoff:
    """Count consecutive failures and turn them into growing, capped delays."""

    __slots__ = ("base", "cap", "failures", "jitter", "rng")

    def __init__(self, *, base: float, cap: float, jitter: float, rng: random.Random) -> None:
        self.base = base
        self.cap = max(cap, base)
        self.jitter = jitter
        self.rng = rng
        self.failures = 0

    def reset(self) -> None:
        """Forget the failures (after a success)."""
        self.failures = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        """Record a failure and return how long to wait before trying again."""
        # Cap the exponent too, so a long outage cannot overflow the float.
        delay = min(self.cap, self.base * 2 ** min(self.failures, 32))
        self.failures += 1
        delay = jittered(delay, self.jitter, self.rng)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for, or None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, when.timestamp() - now)
