"""A Qdrant REST stand-in on 127.0.0.1 for the QDRANT_URL path (no Qdrant server is installable here).

It speaks Qdrant's REST wire format for the endpoints the real qdrant-client calls on the adapter's
behalf, and hands every request to qdrant-client's own local engine: requests and answers are
parsed with qdrant-client's REST models, so the wire is real, and filtering and scoring are
Qdrant's own semantics rather than a re-implementation. It also checks the `api-key` header, keeps
payload indexes (the local engine ignores them) and records every request for the tests.

Tests can make it misbehave (`inject` for the next requests, `fail_always` for all of them): answer
an error status, or stall before answering — a Qdrant that is down, overloaded or slow.
"""

from __future__ import annotations

import hmac
import importlib.metadata
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import TypeAdapter, ValidationError
from qdrant_client import QdrantClient, models


@dataclass(frozen=True)
class QdrantFault:
    """One misbehaviour: wait `stall_s`, then answer `status` (None: answer normally)."""

    status: int | None = 500
    stall_s: float = 0.0


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any
    api_key: str | None


class QdrantStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0):
        self.api_key = api_key
        self.engine = QdrantClient(location=":memory:")
        self.engine_lock = threading.Lock()  # the local engine takes one call at a time
        self.stopping = threading.Event()
        self.indexes: dict[str, dict[str, Any]] = {}  # collection -> field -> schema
        self.calls: list[Call] = []
        self.faults_served = 0
        self._faults: list[QdrantFault] = []
        self._always: QdrantFault | None = None
        self._faults_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def inject(self, *faults: QdrantFault) -> None:
        """Misbehave on the next requests, one fault each, in order."""
        with self._faults_lock:
            self._faults.extend(faults)

    def fail_always(self, fault: QdrantFault | None) -> None:
        """Misbehave on every request (None: back to normal)."""
        with self._faults_lock:
            self._always = fault

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()
            self._always = None

    def _next_fault(self) -> QdrantFault | None:
        with self._faults_lock:
            fault = self._faults.pop(0) if self._faults else self._always
            if fault is not None:
                self.faults_served += 1
            return fault

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    def stop(self) -> None:
        """Stop serving, then close the engine. Handler threads of open (keep-alive or stalled)
        connections may still be running: they answer 503 from now on instead of calling the
        closed engine, and a stall ends at once."""
        self.stopping.set()
        self.shutdown()
        self.server_close()
        with self.engine_lock:
            self.engine.close()


@contextmanager
def running_qdrant(**options) -> Iterator[QdrantStandIn]:
    server = QdrantStandIn(**options)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="qdrant-standin", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.stop()


class _NotFound(Exception):
    pass


_points_insert = TypeAdapter(models.PointInsertOperations)
_points_selector = TypeAdapter(models.PointsSelector)


def _selected(update: models.SetPayload) -> Any:
    """A set-payload request names its points by ids or by a filter (Qdrant takes either)."""
    if update.points is not None:
        return update.points
    if update.filter is not None:
        return update.filter
    raise ValueError("either points or filter is required")


class _Handler(BaseHTTPRequestHandler):
    server: QdrantStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args) -> None:  # quiet: pytest shows failures, not traffic
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        started = time.perf_counter()
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._error(400, "Format error in JSON body", started)
        given_key = self.headers.get("api-key")
        self.server.calls.append(Call(method, path, body, given_key))
        if self.server.api_key is not None and not hmac.compare_digest(
            (given_key or "").encode(), self.server.api_key.encode()
        ):
            return self._error(401, "Must provide an API key or an Authorization bearer token", started)
        fault = self.server._next_fault()
        if fault is not None:
            if fault.stall_s:
                self.server.stopping.wait(fault.stall_s)
            if fault.status is not None:
                return self._error(fault.status, f"scripted {fault.status}", started)
        if method == "GET" and path.strip("/") == "":
            return self._send(200, _root_info())  # the one answer Qdrant does not wrap in "result"
        try:
            with self.server.engine_lock:
                if self.server.stopping.is_set():
                    return self._error(503, "stand-in stopped", started)
                result = self._route(method, [unquote(p) for p in path.strip("/").split("/") if p], body)
        except _NotFound as exc:
            return self._error(404, str(exc), started)
        except (ValidationError, ValueError) as exc:
            status = 404 if "not found" in str(exc).lower() else 400
            return self._error(status, f"Wrong input: {exc}", started)
        self._send(200, {"result": _jsonable(result), "status": "ok", "time": time.perf_counter() - started})

    def _route(self, method: str, parts: list[str], body: Any) -> Any:
        engine, server = self.server.engine, self.server
        if len(parts) < 2 or parts[0] != "collections":
            raise _NotFound("Not found")
        name, rest = parts[1], parts[2:]
        if method == "GET" and rest == ["exists"]:
            return {"exists": engine.collection_exists(name)}
        if not rest and method == "PUT":
            spec = models.CreateCollection.model_validate(body or {})
            return engine.create_collection(
                name, vectors_config=spec.vectors, sparse_vectors_config=spec.sparse_vectors, metadata=spec.metadata
            )
        if not engine.collection_exists(name):
            raise _NotFound(f"Not found: Collection `{name}` doesn't exist!")
        if not rest and method == "GET":
            info = engine.get_collection(name)
            schema = {
                field: models.PayloadIndexInfo(data_type=_data_type(spec), points=info.points_count or 0)
                for field, spec in server.indexes.get(name, {}).items()
            }
            return info.model_copy(update={"payload_schema": schema})
        if not rest and method == "PATCH":
            update = models.UpdateCollection.model_validate(body or {})
            return engine.update_collection(name, metadata=update.metadata)
        if not rest and method == "DELETE":
            server.indexes.pop(name, None)
            return engine.delete_collection(name)
        if rest == ["index"] and method == "PUT":
            index = models.CreateFieldIndex.model_validate(body)
            server.indexes.setdefault(name, {})[index.field_name] = index.field_schema
            return models.UpdateResult(operation_id=0, status=models.UpdateStatus.COMPLETED)
        if rest == ["points"] and method == "PUT":
            operation = _points_insert.validate_python(body)
            points = operation.points if isinstance(operation, models.PointsList) else operation.batch
            return engine.upsert(name, points=points)
        if rest == ["points", "payload"] and method == "POST":
            update = models.SetPayload.model_validate(body or {})
            return engine.set_payload(name, payload=update.payload, points=_selected(update), key=update.key)
        if rest == ["points", "delete"] and method == "POST":
            return engine.delete(name, points_selector=_points_selector.validate_python(body))
        if rest == ["points", "query"] and method == "POST":
            query = models.QueryRequest.model_validate(body or {})
            return engine.query_points(
                name,
                query=query.query,
                using=query.using,
                prefetch=query.prefetch,
                query_filter=query.filter,
                search_params=query.params,
                limit=query.limit or 10,
                offset=query.offset,
                with_payload=query.with_payload or False,
                with_vectors=query.with_vector or False,
                score_threshold=query.score_threshold,
            )
        if rest == ["points", "count"] and method == "POST":
            count = models.CountRequest.model_validate(body or {})
            return engine.count(name, count_filter=count.filter, exact=count.exact is not False)
        if rest == ["points", "scroll"] and method == "POST":
            scroll = models.ScrollRequest.model_validate(body or {})
            points, next_offset = engine.scroll(
                name,
                scroll_filter=scroll.filter,
                limit=scroll.limit or 10,
                offset=scroll.offset,
                with_payload=scroll.with_payload if scroll.with_payload is not None else True,
                with_vectors=scroll.with_vector or False,
            )
            return {"points": points, "next_page_offset": next_offset}
        raise _NotFound(f"Not found: {method} /{'/'.join(parts)}")

    def _error(self, status: int, message: str, started: float) -> None:
        self._send(status, {"status": {"error": message}, "time": time.perf_counter() - started})

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stalled answer after its timeout)


def _root_info() -> dict[str, str]:
    # The engine is qdrant-client's own, so it answers as the server version the client expects.
    return {
        "title": "qdrant - vector search engine (test stand-in)",
        "version": importlib.metadata.version("qdrant-client"),
    }


def _data_type(schema: Any) -> models.PayloadSchemaType:
    kind = getattr(schema, "type", schema)
    return models.PayloadSchemaType(getattr(kind, "value", kind))


def _jsonable(value: Any) -> Any:
    return TypeAdapter(Any).dump_python(value, mode="json")
