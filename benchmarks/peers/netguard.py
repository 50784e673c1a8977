"""A socket guard: any network attempt in the measuring process raises and is recorded.

The benchmark promises that every SDK runs fully offline.  Instead of trusting each
SDK's configuration, the guard patches the socket entry points Python code goes
through and records which SDK (the active ``label``) tried to reach the network.
C extensions that open their own sockets (gRPC's C core) bypass it; none of the
configurations used here start a gRPC channel.
"""

from __future__ import annotations

import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NetworkAttemptError", "guard"]


class NetworkAttemptError(OSError):
    """Raised in place of a network operation while the guard is installed."""


@dataclass
class _Guard:
    label: str = "harness"
    attempts: list[dict[str, str]] = field(default_factory=list)
    installed: bool = False

    def install(self) -> None:
        """Patch connect, connect_ex, create_connection and getaddrinfo."""
        if self.installed:
            return
        self.installed = True
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex

        def blocked(operation: str) -> Callable[..., Any]:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                target = repr(args[1:] if operation.startswith("socket.") else args)[:120]
                self.attempts.append(
                    {
                        "sdk": self.label,
                        "operation": operation,
                        "target": target,
                        "stack": "".join(traceback.format_stack(limit=8)[:-1]),
                    }
                )
                raise NetworkAttemptError(f"network disabled in benchmark ({self.label})")

            return refuse

        refuse_connect = blocked("socket.connect")
        refuse_connect_ex = blocked("socket.connect_ex")

        def connect(sock: socket.socket, address: Any) -> None:
            # Unix sockets are local IPC, not network; let them through.
            if sock.family == socket.AF_UNIX:
                original_connect(sock, address)
                return
            refuse_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if sock.family == socket.AF_UNIX:
                return original_connect_ex(sock, address)
            return int(refuse_connect_ex(sock, address))

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.create_connection = blocked("create_connection")
        socket.getaddrinfo = blocked("getaddrinfo")


guard = _Guard()
