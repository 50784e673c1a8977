"""The Unleash client specification's cases, read from the shared conformance copy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
_WHERE = Path("shared", "conformance", "unleash", "specifications")


def _spec_dir() -> Path:
    """Return the specification beside the project root (``../shared``), or above it."""
    for parent in _ROOT.parents:
        if (parent / _WHERE / "index.json").is_file():
            return parent / _WHERE
    raise FileNotFoundError(f"no {_WHERE} beside {_ROOT} or above it: the suite needs it")


SPEC_DIR = _spec_dir()
#: The specification's size: 22 files, 227 `tests` and 52 `variantTests`.
EXPECTED_FILES = 22
EXPECTED_CASES = 279


@dataclass(frozen=True)
class SpecCase:
    """One case: a file's state, a toggle, a context, and what Unleash answers."""

    file: str
    index: int
    kind: str  # "enabled" or "variant"
    description: str
    state: Any
    toggle: str
    context: dict[str, Any]
    expected: Any

    @property
    def id(self) -> str:
        return f"{self.file[:2]}-{self.kind}-{self.index}"


def spec_files() -> list[str]:
    return list(json.loads((SPEC_DIR / "index.json").read_text(encoding="utf-8")))


def spec_cases() -> list[SpecCase]:
    cases = []
    for name in spec_files():
        data = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
        for kind, key in (("enabled", "tests"), ("variant", "variantTests")):
            for index, test in enumerate(data.get(key, [])):
                cases.append(
                    SpecCase(
                        name,
                        index,
                        kind,
                        test["description"],
                        data["state"],
                        test["toggleName"],
                        test["context"],
                        test["expectedResult"],
                    )
                )
    return cases
