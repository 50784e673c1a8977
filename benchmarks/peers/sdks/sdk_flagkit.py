"""flagkit: the native document, ``Client.from_file``, plain-dict contexts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flagkit
from peers.workload import User

from .base import Evaluator, write_json
from .native import document


class FlagkitAdapter:
    name = "flagkit"
    distributions = ("flagkit",)

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "flagkit.json")

    def load(self, path: Path) -> Evaluator:
        client = flagkit.Client.from_file(str(path))
        get_bool, get_str = client.get_bool, client.get_str

        def bool_value(key: str, ctx: Any) -> Any:
            return get_bool(key, False, ctx)

        def str_value(key: str, ctx: Any) -> Any:
            return get_str(key, "", ctx)

        close = getattr(client, "close", None)
        return Evaluator(
            context=User.as_dict,
            bool_value=bool_value,
            str_value=str_value,
            close=close if callable(close) else (lambda: None),
        )


ADAPTER = FlagkitAdapter()
