"""Printing results: aligned tables on a terminal, plain text in a pipe, or JSON."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from typing import Any, TextIO

__all__ = ["colour_enabled", "percent", "print_json", "render_table", "styled", "to_json"]

_STYLES = {"bold": "1", "red": "31", "yellow": "33", "green": "32", "dim": "2"}


def colour_enabled(stream: TextIO) -> bool:
    """Return True when ``stream`` is a terminal and NO_COLOR is unset (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def styled(text: str, style: str, *, colour: bool) -> str:
    """Return ``text`` wrapped in an ANSI style when ``colour`` is on."""
    if not colour or style not in _STYLES:
        return text
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    colour: bool = False,
    style_of: Callable[[str], str | None] | None = None,
) -> str:
    """Return rows under headers as aligned columns (numbers right-aligned).

    With ``colour``, ``style_of`` may name a style for a first-column cell
    (applied after padding, so escape codes do not upset the alignment).
    """
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    numeric = [bool(rows) and all(_is_numeric(row[i]) for row in rows) for i in range(len(headers))]

    def line(texts: Sequence[str], body: bool = True) -> str:
        parts = [
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(texts, widths, numeric, strict=True)
        ]
        style = style_of(texts[0]) if body and style_of is not None else None
        if style is not None:
            parts[0] = styled(parts[0], style, colour=colour)
        return "  ".join(parts).rstrip()

    head = styled(line(list(headers), body=False), "bold", colour=colour)
    return "\n".join([head, *(line(row) for row in cells)]) + "\n"


def _is_numeric(value: Any) -> bool:
    if isinstance(value, str):
        return value.endswith("%")
    return isinstance(value, int | float) and not isinstance(value, bool)


def percent(share: float | None) -> str | None:
    """Return a share (0..1) as a percentage with two decimals, or None."""
    return None if share is None else f"{share * 100:.2f}%"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def print_json(data: Any, out: TextIO) -> None:
    """Write ``data`` as indented JSON and a newline."""
    out.write(to_json(data, indent=2) + "\n")


def to_json(data: Any, *, indent: int | None = None) -> str:
    """Return strict JSON: NaN and the infinities (which Python's json reads
    and writes, but JSON has not) become the strings "NaN", "Infinity" and
    "-Infinity"; anything else unknown becomes its ``str``."""
    return json.dumps(_finite(data), indent=indent, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
