"""The contract every SDK adapter fulfils."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from peers.workload import CORE_KEYS, User

__all__ = ["Adapter", "Evaluator", "distribution_version", "write_json"]


@dataclass
class Evaluator:
    """A loaded, ready client reduced to what the timing loops call.

    ``context`` turns a user into the SDK's native context object (done outside
    the timed region, once per request in a real service); ``bool_value`` and
    ``str_value`` are the per-flag calls that are timed.
    """

    context: Callable[[User], Any]
    bool_value: Callable[[str, Any], Any]
    str_value: Callable[[str, Any], Any]
    close: Callable[[], None]
    all_four: Callable[[Any], tuple[Any, ...]] | None = None

    def __post_init__(self) -> None:
        if self.all_four is None:
            boolean, string = self.bool_value, self.str_value
            constant, rollout, rule, split = CORE_KEYS

            def all_four(ctx: Any) -> tuple[Any, ...]:
                return (
                    boolean(constant, ctx),
                    boolean(rollout, ctx),
                    boolean(rule, ctx),
                    string(split, ctx),
                )

            self.all_four = all_four


class Adapter(Protocol):
    """How the harness drives one SDK."""

    name: str
    #: Distribution names whose versions the report lists.
    distributions: tuple[str, ...]

    def write_document(self, total_flags: int, directory: Path) -> Path:
        """Write the SDK's native flag document with ``total_flags`` flags; return its path."""
        ...

    def load(self, path: Path) -> Evaluator:
        """Create a client from ``path`` the way the SDK's docs recommend; return when ready."""
        ...


def write_json(document: object, path: Path) -> Path:
    """Write ``document`` as compact JSON to ``path`` and return the path."""
    path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return path


def distribution_version(name: str) -> str:
    """Return the installed version of distribution ``name``, or ``"-"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"
