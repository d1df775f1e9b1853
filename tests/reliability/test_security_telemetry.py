"""The operators' outputs under faults — JSON log lines (at DEBUG), summary lines, spans, OCI
Monitoring metrics and the report — carry no secret, no user text and no user id (only its keyed
hash), with Gemini, the VM API and Qdrant stand-ins using real-looking secrets."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from adapters.emit.oci_clients import oci_credentials
from adapters.memory.qdrant import QdrantMemory
from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import Fault
from app.cli import main
from app.dependencies import build_dependencies
from app.metrics import MetricsBatch, monitoring_client
from app.runner import handle
from app.telemetry import Telemetry
from app.tracing import Tracing
from core.settings import Settings
from standins.gemini import Reply
from standins.oci_identity import COMPARTMENT
from standins.oci_monitoring import MonitoringStandIn
from standins.qdrant import QdrantFault
from tests.conftest import DEMO_USER, request
from tests.emitters import CollectingEmitter
from tests.gemini_support import gemini_settings, plan, route
from tests.log_fixtures import logging_into_buffer
from tests.reliability.test_security import MARKER, QDRANT_KEY, SECRETS, VM_TOKEN, leaks, servers

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection"),
]


@pytest.fixture
def raw_json_log(monkeypatch):
    """JSON logs at DEBUG with no secret given to redact: what is written is what was logged."""
    with logging_into_buffer(monkeypatch, Settings(_env_file=None, LOG_FORMAT="json", LOG_LEVEL="DEBUG")) as buffer:
        yield buffer


async def test_logs_summaries_spans_and_metrics_hold_no_secret_user_text_or_user_id(
    raw_json_log, identity, oci_config_file, tmp_path, capsys
):
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_exporter(exporter, batch=False)
    monitoring = MonitoringStandIn(identity.public_key).start()
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    metrics = MetricsBatch(
        monitoring_client(credentials, monitoring.endpoint), compartment_id=COMPARTMENT, namespace="reppy_worker"
    )
    events = CollectingEmitter()
    said = f"I hurt my left knee {MARKER}, what should I train today?"
    try:
        with servers() as (vm_stub, gemini, qdrant):
            scenarios = [
                lambda: gemini.script(
                    route("CHAT_RESPONSE"),
                    plan(required_context=["active_routines", "user_memory"]),
                    Reply.answer(f"무릎 조심하세요 {MARKER}."),
                ),
                lambda: gemini.script(Reply.answer(f"sure! {MARKER} {{")),  # malformed router output quoting the user
                lambda: gemini.script(Reply.rate_limited(0.01), Reply.rate_limited(0.01)),
                lambda: (
                    vm_stub.inject("profile", Fault("status", status=500), Fault("drop"), Fault("drop")),
                    qdrant.fail_always(QdrantFault(status=500)),
                    gemini.script(route("GENERATE_ROUTINE"), Reply.answer(f"{MARKER}"), Reply.answer(f"{MARKER}")),
                ),
                lambda: vm_stub.inject("claim", Fault("status", status=401)),
            ]
            for n, script in enumerate(scenarios):
                script()
                config = gemini_settings(gemini.base_url, GEMINI_MAX_RETRIES=1, GEMINI_TIMEOUT_ROUTER_S=0.5)
                deps = build_dependencies(
                    config,
                    vm=HttpVMApi(vm_stub.base_url, VM_TOKEN, read_timeout=0.3, backoff_s=0.01),
                    memory=QdrantMemory(collection="user_memory", url=qdrant.url, api_key=QDRANT_KEY, timeout_s=1),
                    tokens=events,
                    results=events,
                    telemetry=Telemetry(metrics=metrics, tracing=tracing),
                )
                try:
                    await handle(request(said, request_id=f"req-tel-{n}"), deps)
                finally:
                    await deps.aclose()
                qdrant.clear_faults()
                vm_stub.clear_faults()
    finally:
        monitoring.stop()
    statuses = {r.status for r in events.results}
    assert {"SUCCEEDED", "FAILED"} <= statuses and len(events.results) == len(scenarios)
    assert monitoring.metrics, "metrics were posted"

    # The VM stand-in's own access log (a server thread of the test, not the worker) is left out.
    lines = [json.loads(line) for line in raw_json_log.getvalue().splitlines()]
    lines = [line for line in lines if line["logger"] != "reppy.vm_stub"]
    logged = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    summaries = [line for line in lines if line.get("event") == "request.summary"]
    assert len(summaries) == len(scenarios) and any(s["cost_usd"] > 0 for s in summaries)
    assert all(s["userHash"] and s["requestId"] for s in summaries)
    spans = exporter.get_finished_spans()
    assert any(s.name.startswith("chat gemini") for s in spans)
    span_text = "\n".join(
        json.dumps([s.name, dict(s.attributes), s.status.description, [e.name for e in s.events]], default=str)
        for s in spans
    )
    metric_text = repr(monitoring.metrics)
    report_file = tmp_path / "worker.log"
    report_file.write_text(logged)
    assert main(["report", str(report_file)]) == 0
    report = capsys.readouterr().out

    for name, text in (("logs", logged), ("spans", span_text), ("metrics", metric_text), ("report", report)):
        assert leaks(text) == [], name
        assert MARKER not in text, name
        assert DEMO_USER not in text, name
        assert "knee" not in text, name
    assert SECRETS  # the three secrets were checked above, each by a plain substring search
