"""Patterns that could backtrack catastrophically are refused at load time."""

from __future__ import annotations

import time

import pytest

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
