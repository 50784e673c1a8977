"""Named flag states: which variant means on, which means off."""

from __future__ import annotations

import pytest

from flagkit.testing import FlagSet, flag_states, off_variant_of, on_variant_of


def _snapshot():  # type: ignore[no-untyped-def]
    return (
        FlagSet()
        .boolean("toggle")
        .flag("theme")
        .variants(classic="classic", fresh="fresh")
        .off_variant("classic")
        .flag("named")
        .variants(on="yes", off="no")
        .flag("abc")
        .variants(a=1, b=2, c=3)
        .snapshot(keep_definitions=True)
    )


def test_on_and_off_variants_are_found_by_value_name_or_off_variant() -> None:
    """True/False values first, then the names on/off, then the declared off variant."""
    flags = _snapshot().flags
    found = {key: (on_variant_of(flag), off_variant_of(flag)) for key, flag in flags.items()}
    expected = {
        "toggle": ("on", "off"),
        "theme": ("fresh", "classic"),
        "named": ("on", "off"),
        "abc": (None, None),
    }
    assert expected == found


def test_states_leave_undecidable_flags_and_force_unknown_ones_as_booleans() -> None:
    """A flag without on/off keeps its file state; an unknown flag is forced True/False."""
    states = flag_states(_snapshot(), ["abc", "theme", "elsewhere"])
    expected = {
        "on": {"theme": "fresh", "elsewhere": True},
        "off": {"theme": "classic", "elsewhere": False},
        "file": {},
    }
    assert expected == states


def test_unknown_state_is_refused() -> None:
    """A typo in a state name fails with the known names."""
    with pytest.raises(ValueError, match="on, off, file"):
        flag_states(_snapshot(), states=["half"])  # type: ignore[list-item]
