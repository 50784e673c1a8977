"""Unleash's value grammars: numbers, instants, semantic versions, IP ranges, regexes.

Unleash's reference engine (Yggdrasil, which the official Python SDK runs)
reads every context value as a string and parses it per operator with
Rust's parsers; a value that does not parse makes the constraint false.
These functions reproduce those parsers, so a flag resolves here as it does
there: ``f64::from_str`` for numbers, chrono's relaxed RFC 3339 for
instants, the ``semver`` crate for versions (precedence ignores build
metadata), ``ipnetwork`` for addresses and ranges, and the ``regex`` crate's
syntax, through RE2 (the ``google-re2`` package, of the same family: linear
time, no look-arounds or back-references) when it is installed.

The constraint's own operand is held to Unleash's stricter strategy grammar
(``strategy_grammar.pest``): a number, an instant or a version it cannot
read makes the whole feature unusable, which the compiler reports.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from flagkit._core.safe_regex import MAX_SUBJECT, UnsafePatternError, compile_safe

__all__ = [
    "IPRange",
    "SemVer",
    "compile_regex",
    "context_instant",
    "context_number",
    "context_semver",
    "in_ranges",
    "ip_of",
    "ip_ranges",
    "operand_instant",
    "operand_number",
    "operand_semver",
]

# Rust's f64::from_str: an optional sign, then inf, infinity or nan (any
# case), or digits with an optional point and exponent; nothing else (no
# spaces, no underscores, which Python's float() would accept).
_RUST_FLOAT = re.compile(
    r"[+-]?(?:(?i:inf|infinity|nan)|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", re.ASCII
)
# The strategy grammar's ``num``: int ("." digits*)? (e int)?
_GRAMMAR_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?", re.ASCII)


def context_number(text: str) -> float | None:
    """Return a context value read as Rust reads an ``f64``, or None."""
    if len(text) > 400 or _RUST_FLOAT.fullmatch(text) is None:
        return None
    return float(text)


def operand_number(text: str) -> float | None:
    """Return a constraint's numeric operand, or None when the grammar refuses it."""
    if len(text) > 400 or _GRAMMAR_NUMBER.fullmatch(text) is None:
        return None
    return float(text)


# chrono's relaxed RFC 3339 (``DateTime<Utc>::from_str``): T, t or a space
# between date and time, any number of fractional digits, Z or an offset.
_CONTEXT_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
)
# The strategy grammar's ``date``: exactly this shape, milliseconds optional.
_GRAMMAR_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def context_instant(text: str) -> int | None:
    """Return an instant as integer nanoseconds since the epoch, or None.

    Integers, not floats: instants a nanosecond apart must still compare
    as Rust compares them.
    """
    match = _CONTEXT_INSTANT.fullmatch(text) if len(text) <= 64 else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=dt.UTC
        )
    except ValueError:
        return None
    offset = 0
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset = (int(off_h) * 60 + int(off_m)) * 60 * (1 if sign == "+" else -1)
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds - offset
    return seconds * 1_000_000_000 + nanos


def operand_instant(text: str) -> int | None:
    """Return a constraint's instant operand, or None when the grammar refuses it."""
    if _GRAMMAR_INSTANT.fullmatch(text) is None:
        return None
    return context_instant(text)


# The semver crate: major.minor.patch without leading zeros, then an
# optional pre-release (no leading zeros in numeric identifiers) and build.
_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?",
    re.ASCII,
)
#: A version as an ordering key: (major, minor, patch, release?, pre-release identifiers).
SemVer = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def context_semver(text: str) -> SemVer | None:
    """Return a version's precedence key (build metadata ignored), or None."""
    match = _SEMVER.fullmatch(text) if len(text) <= 256 else None
    if match is None:
        return None
    major, minor, patch, pre, _build = match.groups()
    # Numeric identifiers sort numerically and before alphanumeric ones; a
    # release sorts after its pre-releases (semver 2.0.0, item 11).
    identifiers = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in (pre.split(".") if pre else ())
    )
    return (int(major), int(minor), int(patch), 0 if pre else 1, identifiers)


def operand_semver(text: str) -> SemVer | None:
    """Return a constraint's version operand, or None when it is no version."""
    return context_semver(text)


IPRange = ipaddress.IPv4Network | ipaddress.IPv6Network


def ip_ranges(entries: Sequence[str]) -> tuple[IPRange, ...]:
    """Return the ranges of a list of addresses and CIDR ranges; invalid entries are skipped.

    As ``ipnetwork`` reads them: an address is a range of one, host bits
    may be set (``10.1.2.3/8``), and an entry neither can read is ignored.
    """
    ranges: list[IPRange] = []
    for entry in entries:
        text = entry.strip()
        if "%" in text:  # zone ids: Rust's parser refuses them
            continue
        try:
            ranges.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
    return tuple(ranges)


def ip_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address a context value spells, or None."""
    if "%" in text or len(text) > 64:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def in_ranges(address: Any, ranges: Sequence[IPRange]) -> bool:
    """Return True when ``address`` lies in one of ``ranges`` (of its own family)."""
    return any(address.version == r.version and address in r for r in ranges)


Matcher = Callable[[str], bool]


def _never(_text: str) -> bool:
    return False


def compile_regex(pattern: str, *, ignore_case: bool) -> Matcher:
    """Return a search of ``pattern`` (Rust ``regex`` syntax); an invalid one never matches.

    With RE2 installed (``pip install flagkit[unleash]``) the pattern runs
    as Unleash runs it, in linear time. Without it, flagkit's own safe
    regular expressions run it when they can prove it cannot backtrack
    catastrophically, and it never matches otherwise
    (docs/unleash.md lists this difference).
    """
    try:
        import re2
    except ImportError:
        return _fallback_regex(pattern, ignore_case)
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False
    try:
        compiled = re2.compile(pattern, options)
    except Exception:  # re2.error: the pattern is invalid in RE2's syntax
        return _never
    search = compiled.search
    return lambda text: search(text) is not None


def _fallback_regex(pattern: str, ignore_case: bool) -> Matcher:
    try:
        compiled = compile_safe(("(?i)" if ignore_case else "") + _python_syntax(pattern))
    except (UnsafePatternError, re.error):
        return _never
    search = compiled.search
    return lambda text: len(text) <= MAX_SUBJECT and search(text) is not None


_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "xdigit": "0-9A-Fa-f",
    "word": "0-9A-Za-z_",
    "punct": r"!-/:-@\[-`{-~",
}


def _python_syntax(pattern: str) -> str:
    """Translate the Rust syntax Python's ``re`` spells differently (POSIX classes)."""
    return re.sub(
        r"\[:(\w+):\]",
        lambda m: _POSIX_CLASSES.get(m.group(1), m.group(0)),
        pattern,
    )
