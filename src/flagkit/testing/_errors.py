"""The testing toolkit's exceptions and warnings, under flagkit's one root.

::

    FlagkitError
    ├── UnknownFlagError       an override names a flag or value the flags lack
    ├── CohortNotFoundError    no key lands in a variant within the scan budget
    └── FlagExpiredError       a flag was evaluated past its expiry (also AssertionError)

    UserWarning
    └── FlagExpiredWarning     the same, as a warning
"""

from __future__ import annotations

from flagkit._errors import FlagkitError

__all__ = [
    "CohortNotFoundError",
    "FlagExpiredError",
    "FlagExpiredWarning",
    "UnknownFlagError",
]


class UnknownFlagError(FlagkitError, KeyError):
    """An override names a flag, or a value, that the client's flags do not have."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class CohortNotFoundError(FlagkitError, LookupError):
    """Not enough keys land in the asked variant within the scan budget."""


class FlagExpiredError(FlagkitError, AssertionError):
    """A flag was evaluated after its ``expires`` date, with the guard set to fail."""


class FlagExpiredWarning(UserWarning):
    """A flag was evaluated after its ``expires`` date: remove it, or extend it."""
