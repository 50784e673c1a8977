"""The pytest plugin, run with pytester: options, fixtures, markers, guard, reports."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.testing.conftest import SRC, RunPytest

ROOT = Path(__file__).resolve().parents[2]
FLAGS = """
version: 1
flags:
  new-checkout:
    variants: {on: true, off: false}
    default: off
  pricing-test:
    kind: experiment
    variants: {control: control, treatment-a: treatment-a, treatment-b: treatment-b}
    default: {rollout: {weights: {control: 50, treatment-a: 25, treatment-b: 25}}}
  theme:
    variants: {classic: classic, fresh: fresh}
    off_variant: classic
    default: fresh
  old-release:
    expires: 2020-01-01
    variants: {on: true, off: false}
    default: on
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """Return a pytester project with a flag file configured through the ini file."""
    pytester.makefile(".yaml", flags=FLAGS)
    pytester.makeini("[pytest]\nflagkit_file = flags.yaml\n")
    return pytester


def test_entry_point_is_declared_in_pyproject() -> None:
    """Installing flagkit registers the plugin through the ``pytest11`` entry point."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert {"flagkit": "flagkit.testing._plugin"} == data["project"]["entry-points"]["pytest11"]


def test_flagkit_client_without_a_file_is_an_empty_fake(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """Without a flag file the fixture is an empty client; ``flags`` still forces values."""
    pytester.makepyfile(
        """
        import pytest

        def test_empty(flagkit_client):
            assert flagkit_client.get_bool("anything", False) is False

        @pytest.mark.flags({"anything": True, "limit": 5})
        def test_forced(flagkit_client):
            assert flagkit_client.get_bool("anything", False) is True
            assert flagkit_client.get_int("limit", 0) == 5
        """
    )
    run_pytest().assert_outcomes(passed=2)


def test_flags_marker_forces_every_client_and_isolates_tests(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """The marker applies to the fixture and to other clients, for one test only."""
    project.makepyfile(
        """
        import pytest
        import flagkit

        APP = flagkit.Client.from_file("flags.yaml")

        @pytest.mark.flags({"new-checkout": True, "pricing-test": "treatment-a"})
        def test_marked(flagkit_client, flagkit_state):
            assert flagkit_client.get_bool("new-checkout", False) is True
            assert APP.get_bool("new-checkout", False) is True
            served = flagkit_client.get_str("pricing-test", "", {"targetingKey": "u"})
            assert served == "treatment-a"
            assert flagkit_state == {"new-checkout": True, "pricing-test": "treatment-a"}

        def test_unmarked_sees_the_file(flagkit_client):
            assert flagkit_client.get_bool("new-checkout", True) is False
            assert APP.get_bool("new-checkout", True) is False
        """
    )
    run_pytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_flags_marker_on_a_class_and_a_method_closest_wins(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """Markers merge from module to method; the closest one wins for a flag."""
    project.makepyfile(
        """
        import pytest

        @pytest.mark.flags({"new-checkout": True, "theme": "classic"})
        class TestCheckout:
            @pytest.mark.flags({"theme": "fresh"})
            def test_method(self, flagkit_client):
                assert flagkit_client.get_bool("new-checkout", False) is True
                assert flagkit_client.get_str("theme", "") == "fresh"
        """
    )
    run_pytest().assert_outcomes(passed=1)


def test_unknown_flag_in_marker_fails_naming_it(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """A typo in a marker fails the test with the flag and the known flags."""
    project.makepyfile(
        """
        import pytest

        @pytest.mark.flags({"new-chekout": True})
        def test_typo(flagkit_client):
            pass

        @pytest.mark.flags({"theme": "dark"})
        def test_bad_variant(flagkit_client):
            pass
        """
    )
    result = run_pytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*cannot override unknown flag 'new-chekout' (flags: new-checkout, old-release,*",
            "*cannot override flag 'theme' with 'dark': not a variant (classic, fresh)*",
        ]
    )


def test_flag_variants_parametrizes_over_every_variant(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """One test per variant, with readable ids; two markers give the product."""
    project.makepyfile(
        """
        import pytest

        @pytest.mark.flag_variants("pricing-test")
        def test_each(flagkit_client, flagkit_state):
            served = flagkit_client.get_str("pricing-test", "", {"targetingKey": "u"})
            assert served == flagkit_state["pricing-test"]

        @pytest.mark.flag_variants("new-checkout")
        @pytest.mark.flag_variants("theme")
        def test_product(flagkit_client):
            pass

        @pytest.mark.flag_variants("pricing-test", variants=["control", "treatment-b"])
        def test_explicit(flagkit_client, flagkit_state):
            assert flagkit_state["pricing-test"] in ("control", "treatment-b")
        """
    )
    result = run_pytest("-v")
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines_random(
        [
            "*test_each?pricing-test=control? PASSED*",
            "*test_each?pricing-test=treatment-a? PASSED*",
            "*test_each?pricing-test=treatment-b? PASSED*",
            "*test_product?new-checkout=on-theme=classic? PASSED*",
            "*test_product?new-checkout=off-theme=fresh? PASSED*",
            "*test_explicit?pricing-test=treatment-b? PASSED*",
        ]
    )


def test_flag_variants_of_an_unknown_flag_fails_collection(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """Without a file or explicit variants the marker says what is missing."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.flag_variants("new-checkout")
        def test_x():
            pass
        """
    )
    result = run_pytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*flag_variants: unknown flag 'new-checkout'*variants=*"])


def test_flag_states_runs_all_on_all_off_and_file(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """Named configurations: every flag on, every flag off, and the file's state."""
    project.makepyfile(
        """
        import pytest

        @pytest.mark.flag_states()
        def test_all(flagkit_client, flagkit_state, request):
            checkout = flagkit_client.get_bool("new-checkout", None)
            theme = flagkit_client.get_str("theme", "")
            state = request.node.callspec.id
            assert {"all-on": (True, "fresh"), "all-off": (False, "classic"),
                    "file": (False, "fresh")}[state] == (checkout, theme)

        @pytest.mark.flag_states("new-checkout", "theme", states=["on", "off"])
        def test_some(flagkit_client, flagkit_state):
            assert set(flagkit_state) == {"new-checkout", "theme"}
            on = flagkit_client.get_bool("new-checkout", None)
            assert flagkit_client.get_str("theme", "") == ("fresh" if on else "classic")
        """
    )
    result = run_pytest("-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines_random(
        ["*test_all?all-on? PASSED*", "*test_all?all-off? PASSED*", "*test_all?file? PASSED*"]
    )


def test_expired_flag_warns_by_default(project: pytest.Pytester, run_pytest: RunPytest) -> None:
    """Evaluating an expired flag warns, naming the flag and its date."""
    project.makepyfile(
        """
        def test_old(flagkit_client):
            flagkit_client.get_bool("old-release", False, {"targetingKey": "user-9"})
        """
    )
    result = run_pytest("-W", "default")  # the outer suite turns warnings into errors
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*FlagExpiredWarning: flag 'old-release' expired on 2020-01-01*'user-9'*"]
    )


@pytest.mark.parametrize("how", ["option", "ini"])
def test_expired_flag_fails_when_configured(
    project: pytest.Pytester, run_pytest: RunPytest, how: str
) -> None:
    """``--flagkit-expired=fail`` (or the ini) fails the test, even for an app client."""
    project.makepyfile(
        """
        import flagkit

        APP = flagkit.Client.from_file("flags.yaml")

        def test_old():
            APP.get_bool("old-release", False)

        def test_fine():
            APP.get_bool("new-checkout", False)
        """
    )
    if how == "ini":
        project.makeini("[pytest]\nflagkit_file = flags.yaml\nflagkit_expired = fail\n")
        result = run_pytest()
    else:
        result = run_pytest("--flagkit-expired=fail")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*FlagExpiredError: 1 expired flag(s) evaluated (flagkit expiry guard, mode=fail):",
            "E*flag 'old-release' expired on 2020-01-01 (today is *) but was evaluated*",
        ]
    )


def test_expired_flag_ignored_when_configured(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """``--flagkit-expired=ignore`` turns the guard off."""
    project.makepyfile(
        """
        def test_old(flagkit_client):
            flagkit_client.get_bool("old-release", False)
        """
    )
    run_pytest("--flagkit-expired=ignore", "-W", "error").assert_outcomes(passed=1)


def test_failure_report_names_forced_flags_and_evaluations(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """A failing test shows a flagkit section: forced flags and what was evaluated."""
    project.makepyfile(
        """
        import pytest

        @pytest.mark.flags({"pricing-test": "treatment-b"})
        def test_fails(flagkit_client, flagkit_recorder):
            flagkit_client.get_str("pricing-test", "", {"targetingKey": "user-3"})
            flagkit_recorder.assert_evaluated("pricing-test", variant="control")
        """
    )
    result = run_pytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*flag 'pricing-test' was evaluated 0 time(s) with variant 'control'*",
            "*- flagkit -*",
            "forced flags: pricing-test='treatment-b'",
            "*pricing-test -> variant 'treatment-b'*OVERRIDE*'user-3'*",
        ]
    )


def test_flagkit_file_option_and_strict_markers(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """``--flagkit-file`` works without an ini, and the markers pass --strict-markers."""
    pytester.makefile(".yaml", other=FLAGS)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.flags({"theme": "classic"})
        def test_file(flagkit_client):
            assert flagkit_client.get_str("theme", "") == "classic"
            assert flagkit_client.get_bool("new-checkout", True) is False
        """
    )
    run_pytest("--flagkit-file=other.yaml").assert_outcomes(passed=1)


def test_plugin_works_in_a_subprocess(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh interpreter loads the plugin from this checkout's sources."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.flag_variants("f", variants=["a", "b"])
        def test_x(flagkit_client, flagkit_state):
            assert flagkit_client.get_str("f", "") == flagkit_state["f"]
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:flagkit", "-p", "flagkit.testing._plugin", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)


def test_pytest_examples_in_the_docs_pass(pytester: pytest.Pytester, run_pytest: RunPytest) -> None:
    """The pytest-only snippets of docs/testing.md pass against the example flag file."""
    from tests.docs.test_docs_examples import extract_blocks

    page = (ROOT / "docs" / "testing.md").read_text("utf-8")
    snippets = [
        b.code for b in extract_blocks("testing.md", page) if b.lang == "python" and b.opted_out
    ]
    assert snippets, "docs/testing.md lost its pytest examples"
    pytester.makefile(
        ".yaml", flags=(ROOT / "src" / "flagkit" / "examples" / "flags.yaml").read_text("utf-8")
    )
    for i, code in enumerate(snippets):
        pytester.makepyfile(**{f"test_docs_{i}": code})
    result = run_pytest("--flagkit-file=flags.yaml", "-v")
    outcomes = result.parseoutcomes()
    assert (0, 0) == (outcomes.get("failed", 0), outcomes.get("errors", 0))
    result.stdout.fnmatch_lines_random(
        [
            "*test_pricing_page_renders_every_arm?pricing-test=treatment-b? PASSED*",
            "*test_home_page_works_with_flags_on_and_off?all-off? PASSED*",
        ]
    )


def test_parametrization_wins_over_a_module_level_flags_marker(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """A module-wide flags marker cannot collapse a flag_variants sweep into one variant."""
    project.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.flags({"pricing-test": "control", "theme": "classic"})

        @pytest.mark.flag_variants("pricing-test")
        def test_sweep(flagkit_client, flagkit_state):
            served = flagkit_client.get_str("pricing-test", "", {"targetingKey": "u"})
            assert served == flagkit_state["pricing-test"]
            assert flagkit_client.get_str("theme", "") == "classic"
            print("SERVED", served)
        """
    )
    result = run_pytest("-v", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines_random(
        ["*SERVED control", "*SERVED treatment-a", "*SERVED treatment-b"]
    )


def test_the_plugin_reads_an_unleash_file(pytester: pytest.Pytester, run_pytest: RunPytest) -> None:
    """The plugin's flag file may be an Unleash document; markers force its features."""
    pytester.makefile(
        ".json", unleash=(ROOT / "src" / "flagkit" / "examples" / "unleash.json").read_text()
    )
    pytester.makeini("[pytest]\nflagkit_file = unleash.json\n")
    pytester.makepyfile(
        """
        import pytest

        def test_file(flagkit_client):
            assert not flagkit_client.get_bool("kill-switch", True, {})

        @pytest.mark.flags({"kill-switch": "enabled"})
        def test_forced(flagkit_client):
            assert flagkit_client.get_bool("kill-switch", False, {})

        @pytest.mark.flag_states("beta-banner", states=["on", "off"])
        def test_states(flagkit_client, flagkit_state, request):
            on = flagkit_client.get_bool("beta-banner", None, {})
            assert on is (request.node.callspec.id == "all-on")
        """
    )
    run_pytest().assert_outcomes(passed=4)


def test_the_declared_flags_check_reports_mismatches(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """--flagkit-code adds a test that fails on a declared flag the file lacks, and on an
    undeclared one; it passes once declarations and file agree."""
    project.mkpydir("app")
    declarations = project.path / "app" / "flags.py"
    declarations.write_text(
        "from flagkit import Flag\n"
        "NEW_CHECKOUT = Flag('new-checkout', default=False)\n"
        "TYPO = Flag('pricing-tset', default='control')\n"
    )
    project.makepyfile(test_app="def test_nothing():\n    pass\n")
    result = run_pytest("--flagkit-code=app", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*flagkit-declared-flags*FAILED*",
            "*flags.py:3: declared flag 'pricing-tset' is not in the flag file",
            "*flag 'theme' is in the flag file but no Flag declares it",
        ]
    )
    declarations.write_text(
        "from flagkit import Flag\n"
        + "".join(
            f"F{i} = Flag({key!r}, default=False)\n"
            for i, key in enumerate(["new-checkout", "pricing-test", "theme", "old-release"])
        )
    )
    project.makeini("[pytest]\nflagkit_file = flags.yaml\nflagkit_code = app\n")
    run_pytest("-v").assert_outcomes(passed=2)


def test_overriding_flagkit_client_keeps_flagkit_recorder_working(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """An application's own client plugged in as ``flagkit_client``: the recorder records it."""
    project.makeconftest(
        """
        import flagkit
        import pytest

        APP = flagkit.Client.from_file("flags.yaml", name="app")

        @pytest.fixture
        def flagkit_client():
            return APP
        """
    )
    project.makepyfile(
        """
        def test_app(flagkit_client, flagkit_recorder):
            flagkit_client.get_str("theme", "", {"targetingKey": "u"})
            flagkit_recorder.assert_evaluated("theme", times=1, variant="fresh")
            assert ["app"] == [e.client for e in flagkit_recorder.evaluations()]
        """
    )
    run_pytest().assert_outcomes(passed=1)


def test_the_report_covers_every_client_the_test_touches(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """Clients alive before the test and made during it are in the report, each named."""
    project.makepyfile(
        """
        import flagkit
        import pytest

        BEFORE = flagkit.Client.from_file("flags.yaml", name="made-at-import")

        @pytest.mark.flags({"theme": "classic"})
        def test_fails(flagkit_client):
            BEFORE.get_str("theme", "", {"targetingKey": "u1"})
            during = flagkit.Client.from_file("flags.yaml", name="made-in-test")
            during.get_bool("new-checkout", True, {"targetingKey": "u2"})
            flagkit_client.get_str("pricing-test", "", {"targetingKey": "u3"})
            assert False
        """
    )
    result = run_pytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- flagkit -*",
            "forced flags: theme='classic'",
            "made-at-import evaluations (thread MainThread):",
            "  theme -> variant 'classic'*OVERRIDE*",
            "made-in-test evaluations (thread MainThread):",
            "  new-checkout -> variant 'off'*",
            "flagkit_client[[]test_fails[]] evaluations (thread MainThread):",
            "  pricing-test -> *",
        ]
    )


def test_a_forced_flag_missing_on_another_thread_gets_a_hint(
    project: pytest.Pytester, run_pytest: RunPytest
) -> None:
    """A live server's thread does not see marker overrides: the report says why and what to use."""
    project.makepyfile(
        """
        import threading

        import flagkit
        import pytest

        APP = flagkit.Client.from_file("flags.yaml", name="app")

        @pytest.mark.flags({"new-checkout": True})
        def test_live_server():
            seen = []
            server = threading.Thread(
                target=lambda: seen.append(APP.get_bool("new-checkout", False)),
                name="live-server",
            )
            server.start()
            server.join()
            assert seen == [True]
        """
    )
    result = run_pytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*note: 'new-checkout' was forced for this test but evaluated without the override "
            "on thread 'live-server'*flagkit_client fixture*client.override*",
        ]
    )
