"""The embedded VM Internal API as a real HTTP server on 127.0.0.1 (`reppy-worker vm-stub`).

It serves the VM Internal API's four endpoints under a path prefix (default `/internal`), checks the Bearer
token, and keeps one idempotency store for all its clients. Standard library only, so tests and
newcomers can start it anywhere.

Tests script faults per endpoint (`inject`): an error status, a stall, a broken or odd body, or a
dropped connection after the request was applied — the lost answer a client cannot tell apart
from a request that never arrived. `latency_s` delays every answer, as a real VM API a network hop
away would (the benchmark uses 30 ms).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.vm_api.demo import DemoStore

log = logging.getLogger("reppy.vm_stub")

Endpoint = Literal["claim", "profile", "active-routines", "search"]


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, used by the next call of its endpoint.

    status   answer `status` (nothing is applied)
    stall    wait `seconds`, then apply and answer normally (if the client still listens)
    bad_json answer 200 with a body that is not JSON
    body     answer 200 with `body` instead of the real answer
    drop     apply the request, then close the connection without answering
    """

    kind: Literal["status", "stall", "bad_json", "body", "drop"]
    status: int = 500
    seconds: float = 0.0
    body: Any = None


class VMStubServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once must not be refused

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        *,
        prefix: str = "/internal",
        store: DemoStore | None = None,
        listen: bool = True,
        latency_s: float = 0.0,
    ):
        self.token = token
        self.latency_s = latency_s
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.store = store or DemoStore()
        self.calls: list[tuple[str, str]] = []  # (method, raw path) in arrival order, for tests
        self.searches: list[str] = []  # decoded `q` of each catalog search, for tests
        self.claims: list[tuple[str, bool]] = []  # (requestId, claimed) of each claim applied, for tests
        self._faults: dict[str, deque[Fault]] = {}
        self.faults_served = 0  # scripted faults used so far, for tests
        self._faults_lock = threading.Lock()
        # listen=False binds the port without accepting: connections are refused until listen().
        super().__init__((host, port), _Handler, bind_and_activate=False)
        self.server_bind()
        if listen:
            self.server_activate()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def listen(self) -> None:
        self.server_activate()

    def inject(self, endpoint: Endpoint, *faults: Fault) -> None:
        """Queue faults for the next calls of `endpoint`, one fault per call, in order."""
        with self._faults_lock:
            self._faults.setdefault(endpoint, deque()).extend(faults)

    def next_fault(self, endpoint: str) -> Fault | None:
        with self._faults_lock:
            queue = self._faults.get(endpoint)
            fault = queue.popleft() if queue else None
            if fault is not None:
                self.faults_served += 1
            return fault

    def clear_faults(self) -> None:
        """Forget every fault not used yet."""
        with self._faults_lock:
            self._faults.clear()

    def start_in_thread(self) -> threading.Thread:
        # A short poll interval keeps stop() quick (shutdown waits for the next poll).
        self._serving = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="vm-stub", daemon=True
        )
        self._serving.start()
        return self._serving

    def stop(self) -> None:
        if getattr(self, "_serving", None) is not None:
            self.shutdown()  # waits for serve_forever, which must have started
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: VMStubServer
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: with Nagle's algorithm the body could wait for the
    # client's delayed ACK (~40 ms), a delay that is the stub's, not the VM API's.
    disable_nagle_algorithm = True

    def log_message(self, fmt: str, *args) -> None:
        log.debug("vm-stub " + fmt, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.server.calls.append((method, url.path))
        body = self._read_body()
        if not self._authorized():
            return self._send(401, {"error": "unauthorized"})
        if not url.path.startswith(self.server.prefix + "/"):
            return self._send(404, {"error": "not found"})
        # Split on the raw path: an encoded "/" inside userId stays inside its segment.
        parts = url.path[len(self.server.prefix) + 1 :].split("/")
        route = _route(method, parts)
        if route is None:
            return self._send(404, {"error": "not found"})
        endpoint, answer = route
        if self.server.latency_s > 0:
            time.sleep(self.server.latency_s)
        fault = self.server.next_fault(endpoint)
        if fault is not None and fault.kind == "status":
            return self._send(fault.status, {"error": f"scripted {fault.status}"})
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.seconds)
        status, payload = answer(self.server, parts, url.query, body)
        if fault is None or fault.kind == "stall":
            return self._send(status, payload)
        if fault.kind == "drop":
            self.close_connection = True  # applied above, answer lost
            return None
        if fault.kind == "bad_json":
            return self._send_raw(200, b'{"routines": [{"routine_name": ')
        return self._send(200, fault.body)

    def _authorized(self) -> bool:
        expected = f"Bearer {self.server.token}".encode()
        given = self.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, expected)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            return None

    def _send(self, status: int, payload) -> None:
        self._send_raw(status, json.dumps(payload, ensure_ascii=False).encode())

    def _send_raw(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stalled answer after its timeout)


def _route(method: str, parts: list[str]):
    if method == "POST" and parts == ["idempotency", "claim"]:
        return "claim", _claim
    if method == "GET" and len(parts) == 3 and parts[0] == "users":
        if parts[2] == "profile":
            return "profile", _profile
        if parts[2] == "active-routines":
            return "active-routines", _routines
    if method == "GET" and parts == ["exercises", "search"]:
        return "search", _search
    return None


# Endpoint handlers: (server, path segments, raw query, JSON body) -> (status, payload).


def _claim(server: VMStubServer, parts, query, body):
    request_id = body.get("requestId") if isinstance(body, dict) else None
    if not isinstance(request_id, str) or not request_id:
        return 400, {"error": "requestId required"}
    claimed = server.store.claim(request_id)
    server.claims.append((request_id, claimed))
    return 200, {"claimed": claimed}


def _profile(server: VMStubServer, parts, query, body):
    profile = server.store.profile(unquote(parts[1]))
    return (200, profile) if profile else (404, {"error": "no profile"})


def _routines(server: VMStubServer, parts, query, body):
    return 200, {"routines": server.store.active_routines(unquote(parts[1]))}


def _search(server: VMStubServer, parts, query, body):
    q = parse_qs(query).get("q", [""])[0]
    server.searches.append(q)
    return 200, {"items": server.store.search(q)}
