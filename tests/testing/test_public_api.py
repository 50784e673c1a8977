"""The public surface of flagkit.testing, pinned."""

from __future__ import annotations

import subprocess
import sys

import flagkit.testing
from tests.testing.conftest import SRC


def test_all_is_the_sorted_public_surface() -> None:
    """``__all__`` lists exactly the public names, sorted, and each one exists."""
    expected = [
        "AttributeRef",
        "CohortNotFoundError",
        "Cond",
        "Declaration",
        "DeclarationCheck",
        "Evaluation",
        "ExpiredEvaluation",
        "ExpiryGuard",
        "ExpiryMode",
        "FlagBuilder",
        "FlagExpiredError",
        "FlagExpiredWarning",
        "FlagSet",
        "Recorder",
        "SplitResult",
        "UnknownFlagError",
        "assert_split",
        "assignments",
        "attr",
        "boolean",
        "check_declared_flags",
        "chi_square_sf",
        "cohort",
        "expiry_guard",
        "flag_states",
        "guard",
        "in_segment",
        "metric",
        "off_variant_of",
        "on_variant_of",
        "override",
        "record",
        "rollout",
        "split_check",
    ]
    assert expected == flagkit.testing.__all__
    assert sorted(expected) == expected
    assert all(hasattr(flagkit.testing, name) for name in expected)


def test_importing_the_toolkit_imports_neither_hypothesis_nor_pytest() -> None:
    """``import flagkit.testing`` works without the test extras installed."""
    code = (
        "import sys; import flagkit.testing; "
        "print('hypothesis' in sys.modules, 'pytest' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "False False" == out.strip()
