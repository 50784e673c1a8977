"""The pytest plugin: a per-test client, markers that force or sweep flags, an expiry guard.

Registered through the ``pytest11`` entry point ``flagkit``; without the
installed entry point, load it with ``-p flagkit.testing._plugin``.

* ``--flagkit-file`` / ini ``flagkit_file``: the flag file tests start from.
* ``--flagkit-expired=warn|fail|ignore`` / ini ``flagkit_expired``: what
  evaluating an expired flag during a test does (default ``warn``).
* Fixture ``flagkit_client``: a fresh client per test over the flag file
  (or no flags), with the test's forced flags applied.
* Fixture ``flagkit_recorder``: a recorder of ``flagkit_client``.
* Fixture ``flagkit_state``: the flags forced for this test (a dict).
* Markers ``flags``, ``flag_variants`` and ``flag_states`` (see docs/testing.md).
* ``--flagkit-code PATH`` / ini ``flagkit_code``: adds the test
  ``flagkit-declared-flags``, which fails when a ``flagkit.Flag`` declared
  under PATH is not in the flag file, or a flag in the file has no
  declaration (``check_declared_flags``).

Forced flags apply to ``flagkit_client`` for every thread, and to every
other client in the test's thread and the asyncio tasks it starts.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from flagkit._client.client import Client
from flagkit._client.overrides import live_clients, watch_new_clients
from flagkit._core.snapshot import EMPTY, Snapshot
from flagkit._sources.pipeline import snapshot_from_file
from flagkit.testing._declarations import check_declared_flags
from flagkit.testing._errors import UnknownFlagError
from flagkit.testing._expiry import EXPIRY_MODES, ExpiryGuard, ExpiryMode
from flagkit.testing._override import check_override_values, override
from flagkit.testing._recorder import Recorder
from flagkit.testing._states import STATE_NAMES, StateName, flag_states

__all__ = [
    "DeclaredFlagsItem",
    "flagkit_client",
    "flagkit_recorder",
    "flagkit_state",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
]

_SNAPSHOT = pytest.StashKey[Snapshot]()
_FORCED = pytest.StashKey[dict[str, Any]]()
_RECORDER = pytest.StashKey[Recorder]()
_TEST_THREAD = pytest.StashKey[str]()
_STATE_IDS: dict[str, str] = {"on": "all-on", "off": "all-off", "file": "file"}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--flagkit-file`` and ``--flagkit-expired`` options and their ini settings."""
    group = parser.getgroup("flagkit", "flagkit feature flags")
    group.addoption(
        "--flagkit-file",
        metavar="PATH",
        default=None,
        help="flag file the flagkit_client fixture and the flag markers start from",
    )
    group.addoption(
        "--flagkit-expired",
        choices=EXPIRY_MODES,
        default=None,
        help="on evaluating a flag past its 'expires' date: warn (default), fail or ignore",
    )
    group.addoption(
        "--flagkit-code",
        metavar="PATH",
        action="append",
        default=None,
        help="check the flagkit.Flag declarations under PATH against the flag file",
    )
    parser.addini("flagkit_file", "flag file for flagkit_client and the flag markers")
    parser.addini(
        "flagkit_code", "code whose flagkit.Flag declarations must match the flag file", "paths"
    )
    parser.addini("flagkit_expired", "expired flag evaluations: warn, fail or ignore", "string")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers (so ``--strict-markers`` accepts them)."""
    config.addinivalue_line(
        "markers",
        "flags(mapping): force flags (name -> variant or value) for this test (flagkit)",
    )
    config.addinivalue_line(
        "markers",
        "flag_variants(*flags, variants=None): run the test once per variant of each flag "
        "(flagkit)",
    )
    config.addinivalue_line(
        "markers",
        "flag_states(*flags, states=('on', 'off', 'file')): run the test with the flags "
        "(default: all in the flag file) all on, all off, and as in the file (flagkit)",
    )


def _expiry_mode(config: pytest.Config) -> ExpiryMode:
    mode = config.getoption("flagkit_expired") or config.getini("flagkit_expired") or "warn"
    if mode not in EXPIRY_MODES:
        raise pytest.UsageError(
            f"flagkit_expired must be one of {', '.join(EXPIRY_MODES)}, not {mode!r}"
        )
    return cast(ExpiryMode, mode)


def _file_snapshot(config: pytest.Config) -> Snapshot:
    """Return the flag file compiled once per session (empty without a file)."""
    snapshot = config.stash.get(_SNAPSHOT, None)
    if snapshot is None:
        # The option is relative to where pytest was started, the ini setting to its file.
        option, setting = config.getoption("flagkit_file"), config.getini("flagkit_file")
        if option:
            path = config.invocation_params.dir / str(option)
        elif setting:
            path = (config.inipath.parent if config.inipath else config.rootpath) / str(setting)
        else:
            path = None
        # auto: a native, flagd or Unleash file works as it is.
        snapshot = (
            EMPTY
            if path is None
            else snapshot_from_file(path, format="auto", keep_definitions=True, isolate=False)
        )
        config.stash[_SNAPSHOT] = snapshot
    return snapshot


# -- parametrization ------------------------------------------------------------------

Case = tuple[str, dict[str, Any]]


def _variant_cases(snapshot: Snapshot, marker: pytest.Mark) -> list[list[Case]]:
    explicit: Sequence[Any] | None = marker.kwargs.get("variants")
    axes: list[list[Case]] = []
    for key in marker.args:
        flag = snapshot.flags.get(key)
        if explicit is not None:
            names: Sequence[Any] = list(explicit)
        elif flag is not None:
            names = list(flag.variants)
        else:
            known = ", ".join(sorted(snapshot.flags)) or "none: set --flagkit-file or ini"
            pytest.fail(
                f"flag_variants: unknown flag {key!r} (flags: {known}); or pass variants=[...]",
                pytrace=False,
            )
        axes.append([(f"{key}={name}", {key: name}) for name in names])
    return axes


def _state_cases(snapshot: Snapshot, marker: pytest.Mark) -> list[Case]:
    keys = list(marker.args) or None
    if keys is None and not snapshot.flags:
        pytest.fail(
            "flag_states without flag names needs a flag file (--flagkit-file or ini flagkit_file)",
            pytrace=False,
        )
    states: Sequence[StateName] = marker.kwargs.get("states", STATE_NAMES)
    try:
        table = flag_states(snapshot, keys, states=states)
    except ValueError as exc:
        pytest.fail(f"flag_states: {exc}", pytrace=False)
    return [(_STATE_IDS[name], values) for name, values in table.items()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize tests marked ``flag_variants`` / ``flag_states`` over flag configurations."""
    axes: list[list[Case]] = []
    snapshot = None
    for marker in metafunc.definition.iter_markers("flag_states"):
        snapshot = snapshot or _file_snapshot(metafunc.config)
        axes.append(_state_cases(snapshot, marker))
    for marker in metafunc.definition.iter_markers("flag_variants"):
        snapshot = snapshot or _file_snapshot(metafunc.config)
        axes.extend(_variant_cases(snapshot, marker))
    if not axes:
        return
    ids: list[str] = []
    params: list[dict[str, Any]] = []
    for combination in itertools.product(*reversed(axes)):  # markers apply bottom-up
        ids.append("-".join(case_id for case_id, _ in combination))
        merged: dict[str, Any] = {}
        for _, values in combination:
            merged.update(values)
        params.append(merged)
    metafunc.parametrize("flagkit_state", params, ids=ids, indirect=True)


# -- fixtures ---------------------------------------------------------------------------


def _forced_for(request: pytest.FixtureRequest) -> dict[str, Any]:
    forced: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("flags"))):  # closest wins
        if len(marker.args) != 1 or not isinstance(marker.args[0], Mapping):
            pytest.fail("@pytest.mark.flags takes one mapping: flag -> variant or value")
        forced.update(marker.args[0])
    # The parametrization (flag_variants / flag_states) wins over any flags
    # marker, or a module-level marker would silently collapse the sweep.
    forced.update(getattr(request, "param", None) or {})
    return forced


def _test_recorder(request: pytest.FixtureRequest) -> Recorder:
    """Return this test's recorder: on every live client, and on each client created meanwhile.

    Built on first need (forced flags, ``flagkit_client`` or ``flagkit_recorder``),
    stopped at the end of the test; the failure report reads it.
    """
    existing: Recorder | None = request.node.stash.get(_RECORDER, None)
    if existing is not None:
        return existing
    recorder = Recorder()
    for client in live_clients():
        recorder.attach(client)
    unwatch = watch_new_clients(recorder.attach)
    request.node.stash[_RECORDER] = recorder
    request.node.stash[_TEST_THREAD] = threading.current_thread().name

    def stop() -> None:
        unwatch()
        recorder.stop()

    request.addfinalizer(stop)
    return recorder


@pytest.fixture(autouse=True)
def flagkit_state(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Return the flags forced for this test (markers and parametrization).

    They are forced on every client, in the test's thread and its asyncio tasks.
    """
    forced = _forced_for(request)
    request.node.stash[_FORCED] = forced
    if not forced:
        yield forced
        return
    snapshot = _file_snapshot(request.config)
    problem = None
    try:
        check_override_values(snapshot, forced)
    except UnknownFlagError as exc:
        problem = f"{request.node.nodeid}: {exc}"
    if problem is not None:  # failed outside the handler: no chained traceback
        pytest.fail(problem, pytrace=False)
    _test_recorder(request)
    with override(None, forced):
        yield forced


@pytest.fixture
def flagkit_client(
    request: pytest.FixtureRequest, flagkit_state: dict[str, Any]
) -> Iterator[Client]:
    """Return a fresh client over the flag file (or no flags), with this test's forced flags."""
    _test_recorder(request)  # before the client: it is recorded as it is created
    client = Client(_file_snapshot(request.config), name=f"flagkit_client[{request.node.name}]")
    try:
        if flagkit_state:
            with client.override(flagkit_state):
                yield client
        else:
            yield client
    finally:
        client.close()


@pytest.fixture
def flagkit_recorder(request: pytest.FixtureRequest, flagkit_client: Client) -> Recorder:
    """Return the recorder of every client this test touches, ``flagkit_client`` included.

    ``flagkit_client`` may be overridden (the usual way to plug in an
    application's own client): the recorder records whatever it returns.
    """
    return _test_recorder(request).attach(flagkit_client)


# -- declared flags against the flag file ----------------------------------------------


class DeclaredFlagsItem(pytest.Item):
    """The test that compares the code's ``flagkit.Flag`` declarations with the flag file."""

    def __init__(self, *, code: list[Path], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.code = code
        self.problems: list[str] = []

    def runtest(self) -> None:
        """Fail with one line per mismatch."""
        check = check_declared_flags(_file_snapshot(self.config), self.code)
        self.problems = check.problems()
        if self.problems:
            raise AssertionError("\n".join(self.problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Return the mismatches, without a traceback."""
        if self.problems:
            head = "flagkit.Flag declarations do not match the flag file:"
            return "\n".join([head, *(f"  {line}" for line in self.problems)])
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, None, str]:
        """Name the check in reports."""
        return self.path, None, "flagkit: declared flags match the flag file"


def _code_paths(config: pytest.Config) -> list[Path]:
    option = config.getoption("flagkit_code") or []
    if option:
        return [config.invocation_params.dir / str(p) for p in option]
    return [Path(p) for p in config.getini("flagkit_code")]


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the declared-flags check when ``--flagkit-code`` (or ini ``flagkit_code``) is set."""
    code = _code_paths(config)
    if code:
        items.append(
            DeclaredFlagsItem.from_parent(session, name="flagkit-declared-flags", code=code)
        )


# -- the expiry guard and failure reports -------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Guard every live client against expired flags while the test body runs."""
    guard = ExpiryGuard(live_clients(), mode=_expiry_mode(item.config))
    try:
        result = yield
    finally:
        guard.release()
    guard.check()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add a "flagkit" section to failures: the forced flags and what was evaluated."""
    report: pytest.TestReport = yield
    if report.failed:
        lines = []
        forced = item.stash.get(_FORCED, None)
        if forced:
            lines.append("forced flags: " + ", ".join(f"{k}={v!r}" for k, v in forced.items()))
        recorder = item.stash.get(_RECORDER, None)
        if recorder is not None:
            lines += _evaluations_by_client(recorder)
            lines += _thread_local_hints(forced or {}, recorder, item.stash.get(_TEST_THREAD, ""))
        if lines:
            report.sections.append(("flagkit", "\n".join(lines)))
    return report


def _evaluations_by_client(recorder: Recorder) -> list[str]:
    """Return the report's lines: each client's evaluations, in order."""
    evaluations = recorder.evaluations()
    if not evaluations:
        return ["evaluations: (none)"]
    lines = []
    for name in dict.fromkeys(e.client for e in evaluations):
        mine = [e for e in evaluations if e.client == name]
        where = sorted({e.thread for e in mine})
        lines.append(f"{name} evaluations (thread {', '.join(where)}):")
        lines += [f"  {e.describe()}" for e in mine]
    return lines


def _thread_local_hints(forced: Mapping[str, Any], recorder: Recorder, thread: str) -> list[str]:
    """Say so when a forced flag was evaluated without its override on another thread."""
    missed = sorted(
        {
            (e.flag_key, e.thread)
            for e in recorder.evaluations()
            if e.flag_key in forced and e.reason != "OVERRIDE" and e.thread != thread
        }
    )
    return [
        f"note: {key!r} was forced for this test but evaluated without the override on "
        f"thread {where!r}: markers force flags in the test's own thread and asyncio tasks "
        "only. For an app serving requests on another thread (a live server), have it "
        "use the flagkit_client fixture's client (its forced flags apply in every thread), "
        "or force them on the app's client with client.override({...}), which every "
        "thread sees."
        for key, where in missed
    ]
