"""``flagkit generate``: typed declarations of a flag file, safe to import, kept current."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import flagkit
from flagkit._cli.generate import render_declarations
from flagkit._sources.pipeline import snapshot_from_file
from tests.cli.conftest import RunCli
from tests.conftest import EXAMPLE, EXAMPLE_FLAGD

GENERATED = Path(__file__).resolve().parents[1] / "typing" / "generated_flags.py"


def _module(text: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "generated"}
    exec(compile(text, "generated_flags.py", "exec"), namespace)
    return namespace


def test_generate_declares_every_flag_with_enums_for_strings(cli: RunCli, tmp_path: Path) -> None:
    """One typed Flag per flag; string flags get a StrEnum of their values."""
    out = tmp_path / "flags.py"
    code, printed, _ = cli("generate", EXAMPLE, "-o", out)
    assert (0, f"wrote {out} (9 flags)\n") == (code, printed)
    module = _module(out.read_text("utf-8"))
    flags = {v.key: v for v in module.values() if isinstance(v, flagkit.Flag)}
    assert set(flagkit.Client.from_file(EXAMPLE).flag_keys()) == set(flags)
    pricing = module["PricingTest"]
    assert isinstance(pricing, type)
    assert issubclass(pricing, enum.StrEnum)
    assert ["control", "treatment-a", "treatment-b"] == [m.value for m in pricing]
    assert pricing.CONTROL is flags["pricing-test"].default  # type: ignore[attr-defined]
    assert False is flags["checkout-canary"].default
    assert {"primary": "#00aa77", "rounded": True} == flags["checkout-theme"].default
    client = flagkit.Client.from_file(EXAMPLE)
    served = flags["pricing-test"].bind(client).get({"targetingKey": "user-1"})
    assert pricing("treatment-b") is served


def test_the_type_checked_copy_is_current() -> None:
    """tests/typing/generated_flags.py (which mypy --strict checks) is what generate writes now."""
    snapshot = snapshot_from_file(EXAMPLE)
    assert GENERATED.read_text("utf-8") == render_declarations(snapshot, source="flags.yaml")


def test_generate_reads_flagd_files_and_prints_to_stdout(cli: RunCli) -> None:
    """``--format flagd`` and no ``-o``: the module on stdout."""
    code, out, _ = cli("generate", EXAMPLE_FLAGD, "--format", "flagd")
    assert 0 == code
    module = _module(out)
    assert {"new-checkout"} <= {v.key for v in module.values() if isinstance(v, flagkit.Flag)}


def test_hostile_keys_and_descriptions_cannot_inject_code(cli: RunCli, tmp_path: Path) -> None:
    """Keys, names and descriptions are literals or sanitised identifiers, never code."""
    evil = 'x"""\nimport os; os.exit(3) #'
    document = {
        "flags": {
            evil: {
                "variants": {'a"; raise SystemExit #': "v\n'\"", "class": "w"},
                "default": "class",
            },
            "1-2": {"description": "line\nimport sys", "variants": {"on": True}, "default": "on"},
            "class": {"variants": {"on": 1}, "default": "on"},
        }
    }
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(document))
    code, out, _ = cli("generate", path)
    assert 0 == code
    module = _module(out)
    keys = {v.key for v in module.values() if isinstance(v, flagkit.Flag)}
    assert {evil, "1-2", "class"} == keys
