"""UnleashSource: Unleash's headers, registration, metrics from counters, HTTP guarantees."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flagkit
from tests.helpers import wait_until, wait_until_async
from tests.sources.unleash_api import UnleashAPI

TOKEN = "*:development.0123456789abcdef"
FEATURES = "/api/client/features"
ROLLOUT: dict[str, Any] = {
    "version": 2,
    "features": [
        {
            "name": "checkout",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "checkout"},
                    "variants": [
                        {
                            "name": "blue",
                            "weight": 1000,
                            "payload": {"type": "string", "value": "b"},
                        }
                    ],
                },
            ],
        },
        {
            "name": "shop-only",
            "enabled": True,
            "strategies": [
                {
                    "name": "default",
                    "constraints": [
                        {"contextName": "appName", "operator": "IN", "values": ["shop"]}
                    ],
                }
            ],
        },
    ],
}


@pytest.fixture
def api() -> Iterator[UnleashAPI]:
    server = UnleashAPI()
    server.publish(ROLLOUT)
    yield server
    server.close()


def _client(api: UnleashAPI, **options: Any) -> flagkit.Client:
    options.setdefault("interval", 0.05)
    options.setdefault("metrics_interval", 3600.0)
    return flagkit.Client.from_unleash(api.url, token=TOKEN, app_name="shop", **options)


def test_polls_with_unleash_headers_and_etag(api: UnleashAPI) -> None:
    """Features are fetched with the token and Unleash's identity headers, then revalidated."""
    client = _client(api, instance_id="i-1")
    try:
        assert client.source.wait_until_ready(5)  # type: ignore[attr-defined]
        assert wait_until(lambda: len(api.seen(FEATURES)) >= 2)
        first, second = api.seen(FEATURES)[:2]
        assert TOKEN == first.headers["Authorization"]
        assert ("shop", "i-1") == (
            first.headers["UNLEASH-APPNAME"],
            first.headers["UNLEASH-INSTANCEID"],
        )
        assert first.headers["UNLEASH-SDK"].startswith("flagkit:")
        assert '"v1"' == second.headers["If-None-Match"]
        # The static context: appName is "shop" without a context saying so.
        assert client.get_bool("shop-only", False, {})
        assert "unleash" == client.status().source.kind  # type: ignore[union-attr]
    finally:
        client.close()


def test_registers_once(api: UnleashAPI) -> None:
    """The client registers before its first poll, with its strategies and interval."""
    client = _client(api, metrics_interval=30.0)
    try:
        assert wait_until(lambda: len(api.seen(FEATURES)) >= 3)
        (register,) = api.seen("/api/client/register")
        body = register.body
        assert ("shop", 30000) == (body["appName"], body["interval"])
        assert "flexibleRollout" in body["strategies"]
    finally:
        client.close()


def test_sends_metrics_from_the_counters(api: UnleashAPI) -> None:
    """yes/no and variant counts of the interval reach /client/metrics; then nothing is pending."""
    client = _client(api)
    source = client.source
    assert isinstance(source, flagkit.UnleashSource)
    try:
        assert source.wait_until_ready(5)
        answers = [client.get_bool("checkout", False, {"userId": f"u{i}"}) for i in range(100)]
        assert source.flush_metrics()
        (metrics,) = api.seen("/api/client/metrics")
        toggles = metrics.body["bucket"]["toggles"]
        yes = answers.count(True)
        assert {"yes": yes, "no": 100 - yes, "variants": {"blue": yes}} == toggles["checkout"]
        assert ("shop", source.instance_id) == (metrics.body["appName"], metrics.body["instanceId"])
        # The next interval reports only what happened since.
        client.get_bool("checkout", False, {"userId": "u1"})
        assert source.flush_metrics()
        latest = api.seen("/api/client/metrics")[-1].body["bucket"]["toggles"]["checkout"]
        assert 1 == latest["yes"] + latest["no"]
    finally:
        client.close()


def test_unsent_metrics_are_kept_within_a_bound_and_retried(api: UnleashAPI) -> None:
    """Refused metrics stay pending (merged beyond the bound) and go out once accepted."""
    api.metrics_status = 503
    client = _client(api, max_pending_buckets=2)
    source = client.source
    assert isinstance(source, flagkit.UnleashSource)
    try:
        assert source.wait_until_ready(5)
        for round_ in range(4):
            client.get_bool("checkout", False, {"userId": f"u{round_}"})
            assert not source.flush_metrics()  # never raises
        assert 2 == source.metrics_status()["pending"]
        api.metrics_status = 202
        assert source.flush_metrics()
        counts = api.seen("/api/client/metrics")[-1].body["bucket"]["toggles"]["checkout"]
        assert 4 == counts["yes"] + counts["no"]  # every count, none lost
        assert {"sent": 1, "pending": 0} == {
            k: v for k, v in source.metrics_status().items() if k in ("sent", "pending")
        }
    finally:
        client.close()


def test_without_counters_there_are_no_metrics(
    api: UnleashAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that does not count is told so, and sends no metrics."""
    with caplog.at_level(logging.WARNING, logger="flagkit"):
        client = _client(api, counters=False)
    try:
        assert "counters=True" in caplog.text
        assert client.source.wait_until_ready(5)  # type: ignore[attr-defined]
        client.close()
        assert [] == api.seen("/api/client/metrics")
    finally:
        client.close()


def test_keeps_the_last_good_features_and_redacts_the_token(api: UnleashAPI) -> None:
    """A failing server keeps the features; the error names the server, never the token."""
    client = _client(api, backoff_cap=0.1, stale_after=0.2)
    try:
        assert client.source.wait_until_ready(5)  # type: ignore[attr-defined]
        api.features_status = 500
        assert wait_until(lambda: client.status().stale)
        assert client.get_variant("checkout", {"userId": "u3"}).feature_enabled is not None
        status = client.status()
        assert "HTTP 500" in (status.last_error or "")
        assert TOKEN not in repr(client.source)
        assert TOKEN not in (status.last_error or "")
        api.features_status = 200
        assert wait_until(lambda: not client.status().stale)
    finally:
        client.close()


def test_bootstrap_serves_before_the_server_answers(tmp_path: Path) -> None:
    """A bootstrap document (with the static context) serves while the server is down."""
    source = flagkit.UnleashSource(
        "http://127.0.0.1:9/api",
        token=TOKEN,
        app_name="shop",
        bootstrap=ROLLOUT,
        connect_timeout=0.2,
        disable_metrics=True,
    )
    client = flagkit.Client(source)
    try:
        assert "bootstrap" == client.status().live
        assert client.get_bool("shop-only", False, {})
    finally:
        client.close()


def test_async_source_polls_registers_and_reports(api: UnleashAPI) -> None:
    """AsyncUnleashSource does the same in tasks on the running loop."""

    async def scenario() -> None:
        source = flagkit.AsyncUnleashSource(
            api.url, token=TOKEN, app_name="shop", interval=0.05, metrics_interval=3600.0
        )
        client = flagkit.Client(source, counters=True)
        try:
            assert await source.wait_until_ready(5)
            assert await wait_until_async(lambda: bool(api.seen("/api/client/register")))
            client.get_bool("checkout", False, {"userId": "u1"})
            assert await source.flush_metrics()
            assert 1 == len(api.seen("/api/client/metrics"))
        finally:
            await source.aclose()
            client.close()

    asyncio.run(scenario())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_polls_and_reports_on_its_own(api: UnleashAPI) -> None:
    """After fork the child polls again and reports only its own counts, as a new connection."""
    client = _client(api)
    source = client.source
    assert isinstance(source, flagkit.UnleashSource)
    assert source.wait_until_ready(5)
    for i in range(10):
        client.get_bool("checkout", False, {"userId": f"parent-{i}"})
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: count once, report, wait for the change, exit without cleanup
        os.close(read_end)
        client.get_bool("checkout", False, {"userId": "child"})
        sent = source.flush_metrics()
        changed = wait_until(lambda: not client.get_bool("checkout", True, {"userId": "child"}))
        os.write(write_end, b"ok" if sent and changed else b"no")
        os._exit(0)
    os.close(write_end)
    api.publish({"version": 2, "features": [{"name": "checkout", "enabled": False}]})
    answer = os.read(read_end, 16)
    os.close(read_end)
    os.waitpid(pid, 0)
    client.close()
    assert b"ok" == answer
    child_report = api.seen("/api/client/metrics")[0].body
    counts = child_report["bucket"]["toggles"]["checkout"]
    assert 1 == counts["yes"] + counts["no"]
    assert source.connection_id != child_report["connectionId"]
