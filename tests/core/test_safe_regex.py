"""Patterns that could backtrack catastrophically are refused at load time."""

from __future__ import annotations

import re
import string
import sys
import time

import pytest

from flagkit._core import safe_regex
from flagkit._core.safe_regex import MAX_SUBJECT, UnsafePatternError, compile_safe

SAFE = [
    r"^[a-z]+@example\.com$",
    r"@example\.com$",
    r"^(foo|bar)-\d+$",
    r"^\d{1,3}(\.\d{1,3}){3}$",
    r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$",
    r"colou?r",
    r"[^x]*x",
    r"^Mozilla/5\.0 \(",
]
UNSAFE = [
    r"(a+)+$",
    r"(a*)*b",
    r"(\w+\s?)*$",
    r"(a|aa)+$",
    r"a*a*a*a*a*b",
    r"^(a?){25}a{25}$",
    r".*x.*y",
    r"(.*a){20}",
    r"(x+x+)+y",
]


@pytest.mark.parametrize("pattern", SAFE)
def test_safe_patterns_compile(pattern: str) -> None:
    """Ordinary targeting patterns are accepted."""
    assert compile_safe(pattern).pattern == pattern


@pytest.mark.parametrize("pattern", UNSAFE)
def test_catastrophic_patterns_are_refused(pattern: str) -> None:
    """Classic ReDoS patterns are refused with a reason."""
    with pytest.raises(UnsafePatternError):
        compile_safe(pattern)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)b", r"(?<!a)b", r"(?(1)a|b)", r"[unclosed"])
def test_unsupported_or_invalid_syntax_is_refused(pattern: str) -> None:
    """Back-references, look-arounds, conditionals and invalid syntax are refused."""
    with pytest.raises(UnsafePatternError):
        compile_safe(pattern)


def test_accepted_patterns_stay_fast_on_hostile_subjects() -> None:
    """The worst subjects for accepted patterns still match in well under a second."""
    subjects = ["a" * MAX_SUBJECT, "a" * (MAX_SUBJECT - 1) + "!", "." * MAX_SUBJECT]
    for pattern in SAFE:
        compiled = compile_safe(pattern)
        started = time.perf_counter()
        for subject in subjects:
            compiled.search(subject)
        # Generous bound: quadratic at worst, so milliseconds; exponential would be hours.
        assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    "pattern",
    [
        "(?i)(?:a*A)*$",
        "(?:(?i:a)*A)*$",
        "(?:(?s:.)*\n)*$",
        "(?:[\u0500-\u0600]*[\u0550-\u0551])*$",
        "(?:\\d*[\u0660-\u0669])*$",
    ],
)
def test_flags_and_far_ranges_cannot_smuggle_backtracking(pattern: str) -> None:
    """Case folding, scoped DOTALL and ranges outside Latin-1 are checked too."""
    with pytest.raises(UnsafePatternError):
        compile_safe(pattern)


def test_case_insensitive_patterns_still_work() -> None:
    """A safe (?i) pattern is accepted and matches either case."""
    assert compile_safe(r"(?i)^[a-z]+@example\.com$").search("Ann@EXAMPLE.com") is not None


#: Known ReDoS patterns (OWASP's examples and the classic shapes), and the
#: evasions that got past the sampled prover (issue 17): case-fold partners
#: (the long s and s, the Kelvin sign and k) and astral letters and digits.
KNOWN_REDOS = [
    r"^(a+)+$",
    r"([a-zA-Z]+)*$",
    r"(a|aa)+$",
    r"(a|a?)+$",
    r"(.*a){12}$",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
    r"^[a-zA-Z]+(([\'\,\.\-][a-zA-Z ])?[a-zA-Z]*)*$",
    r"^(\d+)+$",
    r"(\w+\s?)+$",
    r"^(\s*\w+\s*)+$",
    r"\s*#?\s*$",
    r"(\d+|\w+)*!",
    r"^(?:a|b|ab)*c$",
    r"^.*.*.*=$",
    "(?i)(?:[\u0100-\u0200]*s)*$",
    "(?i)(?:[\u2100-\u2200]*k)*$",
    "(?:[\U0001f000-\U0010ffff]*\\w)*$",
    "(?:[^\\x00-\\uffff]*\\w)*$",
    "(?:[^\\x00-\\uffff]*\\d)*$",
    "(?i)(?:\u017f*s)*$",
    "(?:\u212a*(?i:k))*$",
    "(?:[\U00020000-\U0002a6df]*\\w)*$",
    "(?:[\U0001d7ce-\U0001d7ff]*\\d)*$",
]
#: Common targeting patterns that must stay accepted (one ambiguous repeat is
#: fine in a pattern anchored at its start: one start position, O(n^2)).
COMMON = [
    r"^[^@]+@[^@]+\.com$",
    r"^[^@]+@example\.(com|org)$",
    r"(?i)^[a-z0-9._%+-]+@example\.com$",
    r"^\w+\s\w+$",
    r"^v\d+\.\d+\.\d+$",
    r"^[A-Z]{2}-\d{4}$",
    r"\.internal$",
    r"^https://",
    r"^\s+|\s+$",  # the trim that took a site down: quadratic, and 1,024 characters at most
]


@pytest.mark.parametrize("pattern", KNOWN_REDOS)
def test_known_redos_patterns_and_evasions_are_refused(pattern: str) -> None:
    """Every pattern of the corpus is refused at load time, with the reason."""
    with pytest.raises(UnsafePatternError, match=r"not allowed|backtrack"):
        compile_safe(pattern)


@pytest.mark.parametrize("pattern", COMMON)
def test_common_patterns_are_accepted_and_fast_on_hostile_subjects(pattern: str) -> None:
    """Accepted patterns stay quadratic at worst: milliseconds on the longest subjects."""
    compiled = compile_safe(pattern)
    subjects = [
        "a" * MAX_SUBJECT,
        "a@" + "a" * (MAX_SUBJECT - 2),
        "a@" + "." * (MAX_SUBJECT - 2),
        "1." * (MAX_SUBJECT // 2),
        "a " * (MAX_SUBJECT // 2),
    ]
    started = time.perf_counter()
    for subject in subjects:
        compiled.search(subject)
    # Generous: quadratic at worst is milliseconds; exponential would be hours.
    assert time.perf_counter() - started < 2.0


def test_the_non_ascii_case_partners_of_ascii_letters_are_those_re_uses() -> None:
    """The prover's case partners (long s, Kelvin sign, dotted and dotless I) are re's own."""
    any_letter = re.compile("(?i)[a-z]")
    found: dict[str, tuple[int, ...]] = {}
    for code in range(128, sys.maxunicode + 1):
        if any_letter.fullmatch(chr(code)):
            letter = next(c for c in string.ascii_lowercase if re.fullmatch(f"(?i){c}", chr(code)))
            found[letter] = (*found.get(letter, ()), code)
    assert safe_regex._FOLDS_ONTO_ASCII == found


@pytest.mark.parametrize(("escape", "test"), [("\\d", "isdecimal"), ("\\s", "isspace")])
def test_the_class_tables_agree_with_re_at_every_boundary(escape: str, test: str) -> None:
    """\\d and \\s are the code points re matches: checked at each range's ends and beyond."""
    compiled = re.compile(escape)
    for low, high in safe_regex._category(test):
        assert compiled.fullmatch(chr(low))
        assert compiled.fullmatch(chr(high))
        for outside in (low - 1, high + 1):
            if 0 <= outside <= sys.maxunicode and not 0xD800 <= outside <= 0xDFFF:
                assert not compiled.fullmatch(chr(outside)), hex(outside)
