"""The embedded VM Internal API as a real HTTP server on 127.0.0.1 (`reppy-worker vm-stub`).

It serves the seed's four endpoints under a path prefix (default `/internal`), checks the Bearer
token, and keeps one idempotency store for all its clients. Standard library only, so tests and
newcomers can start it anywhere.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.vm_api.demo import DemoStore

log = logging.getLogger("reppy.vm_stub")


class VMStubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, token: str, *, prefix: str = "/internal",
                 store: DemoStore | None = None):
        self.token = token
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.store = store or DemoStore()
        self.calls: list[tuple[str, str]] = []  # (method, path) in arrival order, for tests
        super().__init__((host, port), _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="vm-stub", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: VMStubServer
    protocol_version = "HTTP/1.1"

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
        parts = url.path[len(self.server.prefix) + 1:].split("/")
        store = self.server.store
        if method == "POST" and parts == ["idempotency", "claim"]:
            request_id = body.get("requestId") if isinstance(body, dict) else None
            if not isinstance(request_id, str) or not request_id:
                return self._send(400, {"error": "requestId required"})
            return self._send(200, {"claimed": store.claim(request_id)})
        if method == "GET" and len(parts) == 3 and parts[0] == "users":
            user_id = unquote(parts[1])
            if parts[2] == "profile":
                profile = store.profile(user_id)
                return self._send(200, profile) if profile else self._send(404, {"error": "no profile"})
            if parts[2] == "active-routines":
                return self._send(200, {"routines": store.active_routines(user_id)})
        if method == "GET" and parts == ["exercises", "search"]:
            query = parse_qs(url.query).get("q", [""])[0]
            return self._send(200, {"items": store.search(query)})
        return self._send(404, {"error": "not found"})

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
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
