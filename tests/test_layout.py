"""The package layout keeps its promises: private names stay private, layers point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "flagkit"


def _imports(path: Path) -> list[tuple[str, str]]:
    """Return (module, name) for every ``from flagkit... import name`` in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flagkit"):
            found.extend((node.module, alias.name) for alias in node.names)
    return found


SOURCES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_private_name(path: Path) -> None:
    """Modules import only public names of other modules (private modules are fine)."""
    private = [f"{module}.{name}" for module, name in _imports(path) if name.startswith("_")]
    assert [] == private


# What each layer may import (DESIGN.md: definitions -> core -> sources -> client;
# formats, testing and the CLI on top). The core is pure: no sources, no client.
_FORBIDDEN = {
    "_core": ("flagkit._sources", "flagkit._client", "flagkit._cli", "flagkit.testing"),
    "_definitions": ("flagkit._sources", "flagkit._client", "flagkit._cli", "flagkit.testing"),
    "_sources": ("flagkit._client", "flagkit._cli", "flagkit.testing"),
    "_client": ("flagkit._cli", "flagkit.testing"),
    "testing": ("flagkit._cli",),
    "formats": ("flagkit._cli", "flagkit.testing"),
}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_layers_import_only_downwards(path: Path) -> None:
    """The core never imports sources, the client or tools; testing never imports the CLI."""
    layer = path.relative_to(SRC).parts[0]
    forbidden = _FORBIDDEN.get(layer, ())
    wrong = [
        module
        for module, _ in _imports(path)
        if any(module == layer or module.startswith(layer + ".") for layer in forbidden)
    ]
    assert [] == wrong


def test_core_imports_no_pydantic_outside_compile() -> None:
    """Only compile may read the definitions (validated models); no core module imports pydantic."""
    offenders = []
    for path in sorted((SRC / "_core").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "import pydantic" in text or "from pydantic" in text:
            offenders.append(path.name)
        if path.name != "compile.py" and "flagkit._definitions" in text:
            offenders.append(path.name)
    assert [] == offenders
