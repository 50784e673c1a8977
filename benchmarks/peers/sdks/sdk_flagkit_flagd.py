"""flagkit reading the flagd document the flagd provider reads (``format="flagd"``)."""

from __future__ import annotations

from pathlib import Path

import flagkit
from peers.workload import User

from .base import Evaluator, write_json
from .sdk_flagd_document import document


class FlagkitFlagdAdapter:
    name = "flagkit-flagd"
    distributions = ("flagkit",)

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "flagkit-flagd.json")

    def load(self, path: Path) -> Evaluator:
        client = flagkit.Client.from_file(str(path), format="flagd")
        get_bool, get_str = client.get_bool, client.get_str
        return Evaluator(
            context=User.as_dict,
            bool_value=lambda key, ctx: get_bool(key, False, ctx),
            str_value=lambda key, ctx: get_str(key, "", ctx),
            close=client.close,
        )


ADAPTER = FlagkitFlagdAdapter()
