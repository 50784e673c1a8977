"""Regular expressions that cannot backtrack catastrophically.

Python's ``re`` is a backtracking engine, so a hostile flag file could ship a
pattern such as ``(a+)+$`` that takes exponential time on a crafted
attribute. Rather than depend on a linear-time engine, flagkit accepts only
patterns whose backtracking is provably bounded, and refuses the rest at
load time with a message saying how to rewrite them:

* no back-references, look-arounds or conditional groups;
* no alternation inside a repeat;
* a repeat of variable count (``*``, ``+``, ``?``, ``{m,n}``) may not be
  followed by a character it could also match (``a*a``, ``.*x``, ``(a+)+``,
  where a repeat is also followed by its own next pass): the engine then
  never has a useful choice to backtrack over, so a failed attempt costs
  linear time per start position;
* the subject is at most ``MAX_SUBJECT`` characters long (longer values make
  the condition false), which bounds the search over start positions.

Together these bound one match to O(n^2) steps with n <= 1024.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

# The standard library's own regex parser: private, but stable across 3.11+
# (and the deprecated public ``sre_parse`` warns on import).
sre_constants: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")

__all__ = ["MAX_PATTERN", "MAX_SUBJECT", "UnsafePatternError", "compile_safe"]

MAX_SUBJECT = 1024
MAX_PATTERN = 1000

_c: Any = sre_constants
_SINGLE_CHAR = {_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN}
_ZERO_WIDTH = {_c.AT}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)
_FORBIDDEN = {
    _c.GROUPREF: "back-references",
    _c.GROUPREF_EXISTS: "conditional groups",
    _c.ASSERT: "look-arounds",
    _c.ASSERT_NOT: "look-arounds",
}
# Characters used to test whether two character sets overlap: ASCII, Latin-1,
# and a few samples of other scripts and classes, plus every literal and the
# ends and middle of every range the pattern names (added per pattern), and
# under case-insensitive matching every case variant of those. Membership is
# over-approximated (a '.' matches everything, folding applies everywhere
# once it applies anywhere), so a doubt refuses a pattern, never admits one.
_SAMPLE = [chr(i) for i in range(256)] + [
    "\u0100",
    "\u0391",
    "\u0416",
    "\u4e2d",
    "\u2028",
    "\U0001f600",
]


class UnsafePatternError(ValueError):
    """The pattern is invalid, or could backtrack catastrophically."""


def compile_safe(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` after proving that its backtracking is bounded."""
    if len(pattern) > MAX_PATTERN:
        raise UnsafePatternError(f"pattern longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern)
        tree = sre_parse.parse(pattern)
    except re.error as exc:
        raise UnsafePatternError(f"invalid regular expression: {exc}") from exc
    except OverflowError as exc:  # a{99999999999}: the engine's counts are 32-bit
        raise UnsafePatternError(f"invalid regular expression: {exc}") from exc
    except RecursionError as exc:
        raise UnsafePatternError("invalid regular expression: nested too deeply") from exc
    try:
        named: set[str] = set()
        fold = bool(compiled.flags & re.IGNORECASE)
        for op, av in _walk(tree):
            if op in (_c.LITERAL, _c.NOT_LITERAL):
                named.add(chr(av))
            elif op == _c.RANGE:  # both ends and the middle of every range
                named.update(chr(av[0]), chr(av[1]), chr((av[0] + av[1]) // 2))
            elif op == _c.SUBPATTERN and av[1] & re.IGNORECASE:
                fold = True  # a scoped (?i:...) anywhere: fold everywhere (conservative)
        sample = sorted(set(_SAMPLE) | named)
        if fold:
            sample = sorted({variant for ch in sample for variant in _case_variants(ch)})
        _check_sequence(list(tree), sample, fold, inside_repeat=False, tail=set())
    except RecursionError as exc:
        raise UnsafePatternError("pattern nested too deeply to analyse") from exc
    return compiled


def _walk(items: Iterable[Any]) -> Iterable[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        if op in _REPEATS or op == _POSSESSIVE:
            yield from _walk(av[2])
        elif op == _c.SUBPATTERN:
            yield from _walk(av[3])
        elif op == _ATOMIC:
            yield from _walk(av)
        elif op == _c.BRANCH:
            for branch in av[1]:
                yield from _walk(branch)
        elif op == _c.IN:
            yield from av


def _check_sequence(
    items: list[Any], sample: list[str], fold: bool, inside_repeat: bool, tail: set[str]
) -> None:
    """Check every repeat in ``items``; ``tail`` is what may follow the sequence."""
    for index, (op, av) in enumerate(items):
        if op in _FORBIDDEN:
            raise UnsafePatternError(f"{_FORBIDDEN[op]} are not allowed")
        rest = items[index + 1 :]
        follow = _first_chars(rest, sample, fold)
        if _can_be_empty(rest):
            follow |= tail
        if op == _c.BRANCH:
            if inside_repeat:
                raise UnsafePatternError("alternation inside a repeat is not allowed")
            for branch in av[1]:
                _check_sequence(list(branch), sample, fold, inside_repeat, follow)
        elif op == _c.SUBPATTERN:
            _check_sequence(list(av[3]), sample, fold, inside_repeat, follow)
        elif op == _ATOMIC:
            _check_sequence(list(av), sample, fold, inside_repeat, follow)
        elif op in _REPEATS or op == _POSSESSIVE:
            low, high, body = av
            body = list(body)
            # What may follow the end of one pass through the body: another
            # pass (when more are allowed), or what follows the repeat.
            inner_tail = follow | (_first_chars(body, sample, fold) if high > 1 else set())
            _check_sequence(body, sample, fold, inside_repeat or high > 1, inner_tail)
            if low == high:
                continue  # a fixed count offers the engine no choice to backtrack over
            overlap = _chars_of(body, sample, fold) & follow
            if overlap:
                shown = "".join(sorted(overlap))[:8]
                raise UnsafePatternError(
                    "a repeat is followed by a character it could also match "
                    f"({shown!r}), which can make matching backtrack; make the repeat "
                    "exclude it (e.g. [^x]*x), or drop a leading '.*' since matching "
                    "searches anyway"
                )


def _chars_of(items: list[Any], sample: list[str], fold: bool) -> set[str]:
    """Return every sample character any item of a repeat body can consume."""
    chars: set[str] = set()
    for op, av in items:
        if op in _SINGLE_CHAR:
            chars |= {ch for ch in sample if _matches(op, av, ch, fold)}
        elif op == _c.SUBPATTERN:
            chars |= _chars_of(list(av[3]), sample, fold)
        elif op in _REPEATS:
            chars |= _chars_of(list(av[2]), sample, fold)
    return chars


def _first_chars(items: list[Any], sample: list[str], fold: bool) -> set[str]:
    """Return the sample characters that can start what follows a repeat."""
    first: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _SINGLE_CHAR:
            return first | {ch for ch in sample if _matches(op, av, ch, fold)}
        if op == _c.SUBPATTERN:
            inner = list(av[3])
            first |= _first_chars(inner, sample, fold)
            if not _can_be_empty(inner):
                return first
        elif op in _REPEATS or op == _POSSESSIVE:
            first |= _first_chars(list(av[2]), sample, fold)
            if av[0] > 0 and not _can_be_empty(list(av[2])):
                return first
        elif op == _c.BRANCH:
            for branch in av[1]:
                first |= _first_chars(list(branch), sample, fold)
            if not any(_can_be_empty(list(b)) for b in av[1]):
                return first
        else:
            return first | set(sample)
    return first


def _can_be_empty(items: list[Any]) -> bool:
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _REPEATS or op == _POSSESSIVE:
            if av[0] > 0 and not _can_be_empty(list(av[2])):
                return False
        elif op == _c.SUBPATTERN:
            if not _can_be_empty(list(av[3])):
                return False
        elif op == _c.BRANCH:
            if not any(_can_be_empty(list(b)) for b in av[1]):
                return False
        else:
            return False
    return True


def _case_variants(ch: str) -> set[str]:
    return {ch} | {v for v in (ch.lower(), ch.upper(), ch.swapcase(), ch.casefold()) if len(v) == 1}


def _matches(op: Any, av: Any, ch: str, fold: bool) -> bool:
    """Return True when item ``op`` may consume ``ch`` (over-approximated, never under)."""
    if op == _c.ANY:
        return True  # '.' with or without DOTALL, scoped or not: assume it matches
    if fold:
        return any(_matches_exactly(op, av, variant) for variant in _case_variants(ch))
    return _matches_exactly(op, av, ch)


def _matches_exactly(op: Any, av: Any, ch: str) -> bool:
    code = ord(ch)
    if op == _c.LITERAL:
        return bool(code == av)
    if op == _c.NOT_LITERAL:
        return bool(code != av)
    return _in_set(av, ch, code)


def _in_set(items: list[Any], ch: str, code: int) -> bool:
    negate = False
    found = False
    for op, av in items:
        if op == _c.NEGATE:
            negate = True
        elif op == _c.LITERAL:
            found = found or code == av
        elif op == _c.RANGE:
            found = found or av[0] <= code <= av[1]
        elif op == _c.CATEGORY:
            found = found or _in_category(av, ch)
    return found != negate


def _in_category(category: Any, ch: str) -> bool:
    name = str(category).upper()
    if "DIGIT" in name:
        result = ch.isdigit()
    elif "SPACE" in name:
        result = ch.isspace()
    elif "WORD" in name:
        result = ch.isalnum() or ch == "_"
    else:  # line-break and other rarely used categories: assume a match (conservative)
        return True
    return result != ("NOT" in name)
