"""The shared workload: users, flag definitions in abstract form, and the Python reference.

Every SDK adapter translates the same abstract flags into its own document format,
so each peer evaluates exactly the same questions for exactly the same users.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "CASES",
    "CORE_KEYS",
    "COUNTRIES",
    "MISSING_KEY",
    "PLANS",
    "RULE_COUNTRIES",
    "SPLIT_WEIGHTS",
    "ExtraRule",
    "User",
    "extra_rules",
    "make_users",
    "reference_rule",
]

COUNTRIES = ("NL", "BE", "DE", "FR", "US", "GB", "ES", "IT", "PL", "SE")
PLANS = ("free", "pro", "enterprise")
RULE_COUNTRIES = ("NL", "BE", "DE")
ROLLOUT_PERCENT = 10
SPLIT_WEIGHTS = (("a", 34), ("b", 33), ("c", 33))

CONSTANT_KEY = "constant"
ROLLOUT_KEY = "rollout-10"
RULE_KEY = "rule"
SPLIT_KEY = "split"
MISSING_KEY = "missing"
CORE_KEYS = (CONSTANT_KEY, ROLLOUT_KEY, RULE_KEY, SPLIT_KEY)

#: The per-call cases, in table order.  ``all-four`` evaluates the four core flags for one user.
CASES = ("constant", "rollout-10%", "rule", "split 34/33/33", "missing", "all-four")


@dataclass(frozen=True, slots=True)
class User:
    """One evaluation subject with the attributes every SDK receives."""

    key: str
    country: str
    plan: str
    version: str

    def as_dict(self) -> dict[str, str]:
        """Return the attributes as a flagkit/OpenFeature style context dict."""
        return {
            "targetingKey": self.key,
            "country": self.country,
            "plan": self.plan,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class ExtraRule:
    """A filler rule flag: on when country is in ``countries`` and plan equals ``plan``."""

    key: str
    countries: tuple[str, ...]
    plan: str


def make_users(count: int, *, seed: int = 7) -> list[User]:
    """Return ``count`` distinct users with seeded, reproducible attributes."""
    rng = random.Random(seed)
    return [
        User(
            key=f"user-{index:06d}-{rng.getrandbits(32):08x}",
            country=rng.choice(COUNTRIES),
            plan=rng.choice(PLANS),
            version=f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
        )
        for index in range(count)
    ]


def extra_rules(total_flags: int) -> list[ExtraRule]:
    """Return the filler rule flags that bring the flag count up to ``total_flags``."""
    return [
        ExtraRule(
            key=f"rule-{index:05d}",
            countries=(COUNTRIES[index % 10], COUNTRIES[(index + 3) % 10]),
            plan=PLANS[index % 3],
        )
        for index in range(max(0, total_flags - len(CORE_KEYS)))
    ]


def reference_rule(user: User) -> bool:
    """Return the expected value of the ``rule`` flag (the Python reference)."""
    return user.country in RULE_COUNTRIES and user.plan == "pro"
