"""Declared flags: ``flagkit.Flag(key, default=...)`` bound to a client or the default client."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator

import pytest

import flagkit
from flagkit import ErrorCode, Reason

BOOL = {"on": True, "off": False}
DOCUMENT = {
    "flags": {
        "checkout-canary": {"variants": BOOL, "default": "on"},
        "limit": {"variants": {"low": 10, "high": 100}, "default": "high"},
        "ratio": {"variants": {"a": 1, "b": 2}, "default": "b"},
        "theme": {"variants": {"fresh": {"primary": "#0a7"}}, "default": "fresh"},
        "api-backend": {
            "variants": {"blue": "blue", "green": "green", "red": "red"},
            "default": "green",
        },
    }
}


class Backend(enum.StrEnum):
    BLUE = "blue"
    GREEN = "green"


@pytest.fixture
def client() -> Iterator[flagkit.Client]:
    """Return a client over the document, and forget any default client afterwards."""
    with flagkit.Client.from_dict(DOCUMENT) as made:
        yield made
    flagkit.set_default_client(None)


def test_a_bound_flag_reads_its_client_with_the_getter_of_its_type(client: flagkit.Client) -> None:
    """bool, int, float (from an int flag), dict, and a str enum, each typed by the default."""
    assert True is flagkit.Flag("checkout-canary", default=False, client=client).get()
    assert 100 == flagkit.Flag("limit", default=1, client=client).get()
    ratio = flagkit.Flag("ratio", default=0.5).bind(client).get()
    assert (2.0, float) == (ratio, type(ratio))
    assert {"primary": "#0a7"} == flagkit.Flag("theme", default={}, client=client).get()
    backend = flagkit.Flag("api-backend", default=Backend.BLUE, client=client)
    assert Backend.GREEN is backend.get()
    details = backend.details({"targetingKey": "u"})
    assert (Backend.GREEN, "green", Reason.STATIC) == (
        details.value,
        details.variant,
        details.reason,
    )


def test_an_unbound_flag_uses_the_default_client(client: flagkit.Client) -> None:
    """``set_default_client`` serves every flag that is not bound."""
    canary = flagkit.Flag("checkout-canary", default=False)
    flagkit.set_default_client(client)
    assert client is flagkit.default_client()
    assert True is canary.get()
    assert Reason.STATIC == canary.details().reason


def test_without_any_client_the_default_serves_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No client: the declared default, reason ERROR (PROVIDER_NOT_READY), one WARNING."""
    caplog.set_level(logging.WARNING)
    flagkit.set_default_client(None)
    orphan = flagkit.Flag("orphan-flag", default=True)
    assert True is orphan.get()
    details = orphan.details()
    assert (True, Reason.ERROR, ErrorCode.PROVIDER_NOT_READY) == (
        details.value,
        details.reason,
        details.error_code,
    )
    assert "set_default_client" in (details.error_message or "")
    assert 1 == sum("orphan-flag" in r.getMessage() for r in caplog.records)


def test_an_enum_never_sees_a_value_it_does_not_declare(
    client: flagkit.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A served value outside the enum gives the default, TYPE_MISMATCH in details and the log."""
    caplog.set_level(logging.WARNING)
    backend = flagkit.Flag("api-backend", default=Backend.BLUE, client=client)
    context = {"targetingKey": "u"}
    with client.override({"api-backend": "red"}):
        assert Backend.BLUE is backend.get(context)
        details = backend.details(context)
    assert (Backend.BLUE, Reason.ERROR, ErrorCode.TYPE_MISMATCH) == (
        details.value,
        details.reason,
        details.error_code,
    )
    assert any("'red' is not a value of Backend" in r.getMessage() for r in caplog.records)


def test_errors_keep_the_declared_default_in_details(client: flagkit.Client) -> None:
    """A missing flag's details carry the declared default (an enum member, not its string)."""
    details = flagkit.Flag("no-such", default=Backend.BLUE, client=client).details()
    assert (Backend.BLUE, ErrorCode.FLAG_NOT_FOUND) == (details.value, details.error_code)


def test_a_default_of_an_unsupported_type_is_refused_at_declaration() -> None:
    """A list is no flag type: refused when declared, not at the first evaluation."""
    with pytest.raises(TypeError, match="bool, str, int, float, dict or str enum"):
        flagkit.Flag("bad", default=[1, 2])
