"""OpenTelemetry spans for the run, each node and each model/VM/Qdrant/publishing call (app/tracing.py):
their tree and GenAI attributes (in-memory exporter), and the real OTLP/HTTP exporter against a
local receiver."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from app.dependencies import build_dependencies
from app.runner import handle
from app.telemetry import Telemetry
from app.tracing import Tracing
from core.settings import Settings
from tests.conftest import REPO, request
from tests.emitters import CollectingEmitter
from tests.test_telemetry_logs import DownVM

APM_KEY = "apm-private-data-key-7c1e9b2d"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_exporter(exporter, batch=False)
    yield tracing, exporter
    tracing.shutdown()


def tree(finished) -> list[tuple[str, str, str]]:
    """(span, its parent's name, kind), in a stable order."""
    names = {s.context.span_id: s.name for s in finished}
    return sorted((s.name, names.get(s.parent.span_id) if s.parent else "-", s.kind.name) for s in finished)


async def test_a_chat_request_is_one_trace_of_nodes_and_calls(spans, settings, llm, vm, memory, snapshot):
    tracing, exporter = spans
    events = CollectingEmitter()
    deps = build_dependencies(
        settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events, telemetry=Telemetry(tracing=tracing)
    )
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-trace-1"), deps)
    finished = exporter.get_finished_spans()
    assert len({s.context.trace_id for s in finished}) == 1
    assert tree(finished) == snapshot
    by_name = {s.name: s for s in finished}
    root = by_name["invoke_workflow reppy_worker"]
    assert root.attributes["reppy.request_id"] == "req-trace-1"
    assert root.attributes["reppy.status"] == "SUCCEEDED" and root.attributes["reppy.intent"] == "CHAT_RESPONSE"
    assert root.attributes["gen_ai.usage.input_tokens"] == events.results[0].usage["input_tokens"]
    answer = by_name["chat offline-template"]
    assert answer.attributes["gen_ai.operation.name"] == "chat"
    assert answer.attributes["gen_ai.request.model"] == "offline-template"
    assert answer.attributes["gen_ai.request.stream"] is True
    answer_usage = next(c for c in events.results[0].usage["calls"] if c["node"] == "respond_chat")
    assert answer.attributes["gen_ai.usage.input_tokens"] == answer_usage["input_tokens"]
    assert answer.attributes["gen_ai.usage.output_tokens"] == answer_usage["output_tokens"]
    assert answer.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    search = next(s for s in finished if s.name == "search user_memory")
    assert search.attributes["db.system.name"] == "qdrant" and search.attributes["db.collection.name"] == "user_memory"
    assert all(s.status.status_code != StatusCode.ERROR for s in finished)


async def test_a_failure_marks_its_call_and_the_run_with_the_error_code(spans, settings, llm, vm, memory):
    tracing, exporter = spans
    events = CollectingEmitter()
    deps = build_dependencies(
        settings,
        llm=llm,
        vm=DownVM(vm, {"claim"}),
        memory=memory,
        tokens=events,
        results=events,
        telemetry=Telemetry(tracing=tracing),
    )
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-trace-down"), deps)
    by_name = {s.name: s for s in exporter.get_finished_spans()}
    for name in ("vm claim", "invoke_workflow reppy_worker"):
        assert by_name[name].status.status_code == StatusCode.ERROR
        assert by_name[name].status.description == "VM_UNAVAILABLE"
        assert by_name[name].attributes["error.type"] == "VM_UNAVAILABLE"
    assert not any(name.startswith("node ") for name in by_name)  # the graph never ran


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: protobuf ExportTraceServiceRequest bodies on POST /v1/traces."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.authorizations: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list:
        return [s for r in self.requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.paths.append(self.path)
        self.server.authorizations.append(self.headers.get("Authorization"))
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_response(404)
            self.end_headers()
            return
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        self.server.requests.append(message)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_spans_reach_an_otlp_endpoint_once_the_request_is_done(receiver, llm, vm, memory):
    settings = Settings(
        _env_file=None,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="reppy-test",
        OTEL_EXPORTER_OTLP_HEADERS=f"Authorization=dataKey%20{APM_KEY}",  # as OCI APM wants it
    )
    events = CollectingEmitter()
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)
    assert deps.telemetry.tracing is not None
    try:
        await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-otlp-1"), deps)
        # Flushed when the last request in flight finished: no wait for the batch timer.
        assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
        assert set(receiver.authorizations) == {f"dataKey {APM_KEY}"}
        names = {s.name for s in receiver.spans()}
        assert {"invoke_workflow reppy_worker", "node route_intent", "node respond_chat", "vm claim"} <= names
        resource = receiver.requests[0].resource_spans[0].resource
        assert {a.key: a.value.string_value for a in resource.attributes}["service.name"] == "reppy-test"
        root = next(s for s in receiver.spans() if s.name == "invoke_workflow reppy_worker")
        attributes = {a.key: a.value for a in root.attributes}
        assert attributes["reppy.request_id"].string_value == "req-otlp-1"
    finally:
        await deps.aclose()


def test_tracing_is_off_and_costs_nothing_without_an_endpoint():
    """No endpoint: no exporter imported, no adapter wrapped, no span made."""
    script = """
import asyncio, sys
from tests.emitters import CollectingEmitter
from app.cli import EXAMPLE_REQUEST
from app.dependencies import build_dependencies
from app.runner import handle
from core.settings import Settings
events = CollectingEmitter()
deps = build_dependencies(Settings(_env_file=None, QDRANT_PATH=":memory:"), tokens=events, results=events)
asyncio.run(handle(EXAMPLE_REQUEST, deps))
assert events.results[0].status == "SUCCEEDED"
print(deps.telemetry.tracing, type(deps.llm).__name__, type(deps.vm).__name__,
      sorted(m for m in sys.modules if m.startswith(("app.tracing", "app.metrics", "opentelemetry.exporter"))))
"""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.decode().split() == ["None", "OfflineProvider", "EmbeddedVMApi", "[]"]


def test_the_otlp_headers_are_a_secret_kept_out_of_the_logs(monkeypatch):
    import io
    import logging

    from app.logs import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    try:
        configure_logging(Settings(_env_file=None, OTEL_EXPORTER_OTLP_HEADERS=f"Authorization=dataKey%20{APM_KEY}"))
        logging.getLogger("reppy.test").warning("exporter said: Authorization: dataKey %s", APM_KEY)
    finally:
        root.handlers[:], root.level = saved
    assert APM_KEY not in buffer.getvalue() and "***" in buffer.getvalue()
    assert APM_KEY not in repr(Settings(_env_file=None, OTEL_EXPORTER_OTLP_HEADERS=f"Authorization={APM_KEY}"))


async def test_the_memory_write_beside_the_answer_is_traced_under_remember(spans, settings, llm, vm, memory):
    """remember's own Qdrant calls (the nearest memories, the consolidated write) are spans of its node."""
    tracing, exporter = spans
    events = CollectingEmitter()
    deps = build_dependencies(
        settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events, telemetry=Telemetry(tracing=tracing)
    )
    await handle(request("I hurt my left knee last week, it still hurts when I squat.", request_id="req-trace-m"), deps)
    parents = {(name, parent) for name, parent, _ in tree(exporter.get_finished_spans())}
    assert ("search user_memory", "node remember") in parents
    assert ("update user_memory", "node remember") in parents
