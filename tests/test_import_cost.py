"""``import flagkit`` stays cheap: the heavy dependencies load when first needed.

Time itself is measured in ``benchmarks/startup.py`` (this machine is too
noisy for a timed test); what is checked here is what makes it cheap.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pydantic", "pydantic_core", "httpx", "httpcore", "asyncio", "ssl", "yaml")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m for m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_import_flagkit_loads_no_heavy_dependency() -> None:
    """Neither pydantic's models, nor httpx, asyncio, ssl or PyYAML come with ``import flagkit``."""
    assert set() == set(HEAVY) & _loaded_after("import flagkit")


def test_loading_a_document_loads_pydantic_then() -> None:
    """The models load with the first document (the laziness moved the cost, not the checks)."""
    loaded = _loaded_after(
        "import flagkit\n"
        "flagkit.Client.from_dict({'flags': {'f': {'variants': {'on': True}, 'default': 'on'}}})"
    )
    assert "pydantic" in loaded
    assert "httpx" not in loaded


def test_an_http_source_loads_httpx_then() -> None:
    """httpx and ssl come with the first HTTP source."""
    loaded = _loaded_after(
        "import flagkit\n"
        "flagkit.HTTPSource('http://127.0.0.1:9/f.json', bootstrap={'flags': {}}).close()"
    )
    assert {"httpx", "ssl"} <= loaded
