"""Testing helpers for code behind feature flags (``flagkit.testing``).

* ``FlagSet`` / ``boolean`` / ``rollout`` / ``attr`` / ``in_segment`` /
  ``guard`` / ``metric``: flag documents built in code, validated by the
  real loader, and real clients.
* ``override``: force flags for a block or a function (sync or async).
* ``record``: capture evaluations and exposure events, with assertions.
* ``expiry_guard``: warn or fail when code evaluates an expired flag.
* ``cohort`` / ``assignments`` / ``split_check`` / ``assert_split``: real
  keys in a given A/B arm, and a chi-square check of a rollout's split.
* ``check_declared_flags``: ``flagkit.Flag`` declarations in the code against
  a flag file (declared flags the file lacks, flags nothing declares).
* ``flagkit.testing.strategies``: Hypothesis strategies (needs hypothesis).
* The pytest plugin (``flagkit.testing._plugin``, loaded automatically when
  flagkit is installed): the ``flagkit_client`` fixture and the ``flags``,
  ``flag_variants`` and ``flag_states`` markers. See docs/testing.md.
"""

from flagkit.testing._builder import (
    AttributeRef,
    Cond,
    FlagBuilder,
    FlagSet,
    attr,
    boolean,
    guard,
    in_segment,
    metric,
    rollout,
)
from flagkit.testing._cohorts import (
    SplitResult,
    assert_split,
    assignments,
    chi_square_sf,
    cohort,
    split_check,
)
from flagkit.testing._declarations import Declaration, DeclarationCheck, check_declared_flags
from flagkit.testing._errors import (
    CohortNotFoundError,
    FlagExpiredError,
    FlagExpiredWarning,
    UnknownFlagError,
)
from flagkit.testing._expiry import ExpiredEvaluation, ExpiryGuard, ExpiryMode, expiry_guard
from flagkit.testing._override import override
from flagkit.testing._recorder import Evaluation, Recorder, record
from flagkit.testing._states import flag_states, off_variant_of, on_variant_of

__all__ = [
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
