"""Regular expressions that cannot backtrack catastrophically.

Python's ``re`` is a backtracking engine, so a hostile flag file could ship a
pattern such as ``(a+)+$`` that takes exponential time on a crafted
attribute. Rather than depend on a linear-time engine, flagkit accepts only
patterns whose backtracking is provably bounded, and refuses the rest at
load time with a message saying how to rewrite them:

* no back-references, look-arounds or conditional groups;
* no alternation inside a repeat;
* a repeat of variable count (``*``, ``+``, ``?``, ``{m,n}``) is
  *ambiguous* when it may be followed by a character it could also match
  (``a*a``, ``.*x``; inside a repeat, its own next pass counts: ``(a+)+``).
  An ambiguous repeat inside another repeat is refused (exponential); so
  are two ambiguous repeats, and one in a pattern not anchored at its start
  (each multiplies the work by the subject's length);
* the subject is at most ``MAX_SUBJECT`` characters long (longer values make
  the condition false), which bounds every count above.

Without an ambiguous repeat, a failed attempt costs linear time per start
position, so one search costs O(n^2) steps; one ambiguous repeat in a
pattern anchored at its start costs O(n^2) for its single start position.
With n <= 1024 both stay around a million steps.

"Could also match" is decided on exact sets of code points, not samples:
literals and ranges exactly; ``\\d``, ``\\w``, ``\\s`` and their negations
exactly (their non-ASCII members are computed once, from the same Unicode
tables ``re`` uses); under case-insensitive matching every set grows by
its case partners, including the non-ASCII ones ``re`` folds onto ASCII
letters (the long s, the Kelvin sign, the dotted and dotless I) and, for
any set with a non-ASCII member,
every non-ASCII character (an over-approximation: a doubt refuses a
pattern, never admits one).

The parse tree comes from the standard library's own parser (``re._parser``):
private, but stable across 3.11 to 3.13 and tested here on every run.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
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
#: Possessive repeats (``a*+``) and atomic groups (``(?>...)``) never give
#: characters back, so they are checked inside but never ambiguous themselves.
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)
_ALL_REPEATS = {*_REPEATS, _POSSESSIVE} - {None}
_FORBIDDEN = {
    _c.GROUPREF: "back-references",
    _c.GROUPREF_EXISTS: "conditional groups",
    _c.ASSERT: "look-arounds",
    _c.ASSERT_NOT: "look-arounds",
}
_START_ANCHORS = {_c.AT_BEGINNING, _c.AT_BEGINNING_STRING}
_LAST = sys.maxunicode


class UnsafePatternError(ValueError):
    """The pattern is invalid, or could backtrack catastrophically."""


# -- sets of code points: sorted, disjoint, inclusive (low, high) ranges -------

Ranges = tuple[tuple[int, int], ...]
EVERYTHING: Ranges = ((0, _LAST),)
NON_ASCII: Ranges = ((128, _LAST),)


def _normal(ranges: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


def _union(*sets: Ranges) -> Ranges:
    return _normal(r for ranges in sets for r in ranges)


def _complement(ranges: Ranges) -> Ranges:
    gaps: list[tuple[int, int]] = []
    start = 0
    for low, high in ranges:
        if low > start:
            gaps.append((start, low - 1))
        start = high + 1
    if start <= _LAST:
        gaps.append((start, _LAST))
    return tuple(gaps)


def _overlap(a: Ranges, b: Ranges) -> tuple[int, int] | None:
    """Return a range both sets share (for the message), or None when they are disjoint."""
    i = j = 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if low <= high:
            return low, high
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return None


def _chars(*codes: int) -> Ranges:
    return _normal((code, code) for code in codes)


@functools.cache
def _category(test: str) -> Ranges:
    """Return every code point ``str.<test>`` accepts: what ``re``'s classes use.

    ``\\d`` is ``isdecimal``, ``\\w`` is ``isalnum`` or ``_``, ``\\s`` is
    ``isspace`` (the Unicode tables of CPython's ``_sre``). Computed once per
    process, on first use (a scan of every code point, a fraction of a second).
    """
    accept = getattr(str, test)
    found: list[tuple[int, int]] = []
    start = None
    for code in range(_LAST + 2):
        inside = code <= _LAST and accept(chr(code))
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            found.append((start, code - 1))
            start = None
    return tuple(found)


def _category_set(category: Any) -> Ranges:
    name = str(category).upper()
    if "DIGIT" in name:
        found = _category("isdecimal")
    elif "WORD" in name:
        found = _union(_category("isalnum"), _chars(ord("_")))
    elif "SPACE" in name:
        found = _category("isspace")
    else:  # line breaks and rarer categories: everything (an over-approximation)
        return EVERYTHING
    return _complement(found) if "NOT" in name else found


#: Non-ASCII characters that ``re`` matches against an ASCII letter when
#: ignoring case (pinned by tests/core/test_safe_regex.py against ``re``).
_FOLDS_ONTO_ASCII = {"i": (0x130, 0x131), "s": (0x17F,), "k": (0x212A,)}


def _folded(ranges: Ranges) -> Ranges:
    """Return ``ranges`` with everything case-insensitive matching may equate to them."""
    extra: list[tuple[int, int]] = []
    for letter in "abcdefghijklmnopqrstuvwxyz":
        lower, upper = ord(letter), ord(letter.upper())
        if _overlap(ranges, _chars(lower, upper)):
            extra += [(lower, lower), (upper, upper)]
            extra += [(code, code) for code in _FOLDS_ONTO_ASCII.get(letter, ())]
    if _overlap(ranges, NON_ASCII):
        extra.append((128, _LAST))
        for letter, codes in _FOLDS_ONTO_ASCII.items():
            if _overlap(ranges, _chars(*codes)):
                upper = ord(letter.upper())
                extra += [(ord(letter), ord(letter)), (upper, upper)]
    return _union(ranges, tuple(extra))


# -- the proof ---------------------------------------------------------------


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
    fold = bool(compiled.flags & re.IGNORECASE) or any(
        op == _c.SUBPATTERN and av[1] & re.IGNORECASE for op, av in _walk(tree)
    )  # a scoped (?i:...) anywhere: fold everywhere (conservative)
    prover = _Prover(fold)
    try:
        prover.sequence(list(tree), inside_repeat=False, tail=())
    except RecursionError as exc:
        raise UnsafePatternError("pattern nested too deeply to analyse") from exc
    if prover.ambiguous:
        first = prover.ambiguous[0]
        anchored = bool(tree) and tree[0][0] == _c.AT and tree[0][1] in _START_ANCHORS
        if first[0] or len(prover.ambiguous) > 1 or not anchored:
            raise UnsafePatternError(_explain(first[1], first[0], len(prover.ambiguous)))
    return compiled


def _explain(shared: tuple[int, int], nested: bool, count: int) -> str:
    shown = chr(shared[0]) if shared[0] == shared[1] else f"{chr(shared[0])}-{chr(shared[1])}"
    if nested:
        why = "inside another repeat"
    elif count > 1:
        why = f"and so are {count - 1} more"
    else:
        why = "in a pattern not anchored at its start"
    return (
        f"a repeat is followed by a character it could also match ({shown!r}), {why}, "
        "which can make matching backtrack; make the repeat exclude it (e.g. [^x]*x), "
        "anchor the pattern with ^, or drop a leading '.*' since matching searches anyway"
    )


def _walk(items: Iterable[Any]) -> Iterable[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        if op in _ALL_REPEATS:
            yield from _walk(av[2])
        elif op == _c.SUBPATTERN:
            yield from _walk(av[3])
        elif op == _ATOMIC:
            yield from _walk(av)
        elif op == _c.BRANCH:
            for branch in av[1]:
                yield from _walk(branch)


class _Prover:
    """Walks a parse tree; records every ambiguous repeat (and whether it is nested)."""

    def __init__(self, fold: bool) -> None:
        self.fold = fold
        self.ambiguous: list[tuple[bool, tuple[int, int]]] = []

    def sequence(self, items: list[Any], inside_repeat: bool, tail: Ranges) -> None:
        """Check every repeat in ``items``; ``tail`` is what may follow the sequence."""
        for index, (op, av) in enumerate(items):
            if op in _FORBIDDEN:
                raise UnsafePatternError(f"{_FORBIDDEN[op]} are not allowed")
            rest = items[index + 1 :]
            follow = self.first(rest)
            if _can_be_empty(rest):
                follow = _union(follow, tail)
            if op == _c.BRANCH:
                if inside_repeat:
                    raise UnsafePatternError("alternation inside a repeat is not allowed")
                for branch in av[1]:
                    self.sequence(list(branch), inside_repeat, follow)
            elif op == _c.SUBPATTERN:
                self.sequence(list(av[3]), inside_repeat, follow)
            elif op == _ATOMIC:
                self.sequence(list(av), inside_repeat, follow)
            elif op in _ALL_REPEATS:
                low, high, body = av
                body = list(body)
                # What may follow one pass through the body: another pass
                # (when more are allowed), or what follows the repeat.
                inner_tail = _union(follow, self.first(body)) if high > 1 else follow
                self.sequence(body, inside_repeat or high > 1, inner_tail)
                if low == high or op == _POSSESSIVE:
                    continue  # a fixed count, or a possessive repeat, gives nothing back
                shared = _overlap(self.consumed(body), follow)
                if shared is not None:
                    self.ambiguous.append((inside_repeat, shared))

    def item(self, op: Any, av: Any) -> Ranges:
        """Return every code point a single-character item may consume."""
        if op == _c.ANY:
            return EVERYTHING  # '.' with or without DOTALL, scoped or not
        if op == _c.LITERAL:
            found = _chars(av)
        elif op == _c.NOT_LITERAL:
            found = _complement(_chars(av))
        else:
            found = self.in_set(av)
        return _folded(found) if self.fold else found

    def in_set(self, items: list[Any]) -> Ranges:
        parts: list[Ranges] = []
        negate = False
        for op, av in items:
            if op == _c.NEGATE:
                negate = True
            elif op == _c.LITERAL:
                parts.append(_chars(av))
            elif op == _c.RANGE:
                parts.append(((av[0], av[1]),))
            elif op == _c.CATEGORY:
                parts.append(_category_set(av))
            else:  # anything else in a class: assume it matches everything
                parts.append(EVERYTHING)
        found = _union(*parts)
        if negate:
            # With case folding, [^a] excludes a's partners too; the complement
            # of the unfolded set is a superset of that: still over-approximated.
            return _complement(found)
        return found

    def consumed(self, items: list[Any]) -> Ranges:
        """Return every code point any item of a repeat body can consume."""
        parts: list[Ranges] = []
        for op, av in items:
            if op in _SINGLE_CHAR:
                parts.append(self.item(op, av))
            elif op == _c.SUBPATTERN:
                parts.append(self.consumed(list(av[3])))
            elif op == _ATOMIC:
                parts.append(self.consumed(list(av)))
            elif op in _ALL_REPEATS:
                parts.append(self.consumed(list(av[2])))
            elif op == _c.BRANCH:
                parts += [self.consumed(list(branch)) for branch in av[1]]
        return _union(*parts)

    def first(self, items: list[Any]) -> Ranges:
        """Return the code points that can start what follows a repeat."""
        parts: list[Ranges] = []
        for op, av in items:
            if op in _ZERO_WIDTH:
                continue
            if op in _SINGLE_CHAR:
                return _union(*parts, self.item(op, av))
            if op in (_c.SUBPATTERN, _ATOMIC):
                inner = list(av[3] if op == _c.SUBPATTERN else av)
                parts.append(self.first(inner))
                if not _can_be_empty(inner):
                    return _union(*parts)
            elif op in _ALL_REPEATS:
                parts.append(self.first(list(av[2])))
                if av[0] > 0 and not _can_be_empty(list(av[2])):
                    return _union(*parts)
            elif op == _c.BRANCH:
                parts += [self.first(list(branch)) for branch in av[1]]
                if not any(_can_be_empty(list(b)) for b in av[1]):
                    return _union(*parts)
            else:
                return EVERYTHING
        return _union(*parts)


def _can_be_empty(items: list[Any]) -> bool:
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _ALL_REPEATS:
            if av[0] > 0 and not _can_be_empty(list(av[2])):
                return False
        elif op in (_c.SUBPATTERN, _ATOMIC):
            if not _can_be_empty(list(av[3] if op == _c.SUBPATTERN else av)):
                return False
        elif op == _c.BRANCH:
            if not any(_can_be_empty(list(b)) for b in av[1]):
                return False
        else:
            return False
    return True
