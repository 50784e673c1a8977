"""One adapter per SDK: write the SDK's native flag document, load it, evaluate.

Adapters are imported lazily by name so that the smoke mode runs in an
environment without any peer SDK installed.
"""

from __future__ import annotations

import importlib

from .base import Adapter, Evaluator

__all__ = ["ALL", "LOAD_TABLE", "PEERS", "Adapter", "Evaluator", "load_adapter"]

#: Peer SDKs, in table order.
PEERS = ("growthbook", "launchdarkly", "unleash", "openfeature-flagd", "flagsmith", "configcat")
#: Every measured implementation: flagkit (native, and reading the flagd
#: document), the peers, and the hand-written floor.
ALL = ("flagkit", "flagkit-flagd", *PEERS, "floor")
#: The loads measured at every size (the others only up to 10,000 flags: at
#: 100,000 the slowest peers take minutes), with ``json.loads`` of flagkit's
#: file (GC off) as the baseline.
LOAD_TABLE = ("flagkit", "flagkit-flagd", "growthbook", "openfeature-flagd", "json.loads")

_MODULES = {
    "flagkit": "sdk_flagkit",
    "flagkit-flagd": "sdk_flagkit_flagd",
    "floor": "sdk_floor",
    "growthbook": "sdk_growthbook",
    "launchdarkly": "sdk_launchdarkly",
    "unleash": "sdk_unleash",
    "openfeature-flagd": "sdk_flagd",
    "flagsmith": "sdk_flagsmith",
    "configcat": "sdk_configcat",
}


def load_adapter(name: str) -> Adapter:
    """Import the adapter module for ``name`` (and so its SDK) and return its adapter."""
    module = importlib.import_module(f"{__package__}.{_MODULES[name]}")
    adapter: Adapter = module.ADAPTER
    return adapter
