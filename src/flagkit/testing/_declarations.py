"""Declared flags (``flagkit.Flag``) against a flag file: what one has that the other lacks.

The code is read, never imported (importing an application to check it
could start its threads or need its settings): every ``Flag("key", ...)``
call (``Flag``, ``flagkit.Flag`` or any ``x.Flag``) whose key is a string
literal is a declaration. Two kinds of mismatch:

* a declared flag the file lacks: the code reads a flag that does not
  exist and gets its default for ever (an error);
* a flag in the file that nothing declares (reported only when the code
  declares flags at all; a code base that does not is checked by
  ``flagkit lint --code``'s FK401 instead).

``flagkit lint --code DIR`` (FK402, FK403) and the pytest plugin
(``--flagkit-code`` / ini ``flagkit_code``) both run this.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flagkit._client.client import Client
from flagkit._core.snapshot import Snapshot
from flagkit._sources.pipeline import snapshot_from_file
from flagkit._types import PathLike

__all__ = ["Declaration", "DeclarationCheck", "check_declared_flags", "find_declarations"]

#: Directories never searched (tools' and environments' own trees).
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}
)
#: Python files larger than this are skipped (generated data, not declarations).
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Declaration:
    """One ``Flag("key", ...)`` in the code: the key and where it is written."""

    key: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class DeclarationCheck:
    """The result of comparing declarations with a flag file's keys."""

    declarations: tuple[Declaration, ...]
    missing: tuple[Declaration, ...]  # declared, not in the file
    undeclared: tuple[str, ...]  # in the file, declared nowhere

    @property
    def ok(self) -> bool:
        """Return True when every declared flag exists and every flag is declared."""
        return not self.missing and not self.undeclared

    def problems(self) -> list[str]:
        """Return one line per mismatch, declared-but-missing first."""
        lines = [f"{d}: declared flag {d.key!r} is not in the flag file" for d in self.missing]
        lines += [
            f"flag {key!r} is in the flag file but no Flag declares it" for key in self.undeclared
        ]
        return lines


def _python_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(directory, name)


def _declarations_in(tree: ast.AST, path: str) -> Iterator[Declaration]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name != "Flag":
            continue
        key_node = node.args[0] if node.args else None
        for keyword in node.keywords:
            if keyword.arg == "key":
                key_node = keyword.value
        if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
            yield Declaration(key_node.value, path, node.lineno)


def find_declarations(paths: Iterable[PathLike]) -> list[Declaration]:
    """Return every ``Flag("key", ...)`` in the Python files under ``paths``, in file order.

    Files that cannot be read or parsed are skipped (the check is about
    declarations, not about the code's syntax).
    """
    found: list[Declaration] = []
    for root in paths:
        for path in _python_files(Path(os.fspath(root))):
            try:
                if path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
                    continue
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (OSError, SyntaxError, ValueError):
                continue
            found.extend(sorted(_declarations_in(tree, str(path)), key=lambda d: d.line))
    return found


def check_declared_flags(
    flags: Client | Snapshot | PathLike | Iterable[str], code: PathLike | Iterable[PathLike]
) -> DeclarationCheck:
    """Compare the ``Flag`` declarations in the Python files under ``code`` with ``flags``.

    ``flags`` is a flag file's path, a client, a snapshot, or the keys;
    ``code`` a file or directory, or several.
    """
    if isinstance(flags, Client | Snapshot):
        keys = list((flags.snapshot if isinstance(flags, Client) else flags).flags)
    elif isinstance(flags, str | os.PathLike):
        keys = list(snapshot_from_file(flags, format="auto").flags)
    else:
        keys = list(flags)
    roots = [code] if isinstance(code, str | os.PathLike) else list(code)
    declarations = find_declarations(roots)
    known = set(keys)
    declared = {d.key for d in declarations}
    return DeclarationCheck(
        declarations=tuple(declarations),
        missing=tuple(d for d in declarations if d.key not in known),
        undeclared=tuple(k for k in keys if k not in declared) if declarations else (),
    )
