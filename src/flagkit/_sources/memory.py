"""Flags defined in code: a dict (or a Snapshot) as a source."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flagkit._core.snapshot import Snapshot
from flagkit._errors import DefinitionError
from flagkit._sources.base import Source
from flagkit._sources.pipeline import (
    check_document_format,
    check_flagd_hashing,
    snapshot_from_data,
)
from flagkit._types import Clock, DocumentFormat, FlagdHashing

__all__ = ["MemorySource"]


class MemorySource(Source):
    """Serve flags from a document held in memory; ``update`` replaces it."""

    kind = "memory"

    def __init__(
        self,
        document: Mapping[str, Any] | Snapshot | None = None,
        *,
        format: DocumentFormat = "native",
        clock: Clock | None = None,
        flagd_hashing: FlagdHashing = "v2",
    ) -> None:
        super().__init__("<memory>")
        self._eval_clock = clock
        self.format = check_document_format(format)
        self.flagd_hashing = check_flagd_hashing(flagd_hashing)
        if document is not None:
            self.update(document)

    def update(self, document: Mapping[str, Any] | Snapshot) -> Snapshot:
        """Validate, compile and publish a new document.

        An invalid document raises DefinitionError, is reported to the
        client, and leaves the live flags as they were.
        """
        if isinstance(document, Snapshot):
            snapshot = document
        else:
            try:
                snapshot = snapshot_from_data(
                    document,
                    format=self.format,
                    clock=self._eval_clock or time.time,
                    flagd_hashing=self.flagd_hashing,
                )
            except DefinitionError as exc:
                self.reject(exc, log=False)  # raised to the caller, who sees it
                raise
        self.accept(snapshot, "memory")
        return snapshot
