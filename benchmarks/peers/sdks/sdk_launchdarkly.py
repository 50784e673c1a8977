"""LaunchDarkly: the file data source with full flag JSON, events off.

Setup per the "Reading flags from a file" docs: ``Files.new_data_source`` as
``update_processor_class`` (``offline=True`` would disable the file source
too), ``send_events=False`` and ``diagnostic_opt_out=True`` so no event
processor or diagnostics thread talks to the network.  Contexts are built with
``Context.builder``; ``variation`` evaluates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ldclient.client import LDClient
from ldclient.config import Config
from ldclient.context import Context
from ldclient.integrations import Files

from peers.workload import RULE_COUNTRIES, SPLIT_WEIGHTS, User, extra_rules

from .base import Evaluator, write_json

# LaunchDarkly rollout weights are in thousandths of a percent (sum 100,000).
_SCALE = 1000


def _flag(key: str, variations: list[Any], **fields: Any) -> dict[str, Any]:
    flag = {
        "key": key,
        "version": 1,
        "on": True,
        "variations": variations,
        "offVariation": len(variations) - 1,
        "fallthrough": {"variation": 0},
        "targets": [],
        "rules": [],
        "prerequisites": [],
        "salt": key,
    }
    flag.update(fields)
    return flag


def _rule_flag(key: str, countries: tuple[str, ...], plan: str) -> dict[str, Any]:
    clauses = [
        {"attribute": "country", "op": "in", "values": list(countries), "negate": False},
        {"attribute": "plan", "op": "in", "values": [plan], "negate": False},
    ]
    return _flag(
        key,
        [True, False],
        fallthrough={"variation": 1},
        rules=[{"id": f"{key}-r0", "clauses": clauses, "variation": 0}],
    )


def document(total_flags: int) -> dict[str, Any]:
    """Return the LaunchDarkly file-data-source document for the workload."""
    split = [{"variation": i, "weight": w * _SCALE} for i, (_, w) in enumerate(SPLIT_WEIGHTS)]
    flags = {
        "constant": _flag("constant", [True, False]),
        "rollout-10": _flag(
            "rollout-10",
            [True, False],
            fallthrough={
                "rollout": {
                    "variations": [
                        {"variation": 0, "weight": 10 * _SCALE},
                        {"variation": 1, "weight": 90 * _SCALE},
                    ]
                }
            },
        ),
        "rule": _rule_flag("rule", RULE_COUNTRIES, "pro"),
        "split": _flag(
            "split",
            [name for name, _ in SPLIT_WEIGHTS],
            fallthrough={"rollout": {"variations": split}},
            offVariation=0,
        ),
    }
    for extra in extra_rules(total_flags):
        flags[extra.key] = _rule_flag(extra.key, extra.countries, extra.plan)
    return {"flags": flags}


def _context(user: User) -> Context:
    return (
        Context.builder(user.key)
        .set("country", user.country)
        .set("plan", user.plan)
        .set("version", user.version)
        .build()
    )


class LaunchDarklyAdapter:
    name = "launchdarkly"
    distributions = ("launchdarkly-server-sdk",)

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "launchdarkly.json")

    def load(self, path: Path) -> Evaluator:
        config = Config(
            "sdk-offline-benchmark",
            update_processor_class=Files.new_data_source(paths=[str(path)]),
            send_events=False,
            diagnostic_opt_out=True,
        )
        client = LDClient(config=config, start_wait=30)
        if not client.is_initialized():
            raise RuntimeError("LaunchDarkly client did not initialise from the file")
        variation = client.variation

        def bool_value(key: str, ctx: Any) -> Any:
            return variation(key, ctx, False)

        def str_value(key: str, ctx: Any) -> Any:
            return variation(key, ctx, "")

        return Evaluator(
            context=_context, bool_value=bool_value, str_value=str_value, close=client.close
        )


ADAPTER = LaunchDarklyAdapter()
