"""ConfigCat: local-only flag overrides from a config JSON file.

Setup per the SDK reference's "Flag Overrides" section: ``LocalFileFlagOverrides``
with ``OverrideBehaviour.LocalOnly`` skips the config fetcher and service
entirely (any SDK key is accepted in this mode).  The file holds a full config
JSON (v6 schema) so targeting rules and percentage options work; a dictionary
override cannot carry rules.  Clients are singletons per SDK key, obtained with
``configcatclient.get``.  Percentage options bucket with SHA-1 of key and user.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import configcatclient
from configcatclient.configcatoptions import ConfigCatOptions
from configcatclient.localfiledatasource import LocalFileFlagOverrides
from configcatclient.overridedatasource import OverrideBehaviour
from configcatclient.pollingmode import PollingMode
from configcatclient.user import User as ConfigCatUser

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, User, extra_rules

from .base import Evaluator, write_json

_keys = itertools.count()
_BOOL, _STRING = 0, 1
_IS_ONE_OF, _EQUALS = 0, 28  # cleartext comparators of config JSON v6


def _rule_setting(countries: tuple[str, ...], plan: str) -> dict[str, Any]:
    conditions = [
        {"u": {"a": "Country", "c": _IS_ONE_OF, "l": list(countries)}},
        {"u": {"a": "plan", "c": _EQUALS, "s": plan}},
    ]
    return {"t": _BOOL, "r": [{"c": conditions, "s": {"v": {"b": True}}}], "v": {"b": False}}


def document(total_flags: int) -> dict[str, Any]:
    """Return the ConfigCat config JSON (v6) for the workload."""
    settings: dict[str, Any] = {
        "constant": {"t": _BOOL, "v": {"b": True}},
        "rollout-10": {
            "t": _BOOL,
            "a": "Identifier",
            "p": [{"p": 10, "v": {"b": True}}, {"p": 90, "v": {"b": False}}],
            "v": {"b": False},
        },
        "rule": _rule_setting(RULE_COUNTRIES, "pro"),
        "split": {
            "t": _STRING,
            "a": "Identifier",
            "p": [{"p": weight, "v": {"s": name}} for name, weight in SPLIT_WEIGHTS],
            "v": {"s": "a"},
        },
    }
    for extra in extra_rules(total_flags):
        settings[extra.key] = _rule_setting(extra.countries, extra.plan)
    return {"p": {"u": "https://cdn-global.configcat.com", "r": 0, "s": "benchmark"}, "f": settings}


def _context(user: User) -> ConfigCatUser:
    return ConfigCatUser(
        user.key, country=user.country, custom={"plan": user.plan, "version": user.version}
    )


class ConfigCatAdapter:
    name = "configcat"
    distributions = ("configcat-client",)

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "configcat.json")

    def load(self, path: Path) -> Evaluator:
        options = ConfigCatOptions(
            polling_mode=PollingMode.manual_poll(),
            flag_overrides=LocalFileFlagOverrides(str(path), OverrideBehaviour.LocalOnly),
        )
        client = configcatclient.get(f"local-only-benchmark-{next(_keys)}", options)
        get_value = client.get_value

        def bool_value(key: str, ctx: Any) -> Any:
            return get_value(key, False, ctx)

        def str_value(key: str, ctx: Any) -> Any:
            return get_value(key, "", ctx)

        return Evaluator(
            context=_context, bool_value=bool_value, str_value=str_value, close=client.close
        )


ADAPTER = ConfigCatAdapter()
