"""Evaluation errors said out loud: one WARNING per (flag, error code), rate-limited.

An evaluation that fails serves the caller's default and never raises
(DESIGN.md, invariant 1). Silence would make a mistyped key a feature that
quietly stays off in production, so the first failure of each distinct
(flag, error code) is logged at WARNING in the ``flagkit`` logger, with a
hint ("did you mean ...", "pass a targetingKey"). Repeats are not logged:
``Client.counters()`` counts them.

Bounded on every side: the set of pairs already logged holds at most
``MAX_SEEN`` entries, each key as an exact string cut to ``MAX_KEY_CHARS``
(``counters.shown_key``: keys come from callers, so a flood of unique or
huge bad keys cannot grow memory, nor flood the log), and a token bucket
allows ``BURST`` lines at once and then one every ``REFILL_SECONDS``; lines
it holds back are counted and the count is told with the next line. No
lock: the races are benign (at worst a pair is logged twice, or the bucket
lends one line too many). Nothing here runs on a successful evaluation.

FLAG_NOT_FOUND's message names the live keys closest to the unknown one
(``NearMatches``). That search reads every flag key (difflib: about 15 ms
per 1,000 flags for a key that resembles them), so it is bounded too: each
key's message is remembered per snapshot (``MAX_NEAR`` keys of at most
``MAX_KEY_CHARS`` characters), and a flood of distinct unknown keys gets
``NEAR_BURST`` searches at once, then one every ``NEAR_REFILL_SECONDS``; the
others say "no such flag" without searching.
"""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Callable, Iterable

from flagkit._client.counters import MAX_KEY_CHARS, shown_key
from flagkit._core.details import ErrorCode

__all__ = ["ErrorLog", "NearMatches", "TokenBucket", "near_matches"]

logger = logging.getLogger("flagkit")

MAX_SEEN = 4096
BURST = 10.0
REFILL_SECONDS = 6.0
MAX_NEAR = 1024
NEAR_BURST = 8.0
NEAR_REFILL_SECONDS = 1.0
NO_SUCH_FLAG = "no such flag"

_HINTS = {
    ErrorCode.TARGETING_KEY_MISSING: "pass a 'targetingKey' in the context",
    ErrorCode.TYPE_MISMATCH: "use the getter of the flag's type",
    ErrorCode.INVALID_CONTEXT: "pass a mapping (a dict) as the context",
}


def near_matches(key: str, known: Iterable[str], *, n: int = 3) -> list[str]:
    """Return up to ``n`` known keys close to ``key`` (difflib's ratio, best first)."""
    return difflib.get_close_matches(key, list(known), n=n, cutoff=0.6)


class TokenBucket:
    """``burst`` tokens at once, then one more every ``refill`` seconds (no lock: see above)."""

    __slots__ = ("_burst", "_clock", "_refill", "_refilled_at", "_tokens")

    def __init__(self, burst: float, refill: float, clock: Callable[[], float] | None) -> None:
        self._burst = burst
        self._refill = refill
        self._clock = time.monotonic if clock is None else clock
        self._tokens = burst
        self._refilled_at = self._clock()

    def take(self) -> bool:
        """Take a token; False when none is left."""
        now = self._clock()
        tokens = min(self._burst, self._tokens + (now - self._refilled_at) / self._refill)
        self._refilled_at = now
        if tokens < 1.0:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        return True


class NearMatches:
    """FLAG_NOT_FOUND's messages, naming near matches, bounded in memory and work."""

    __slots__ = ("_bucket", "_messages")

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._messages: dict[str, str] = {}
        self._bucket = TokenBucket(NEAR_BURST, NEAR_REFILL_SECONDS, clock)

    def clear(self) -> None:
        """Forget every message (a new snapshot has other keys)."""
        self._messages = {}

    def message(self, flag_key: object, known: Iterable[str]) -> str:
        """Return "no such flag", naming the ``known`` keys closest to ``flag_key`` if any.

        A key that is no exact string, or longer than a flag key may be, is
        not searched for; nor is one past the search budget (module docstring).
        """
        if type(flag_key) is not str or len(flag_key) > MAX_KEY_CHARS:
            return NO_SUCH_FLAG
        message = self._messages.get(flag_key)
        if message is None:
            if not self._bucket.take():
                return NO_SUCH_FLAG  # a flood of unknown keys: no search, nothing remembered
            near = near_matches(flag_key, known)
            message = NO_SUCH_FLAG + (
                f"; did you mean {' or '.join(repr(k) for k in near)}?" if near else ""
            )
            if len(self._messages) < MAX_NEAR:
                self._messages[flag_key] = message
        return message


class ErrorLog:
    """Log each (flag, error code) pair once, within a rate limit."""

    __slots__ = ("_bucket", "_seen", "_suppressed")

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._seen: dict[tuple[str, ErrorCode], None] = {}
        self._bucket = TokenBucket(BURST, REFILL_SECONDS, clock)
        self._suppressed = 0

    def logged(self, flag_key: str, code: ErrorCode) -> bool:
        """Return True when this (flag, code) was logged already (so its message is not needed)."""
        return (shown_key(flag_key), code) in self._seen

    def report(self, flag_key: str, code: ErrorCode, message: str | None) -> None:
        """Log this failure unless its (flag, code) was logged already or the bucket is empty."""
        flag_key = shown_key(flag_key)
        pair = (flag_key, code)
        seen = self._seen
        if pair in seen:
            return
        if len(seen) >= MAX_SEEN:
            seen.clear()  # forget the oldest all at once: at worst a pair is logged again
        seen[pair] = None
        if not self._bucket.take():
            self._suppressed += 1
            return
        suppressed, self._suppressed = self._suppressed, 0
        hint = _HINTS.get(code)
        logger.warning(
            "flagkit: flag %r served the caller's default: %s: %s%s%s",
            flag_key,
            code.value,
            message or code.value,
            f" ({hint})" if hint and (message is None or hint not in message) else "",
            f" [{suppressed} other failing flag(s) not logged: rate limit]" if suppressed else "",
        )
