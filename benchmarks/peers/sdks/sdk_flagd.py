"""OpenFeature + flagd provider, in-process FILE resolver over a flagd flag file.

Setup per the provider README: ``FlagdProvider(resolver_type=ResolverType.FILE,
offline_flag_source_path=...)`` evaluates in-process with flagd's JSON-logic
engine and never opens the gRPC sync stream.  The provider is registered under
its own domain with ``set_provider_and_wait`` and read through an OpenFeature
client with an ``EvaluationContext`` per user.  Rollouts use flagd's
``fractional`` operator, whose v2 arithmetic is flagkit's bucketing formula.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

from peers.workload import User

from .base import Evaluator, write_json
from .sdk_flagd_document import document

_domains = itertools.count()


def _context(user: User) -> EvaluationContext:
    return EvaluationContext(
        targeting_key=user.key,
        attributes={"country": user.country, "plan": user.plan, "version": user.version},
    )


class FlagdAdapter:
    name = "openfeature-flagd"
    distributions = ("openfeature-sdk", "openfeature-provider-flagd", "openfeature-flagd-core")

    def write_document(self, total_flags: int, directory: Path) -> Path:
        return write_json(document(total_flags), directory / "flagd.json")

    def load(self, path: Path) -> Evaluator:
        provider = FlagdProvider(
            resolver_type=ResolverType.FILE, offline_flag_source_path=str(path)
        )
        domain = f"benchmark-{next(_domains)}"
        api.set_provider_and_wait(provider, domain=domain)
        client = api.get_client(domain)
        get_boolean_value, get_string_value = client.get_boolean_value, client.get_string_value

        def bool_value(key: str, ctx: Any) -> Any:
            return get_boolean_value(key, False, ctx)

        def str_value(key: str, ctx: Any) -> Any:
            return get_string_value(key, "", ctx)

        return Evaluator(
            context=_context, bool_value=bool_value, str_value=str_value, close=provider.shutdown
        )


ADAPTER = FlagdAdapter()
