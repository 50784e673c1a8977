"""HTTPSource against a real HTTP server: changes, faults, back-off, cache, secrets, fork."""

from __future__ import annotations

import gc
import itertools
import json
import logging
import os
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

import flagkit
from flagkit._sources.backoff import Backoff, jittered, parse_retry_after
from flagkit._sources.http import HTTPSource
from tests.conftest import EXAMPLE_FLAGD
from tests.helpers import wait_until
from tests.sources.httpserver import FlagServer, Reply, flags_document

JSON = {"Content-Type": "application/json"}
GOOD = json.dumps(flags_document("good")).encode()


def quiet(server: FlagServer, **options: Any) -> HTTPSource:
    """Return a source that never polls on its own (tests call ``poll()``)."""
    return HTTPSource(server.url, interval=3600, **options)


@pytest.fixture
def source(server: FlagServer) -> Iterator[HTTPSource]:
    """Return an unstarted source that has fetched the server's document once."""
    http_source = quiet(server)
    assert http_source.poll()
    yield http_source
    http_source.close()


def banner(source: flagkit.Source) -> Any:
    """Return the value the live snapshot serves for ``banner``."""
    assert source.snapshot is not None
    return flagkit.Client(source.snapshot).get_details("banner", None).value


def test_first_poll_makes_the_document_live(server: FlagServer) -> None:
    """A client over an HTTP source serves the server's flags once the first poll lands."""
    client = flagkit.Client(HTTPSource(server.url, interval=0.05))
    try:
        source = client.source
        assert isinstance(source, HTTPSource)
        assert source.wait_until_ready(10)
        assert True is client.get_bool("banner", False)
        status = client.status()
        assert ("network", True, None) == (status.live, status.ready, status.last_error)
    finally:
        client.close()


def test_every_real_change_is_picked_up(server: FlagServer) -> None:
    """Each new document the server publishes reaches the client, in order."""
    client = flagkit.Client(HTTPSource(server.url, interval=0.02))
    seen: list[Any] = []
    client.on_change(lambda event: seen.append(client.get_details("banner", None).value))
    try:
        for value in ["one", "two", "three"]:
            server.publish(flags_document(value))
            assert wait_until(lambda v=value: client.get_details("banner", None).value == v)
        assert ["one", "two", "three"] == [v for v in seen if v != True]  # noqa: E712
    finally:
        client.close()


def test_a_304_does_not_reparse(server: FlagServer, source: HTTPSource) -> None:
    """Unchanged polls send the ETag back, get a 304 and keep the very same snapshot."""
    live = source.snapshot
    calls: list[bytes] = []
    parse = source._parse
    source._parse = lambda data: calls.append(data) or parse(data)  # type: ignore[method-assign]
    for _ in range(3):
        assert not source.poll()
    assert live is source.snapshot
    assert [] == calls
    assert ['"v1"'] * 3 == [r.headers.get("if-none-match") for r in server.requests[1:]]
    assert 1 == len({r.peer for r in server.requests}), "polls must reuse one connection"


def test_an_unchanged_200_does_not_recompile(server: FlagServer, source: HTTPSource) -> None:
    """A server without ETags resends the same body: same hash, same snapshot."""
    live = source.snapshot
    server.fallback = Reply(body=json.dumps(flags_document(True)).encode(), headers=JSON)
    assert not source.poll()
    assert live is source.snapshot
    assert "network" == source.status().live


def test_last_modified_is_sent_back(server: FlagServer) -> None:
    """A server that dates its document gets If-Modified-Since on the next poll."""
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.fallback = Reply(body=GOOD, headers={**JSON, "Last-Modified": stamp})
    source = quiet(server)
    try:
        source.poll()
        source.poll()
        assert stamp == server.requests[-1].headers.get("if-modified-since")
    finally:
        source.close()


def test_gzip_bodies_are_decoded(server: FlagServer) -> None:
    """A gzip-encoded document is decoded and served."""
    server.fallback = Reply(body=GOOD, headers=JSON, gzip=True)
    source = quiet(server)
    try:
        assert source.poll()
        assert "good" == banner(source)
        assert "gzip" == server.requests[0].headers["accept-encoding"]
    finally:
        source.close()


def test_a_redirect_is_followed(server: FlagServer) -> None:
    """A redirect to the document is followed."""
    server.routes["/moved"] = Reply(302, headers={"Location": "/flags.json"})
    source = HTTPSource(server.url.replace("/flags.json", "/moved"), interval=3600)
    try:
        assert source.poll()
        assert True is banner(source)
    finally:
        source.close()


BIG = json.dumps({"flags": {}, "padding": "x" * 5000}).encode()
#: Flag problems plus one outside every flag: the whole document is refused.
INVALID = json.dumps(
    {"flags": {"a": {"variants": {}, "default": "x"}, "b": {"default": 3}}, "bogus": 1}
)

FAULTS = {
    "500": (Reply(500), "HTTP 500"),
    "503 + Retry-After": (Reply(503, headers={"Retry-After": "0"}), "HTTP 503"),
    "404": (Reply(404), "HTTP 404"),
    "invalid JSON": (Reply(body=b'{"flags": ', headers=JSON), "flags.json"),
    "wrong content type": (
        Reply(body=GOOD, headers={"Content-Type": "text/html"}),
        "content type 'text/html'",
    ),
    "validation failure": (Reply(body=INVALID.encode(), headers=JSON), "problems"),
    "oversized": (Reply(body=BIG, headers=JSON), "larger than 4000 bytes"),
    "oversized once decoded": (
        Reply(body=json.dumps({"x": "0" * 100_000}).encode(), headers=JSON, gzip=True),
        "larger than 4000 bytes",
    ),
    "connection dropped mid-body": (Reply(body=GOOD, headers=JSON, drop_after=10), "Error"),
    "slow past the timeout": (Reply(body=GOOD, headers=JSON, delay=1.0), "timed out"),
    "redirect loop": (Reply(302, headers={"Location": "/flags.json"}), "more than 3 redirects"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_the_last_good_snapshot_survives_every_fault(server: FlagServer, name: str) -> None:
    """A fault keeps the live flags, and status() names the error and its time."""
    reply, expected = FAULTS[name]
    source = quiet(server, max_bytes=4000, read_timeout=0.3)
    try:
        assert source.poll()
        live = source.snapshot
        server.fallback = reply
        before = time.time()
        assert not source.poll()
        status = source.status()
        assert live is source.snapshot
        assert "network" == status.live
        assert status.last_error is not None
        assert expected in status.last_error
        assert status.last_error_at is not None
        assert before <= status.last_error_at <= time.time()
        server.fallback = None
        server.publish(flags_document("recovered"))
        assert source.poll()
        assert "recovered" == banner(source)
    finally:
        source.close()


def test_a_validation_failure_reports_every_problem(server: FlagServer) -> None:
    """The error of an invalid document is the full validation report, problem by problem."""
    source = quiet(server)
    errors: list[Exception] = []
    client = flagkit.Client(source)
    client.on_error(errors.append)
    try:
        assert source.wait_until_ready(10)
        server.fallback = Reply(body=INVALID.encode(), headers=JSON)
        source.poll()
        assert isinstance(errors[-1], flagkit.DefinitionError)
        report = str(errors[-1])
        assert "flag 'a'" in report
        assert "flag 'b'" in report
        assert report == client.status().last_error
    finally:
        client.close()


def test_content_types_are_configurable(server: FlagServer) -> None:
    """``content_types=()`` accepts an object store's generic type."""
    server.fallback = Reply(body=GOOD, headers={"Content-Type": "binary/octet-stream"})
    source = quiet(server, content_types=())
    try:
        assert source.poll()
    finally:
        source.close()
    server.fallback = Reply(body=GOOD, headers={"Content-Type": "application/vnd.flags+json"})
    source = quiet(server)
    try:
        assert source.poll()
    finally:
        source.close()


def test_back_off_spaces_the_requests(server: FlagServer) -> None:
    """Consecutive failures double the gap between requests, up to the cap."""
    server.fallback = Reply(500)
    source = HTTPSource(server.url, interval=0.05, backoff_cap=0.4, jitter=0.0)
    client = flagkit.Client(source)
    try:
        assert wait_until(lambda: server.count() >= 6, timeout=15)
    finally:
        client.close()
    times = [r.at for r in server.requests[:6]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for gap, expected in zip(gaps, [0.05, 0.1, 0.2, 0.4, 0.4], strict=True):
        assert gap >= expected * 0.9, gaps


def test_retry_after_is_respected(server: FlagServer) -> None:
    """A 503 with Retry-After: 1 holds the next request back a whole second."""
    server.queue.append(Reply(503, headers={"Retry-After": "1"}))
    source = HTTPSource(server.url, interval=0.02, jitter=0.0)
    client = flagkit.Client(source)
    try:
        assert source.wait_until_ready(15)
    finally:
        client.close()
    first, second = server.requests[0].at, server.requests[1].at
    assert second - first >= 0.95


def test_retry_after_parses_seconds_and_dates() -> None:
    """Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); junk is ignored."""
    now = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert 120.0 == parse_retry_after("120", now)
    assert 60.0 == parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now)
    assert 0.0 == parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now)
    assert None is parse_retry_after("soon", now)
    assert None is parse_retry_after(None, now)


def test_back_off_is_jittered_and_capped() -> None:
    """Delays double from the base, stay within the jitter band and never pass the cap."""
    import random

    backoff = Backoff(base=1.0, cap=8.0, jitter=0.1, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, nominal in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert nominal * 0.9 <= delay <= nominal * 1.1
    assert 3600.0 == Backoff(base=1, cap=2, jitter=0, rng=random.Random()).next_delay(10**9)
    spread = {round(jittered(30.0, 0.1, random.Random(seed)), 3) for seed in range(20)}
    assert len(spread) > 10
    assert all(27.0 <= value <= 33.0 for value in spread)


def test_the_cache_survives_a_restart(server: FlagServer, tmp_path: Path) -> None:
    """A fetched document is persisted; a restart without the network serves it."""
    cache = tmp_path / "flags.cache.json"
    server.publish(flags_document("cached"))
    first = quiet(server, cache_path=cache)
    assert first.poll()
    first.close()
    server.close()
    second = HTTPSource(server.url, interval=3600, cache_path=cache, connect_timeout=0.5)
    client = flagkit.Client(second)
    try:
        assert "cached" == client.get_details("banner", None).value
        status = client.status()
        assert ("cache", True) == (status.live, status.ready)
        assert not second.poll()
        assert "cache" == client.status().live
        assert client.status().last_error is not None
    finally:
        client.close()
    assert [".flagkit" not in name for name in os.listdir(tmp_path)] == [True]


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"flags": 1}'])
def test_a_corrupt_cache_does_not_break_start_up(
    server: FlagServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    """A broken cache is ignored with a warning; the network then takes over."""
    cache = tmp_path / "flags.cache.json"
    cache.write_bytes(content)
    client = flagkit.Client(HTTPSource(server.url, interval=0.05, cache_path=cache))
    try:
        assert "none" == client.status().live or client.status().live == "network"
        assert "corrupt" in caplog.text or not content
        assert wait_until(lambda: client.status().live == "network")
        served = json.dumps(flags_document(True)).encode()
        assert wait_until(lambda: cache.read_bytes() == served)
    finally:
        client.close()


def test_an_unreadable_cache_is_ignored(
    server: FlagServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache path that cannot be read (here a directory) is logged, never raised."""
    source = quiet(server, cache_path=tmp_path)
    try:
        assert "none" == source.status().live
        assert "unreadable" in caplog.text
        assert source.poll()  # the write fails too, with a warning; the flags go live
        assert "cannot write cache" in caplog.text
    finally:
        source.close()


def test_bootstrap_serves_until_the_network_answers(server: FlagServer, tmp_path: Path) -> None:
    """A bootstrap document (dict or file) is live at once, then replaced by the network."""
    path = tmp_path / "boot.json"
    path.write_text(json.dumps(flags_document("boot-file")))
    for bootstrap, expected in [(flags_document("boot"), "boot"), (path, "boot-file")]:
        source = quiet(server, bootstrap=bootstrap)
        try:
            assert ("bootstrap", expected) == (source.status().live, banner(source))
            assert source.poll()
            assert ("network", True) == (source.status().live, banner(source))
        finally:
            source.close()


def test_without_network_the_callers_defaults_serve(server: FlagServer) -> None:
    """No bootstrap, no cache, no server: construction does not block; defaults serve."""
    server.close()
    started = time.monotonic()
    source = HTTPSource(server.url, interval=0.05, connect_timeout=0.2)
    client = flagkit.Client(source)
    try:
        assert time.monotonic() - started < 0.5
        assert "fallback" == client.get_str("banner", "fallback")
        assert ("none", False) == (client.status().live, client.status().ready)
        assert not source.wait_until_ready(0.2)
        assert wait_until(lambda: client.status().last_error is not None)
    finally:
        client.close()


def test_stale_after_marks_the_client_stale(server: FlagServer) -> None:
    """Once ``stale_after`` passes without a successful poll, the status says stale."""
    client = flagkit.Client(HTTPSource(server.url, interval=0.05, stale_after=0.3))
    try:
        assert wait_until(lambda: client.status().live == "network")
        assert not client.status().stale
        server.fallback = Reply(500)
        assert wait_until(lambda: client.status().stale)
        assert True is client.get_bool("banner", False)
        server.fallback = None
        assert wait_until(lambda: not client.status().stale)
    finally:
        client.close()


SECRETS = ("s3cr3t-bearer-token", "s3cr3t-api-key", "s3cr3t-header", "s3cr3t-query")


def test_secrets_never_show(server: FlagServer, caplog: pytest.LogCaptureFixture) -> None:
    """Tokens are sent, but appear in no log, repr, status or exception text."""
    caplog.set_level(logging.DEBUG, logger="flagkit")
    errors: list[Exception] = []
    url = f"{server.url}?token={SECRETS[3]}"
    source = HTTPSource(
        url,
        interval=3600,
        bearer_token=SECRETS[0],
        api_key=SECRETS[1],
        headers={"X-Extra": SECRETS[2]},
        connect_timeout=0.3,
        read_timeout=0.3,
    )
    client = flagkit.Client(source)
    client.on_error(errors.append)
    try:
        assert source.wait_until_ready(10)
        seen = server.requests[0].headers
        assert f"Bearer {SECRETS[0]}" == seen["authorization"]
        assert (SECRETS[1], SECRETS[2]) == (seen["x-api-key"], seen["x-extra"])
        server.fallback = Reply(body=b"{", headers=JSON)
        source.poll()
        server.fallback = Reply(302, headers={"Location": f"/flags.json?token={SECRETS[3]}"})
        source.poll()
        server.fallback = Reply(body=GOOD, headers=JSON, drop_after=3)
        source.poll()
        server.close()
        source.poll()
    finally:
        client.close()
    assert len(errors) == 4
    shown = "\n".join(
        [caplog.text, repr(source), repr(client), str(client.status()), str(source.status())]
        + [f"{e!s} {e!r}" for e in errors]
    )
    assert "?…" in shown
    for secret in SECRETS:
        assert secret not in shown


def test_verify_accepts_a_ca_bundle() -> None:
    """TLS verification is on by default; a CA bundle path becomes a verifying context."""
    source = HTTPSource("https://flags.example/flags.json", verify=certifi.where())
    try:
        assert isinstance(source._verify, ssl.SSLContext)
        assert ssl.CERT_REQUIRED == source._verify.verify_mode
        assert True is HTTPSource("https://flags.example/x.json")._verify
    finally:
        source.close()


def test_an_unknown_format_is_refused() -> None:
    """Only the formats that exist are accepted."""
    with pytest.raises(flagkit.SourceError, match="unknown document format"):
        HTTPSource("http://127.0.0.1/flags.json", format="yaml")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["flagd", "auto"])
def test_the_format_is_pluggable(server: FlagServer, fmt: Any) -> None:
    """The same transport fetches a flagd document when asked to."""
    flagd = EXAMPLE_FLAGD.read_bytes()
    server.fallback = Reply(body=flagd, headers=JSON)
    source = quiet(server, format=fmt)
    try:
        assert source.poll()
        assert source.snapshot is not None
        assert "new-checkout" in source.snapshot.flags
    finally:
        source.close()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _pollers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("flagkit-http")]


def test_nothing_leaks_after_close(server: FlagServer) -> None:
    """One thread per source; close() joins it and closes every socket, without warnings."""
    server.publish(flags_document("x"))
    baseline = _open_fds()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            source = HTTPSource(server.url, interval=0.01)
            client = flagkit.Client(source)
            assert source.wait_until_ready(10)
            assert wait_until(lambda: server.count() >= 3)
            assert 1 == len(_pollers())
            client.close()
            client.close()  # idempotent
            assert [] == _pollers()
        del source, client
        gc.collect()
    assert wait_until(lambda: _open_fds() <= baseline)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_keeps_polling(server: FlagServer) -> None:
    """A source started before fork() polls in the child too and sees a change."""
    client = flagkit.Client(HTTPSource(server.url, interval=0.02))
    try:
        assert wait_until(lambda: client.status().live == "network")
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            try:
                os.close(read_end)
                ok = wait_until(lambda: client.get_details("banner", None).value == "after-fork")
                os.write(write_end, f"{ok} {len(_pollers())}".encode())
            finally:
                os._exit(0)  # never run the rest of pytest in the child
        os.close(write_end)
        server.publish(flags_document("after-fork"))
        with os.fdopen(read_end, "rb") as pipe:
            report = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        assert 0 == status
        assert "True 1" == report
    finally:
        client.close()


def test_client_from_url(server: FlagServer) -> None:
    """``Client.from_url`` builds a client over an HTTPSource with the given options."""
    with flagkit.Client.from_url(server.url, interval=0.05) as client:
        assert isinstance(client.source, HTTPSource)
        assert 0.05 == client.source.interval
        assert wait_until(lambda: client.get_bool("banner", False))


def test_client_from_url_takes_the_client_options(server: FlagServer) -> None:
    """from_url accepts every client option next to the source's, and each one works."""
    server.publish(
        {
            "flags": {
                "shop-only": {
                    "variants": {"on": True, "off": False},
                    "rules": [
                        {
                            "when": [{"attribute": "app", "op": "equals", "value": "shop"}],
                            "serve": "on",
                        }
                    ],
                    "default": "off",
                },
                "exp": {"kind": "experiment", "variants": {"a": "a", "b": "b"}, "default": "a"},
            }
        }
    )
    seen: list[str] = []

    class Recorder(flagkit.Hook):
        def after(
            self, hook_context: flagkit.HookContext, details: flagkit.Details, hints: Any
        ) -> None:
            seen.append(f"{hook_context.client_name}:{hook_context.flag_key}={details.value}")

    exposures: list[flagkit.ExposureEvent] = []
    client = flagkit.Client.from_url(
        server.url,
        counters=True,
        context={"app": "shop"},
        hooks=[Recorder()],
        exposures=exposures.extend,
        name="x",
        interval=0.05,
    )
    try:
        source = client.source
        assert isinstance(source, HTTPSource)
        assert (0.05, "x") == (source.interval, client.name)
        assert source.wait_until_ready(10)
        assert True is client.get_bool("shop-only", False)  # the client context reached the rule
        assert "a" == client.get_str("exp", "?", {"targetingKey": "u1"})
        assert ["x:shop-only=True", "x:exp=a"] == seen
        assert {
            ("shop-only", "on", "TARGETING_MATCH", None): 1,
            ("exp", "a", "STATIC", None): 1,
        } == client.counters()
        assert client.flush()
        assert [("exp", "a", "u1")] == [(e.flag_key, e.variant, e.targeting_key) for e in exposures]
    finally:
        client.close()
    assert client.status().closed


def test_cache_writes_are_atomic_under_concurrent_writers(tmp_path: Path) -> None:
    """Writers racing on one path never leave a reader a torn or mixed file."""
    from flagkit._sources.cache_file import read_cache, write_cache

    path = str(tmp_path / "shared.json")
    bodies = [json.dumps({"writer": i, "pad": str(i) * 50_000}).encode() for i in range(4)]
    write_cache(path, bodies[0])
    stop = threading.Event()

    def write(body: bytes) -> None:
        while not stop.is_set():
            write_cache(path, body)

    writers = [threading.Thread(target=write, args=(body,)) for body in bodies]
    for writer in writers:
        writer.start()
    try:
        seen = {read_cache(path, max_bytes=1 << 20) for _ in range(300)}
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert seen <= set(bodies)
    assert ["shared.json"] == os.listdir(tmp_path)


def test_a_poll_finishing_after_close_is_dropped(server: FlagServer) -> None:
    """close() waits for a slow poll in flight, and its document never goes live."""
    source = quiet(server)
    assert source.poll()
    live = source.snapshot
    server.fallback = Reply(body=GOOD, headers=JSON, delay=0.5)
    poller = threading.Thread(target=source.poll)
    poller.start()
    assert wait_until(lambda: server.count() == 2)
    source.close()
    poller.join()
    assert live is source.snapshot
