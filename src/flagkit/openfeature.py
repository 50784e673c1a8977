"""An OpenFeature provider backed by a flagkit client (extra: ``flagkit[openfeature]``).

::

    from openfeature import api
    from flagkit.openfeature import FlagkitProvider

    api.set_provider(FlagkitProvider.from_file("flags.json", format="auto", watch=True))
    api.get_client().get_boolean_value("new-checkout", False, context)

Every OpenFeature client then evaluates through flagkit: the provider maps
OpenFeature's evaluation context (targeting key plus attributes) onto a
flagkit context, and flagkit's details (value, variant, reason, error code,
flag metadata) onto OpenFeature's. Reasons and error codes share their names
(flagkit's ``OVERRIDE`` and ``PREREQUISITE_FAILED`` pass through as strings,
which OpenFeature allows).

Events (https://openfeature.dev/specification/sections/events): the SDK
itself emits PROVIDER_READY after :meth:`FlagkitProvider.initialize`; the
provider emits PROVIDER_CONFIGURATION_CHANGED (with the changed flag keys)
from ``Client.on_change``, PROVIDER_ERROR from ``Client.on_error`` — or
PROVIDER_STALE when the client's status says its flags are stale at that
moment — and PROVIDER_READY again when a change follows an error. A document
that loads with some flags refused (``flagkit.RefusedFlagsError``) is not an
error of the provider: each refused flag resolves with PARSE_ERROR. A guard
that trips (``Client.on_guard``) changes what a flag serves, so it emits
PROVIDER_CONFIGURATION_CHANGED with that flag's key too.

Tracking (https://openfeature.dev/specification/sections/tracking, in
``openfeature-sdk`` 0.9 and later): ``client.track(name, context, details)``
reaches :meth:`FlagkitProvider.track`, which is ``Client.track`` with the
details' value and attributes.

This module is the only one that imports ``openfeature``; ``import flagkit``
never does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent, ProviderEventDetails
from openfeature.exception import ErrorCode as OpenFeatureErrorCode
from openfeature.exception import ProviderNotReadyError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType
from openfeature.flag_evaluation import Reason as OpenFeatureReason
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from flagkit._client.changes import ChangeEvent
from flagkit._client.client import Client
from flagkit._client.guards import GuardTrip
from flagkit._client.tracking import track
from flagkit._core.details import Details, ErrorCode, Reason
from flagkit._errors import RefusedFlagsError, describe
from flagkit._types import DocumentFormat

__all__ = ["FlagkitProvider"]

logger = logging.getLogger("flagkit")

_REASONS: dict[Reason, str] = {
    reason: (
        OpenFeatureReason(reason.value)
        if reason.value in OpenFeatureReason.__members__
        else reason.value
    )
    for reason in Reason
}
#: Bound of the translation cache (about one entry per flag and variant served).
_MAX_TRANSLATED = 4096
_ERROR_CODES: dict[ErrorCode, OpenFeatureErrorCode] = {
    code: OpenFeatureErrorCode(code.value) for code in ErrorCode
}


def _context_of(evaluation_context: EvaluationContext | None) -> dict[str, Any]:
    """Map OpenFeature's context onto flagkit's: attributes plus ``targetingKey``.

    Raises whatever reading the attributes raises (the caller reports it).
    """
    if evaluation_context is None:
        return {}
    attributes = evaluation_context.attributes
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes are not a mapping but a {type(attributes).__name__}")
    context = dict(attributes)
    if evaluation_context.targeting_key is not None:
        context["targetingKey"] = evaluation_context.targeting_key
    return context


class FlagkitProvider(AbstractProvider):  # type: ignore[misc, unused-ignore]
    """Serve OpenFeature evaluations from a flagkit :class:`~flagkit.Client`.

    Pass a ``client`` you own (the provider then leaves it open on
    shutdown), or build one with :meth:`from_file` / :meth:`from_dict`
    (the provider closes it on shutdown).
    """

    def __init__(self, client: Client, *, name: str = "flagkit", owns_client: bool = False) -> None:
        super().__init__()
        self.client = client
        self._name = name
        self._owns_client = owns_client
        self._unsubscribe: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._troubled = False  # an error or stale event is the latest one sent
        self._translated: dict[int, tuple[Details, FlagResolutionDetails[Any]]] = {}

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        format: DocumentFormat = "auto",
        watch: bool = False,
        **options: Any,
    ) -> FlagkitProvider:
        """Return a provider over a flag file (native or flagd; detected by default)."""
        return cls(Client.from_file(path, format=format, watch=watch, **options), owns_client=True)

    @classmethod
    def from_dict(
        cls, document: Mapping[str, Any], *, format: DocumentFormat = "auto", **options: Any
    ) -> FlagkitProvider:
        """Return a provider over a flag document held in memory (native or flagd)."""
        return cls(Client.from_dict(document, format=format, **options), owns_client=True)

    # -- lifecycle ----------------------------------------------------------

    def get_metadata(self) -> Metadata:
        """Return the provider's name."""
        return Metadata(name=self._name)

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Follow the client's changes and errors; fail when it has no flags yet."""
        with self._lock:
            if not self._unsubscribe:
                self._unsubscribe = [
                    self.client.on_change(self._changed),
                    self.client.on_error(self._failed),
                    self.client.on_guard(self._tripped),
                ]
        status = self.client.status()
        if not status.ready:
            raise ProviderNotReadyError(
                f"flagkit client has no flags yet: {status.last_error or 'not loaded'}"
            )

    def shutdown(self) -> None:
        """Stop listening to the client, and close it when the provider built it."""
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, []
        for stop in unsubscribe:
            with contextlib.suppress(ValueError):  # already removed
                stop()
        if self._owns_client:
            self.client.close()

    def _changed(self, event: ChangeEvent) -> None:
        if self._troubled:
            self._troubled = False
            self.emit_provider_ready(ProviderEventDetails(message="flags reloaded"))
        self.emit_provider_configuration_changed(
            ProviderEventDetails(flags_changed=sorted(event.changed))
        )

    def _tripped(self, trip: GuardTrip) -> None:
        self.emit_provider_configuration_changed(
            ProviderEventDetails(
                flags_changed=[trip.flag_key],
                message=f"guard tripped: {trip.action} to {trip.control!r}",
            )
        )

    def _failed(self, error: Exception) -> None:
        if isinstance(error, RefusedFlagsError):
            # The document loaded: every good flag serves, each refused flag
            # resolves PARSE_ERROR. The provider is not in error (the client
            # logs the refusal and names it in its status).
            return
        self._troubled = True
        details = ProviderEventDetails(message=str(error), error_code=OpenFeatureErrorCode.GENERAL)
        if self.client.status().stale:
            self.emit(ProviderEvent.PROVIDER_STALE, details)
        else:
            self.emit_provider_error(details)

    # -- tracking -------------------------------------------------------------

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Record a tracked event through ``Client.track``; never raises.

        A context or details that cannot be read drop the event (logged at
        DEBUG, as ``Client.track`` drops what it cannot use).
        """
        details = tracking_event_details
        try:
            context = _context_of(evaluation_context)
            value = None if details is None else details.value
            attributes = {} if details is None else dict(details.attributes)
        except Exception:  # tracking never raises (OpenFeature's rule)
            logger.debug("flagkit: track() got a context or details it cannot read", exc_info=True)
            return
        track(self.client, tracking_event_name, context, value, attributes)

    # -- evaluation ---------------------------------------------------------

    def _resolution(self, details: Details, *, reusable: bool = True) -> FlagResolutionDetails[Any]:
        # The client returns one shared Details per precomputed resolution
        # (no error, no bucket), so its translation is cached by identity: the
        # SDK only reads what a provider returns. The cache is bounded.
        key = id(details)
        cached = self._translated.get(key)
        if cached is not None and cached[0] is details:
            return cached[1]
        flag = self.client.snapshot.flags.get(details.flag_key)
        code = details.error_code
        result: FlagResolutionDetails[Any] = FlagResolutionDetails(
            value=details.value,
            error_code=None if code is None else _ERROR_CODES[code],
            error_message=details.error_message,
            reason=_REASONS[details.reason],
            variant=details.variant,
            flag_metadata=flag.metadata if flag is not None else {},
        )
        if reusable and code is None and details.bucket is None:
            if len(self._translated) >= _MAX_TRANSLATED:
                self._translated.clear()
            self._translated[key] = (details, result)
        return result

    def _resolve(
        self,
        getter: str,
        flag_key: str,
        default_value: Any,
        evaluation_context: EvaluationContext | None,
        *,
        reusable: bool = True,
    ) -> FlagResolutionDetails[Any]:
        """Evaluate through the client's details getter; never raise (OpenFeature's rule).

        A context whose attributes cannot be read is INVALID_CONTEXT; anything
        else that goes wrong is GENERAL, naming the exception, with the default.
        """
        try:
            context = _context_of(evaluation_context)
        except Exception as exc:
            return _failure(default_value, OpenFeatureErrorCode.INVALID_CONTEXT, describe(exc))
        try:
            details = getattr(self.client, getter)(flag_key, default_value, context)
            return self._resolution(details, reusable=reusable)
        except Exception as exc:  # the client never raises; translating must not either
            return _failure(default_value, OpenFeatureErrorCode.GENERAL, describe(exc))

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolve a boolean flag."""
        return self._resolve("get_bool_details", flag_key, default_value, evaluation_context)

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolve a string flag."""
        return self._resolve("get_str_details", flag_key, default_value, evaluation_context)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolve an integer flag."""
        return self._resolve("get_int_details", flag_key, default_value, evaluation_context)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolve a float flag (integer flags widen to float)."""
        # Float and object details are fresh copies on every call: not worth caching.
        return self._resolve(
            "get_float_details", flag_key, default_value, evaluation_context, reusable=False
        )

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        """Resolve an object flag."""
        return self._resolve(
            "get_object_details", flag_key, default_value, evaluation_context, reusable=False
        )


def _failure(
    default_value: Any, code: OpenFeatureErrorCode, message: str
) -> FlagResolutionDetails[Any]:
    return FlagResolutionDetails(
        value=default_value,
        error_code=code,
        error_message=message,
        reason=OpenFeatureReason.ERROR,
    )
