"""The VM API stub server with chosen users made slow: their GETs answer only after a delay, like a
VM under load; and, with a `claim_gate`, claims answered only once a test opens the gate. Everything
else is the real stub (`adapters.vm_api.stub_server`)."""

from __future__ import annotations

import threading
import time

from adapters.vm_api.stub_server import VMStubServer, _Handler

# A claim held by a gate nobody opens answers after this long anyway: a test never hangs on it.
CLAIM_GATE_MAX_S = 10.0


class SlowVMStub(VMStubServer):
    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        *,
        slow_users: dict[str, float] | None = None,
        claim_gate: threading.Event | None = None,
        **kwargs,
    ):
        super().__init__(host, port, token, **kwargs)
        self.slow_users = dict(slow_users or {})
        self.claim_gate = claim_gate
        self.RequestHandlerClass = _SlowHandler

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up waiting closes the socket under a slow answer: expected here


class _SlowHandler(_Handler):
    server: SlowVMStub

    def do_GET(self) -> None:
        delay = next((s for user, s in self.server.slow_users.items() if f"/users/{user}/" in self.path), 0.0)
        if delay:
            time.sleep(delay)
        super().do_GET()

    def do_POST(self) -> None:
        gate = self.server.claim_gate
        if gate is not None and self.path.endswith("/idempotency/claim"):
            gate.wait(CLAIM_GATE_MAX_S)
        super().do_POST()
