"""Request metrics as OCI Monitoring custom metrics through the real `oci` client and signer, against
the local Monitoring stand-in (standins/oci_monitoring.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import oci
import pytest

from adapters.emit.oci_clients import oci_credentials
from app.dependencies import build_dependencies
from app.metrics import MetricsBatch, datapoints, ingestion_endpoint, monitoring_client
from app.runner import handle
from app.telemetry import Telemetry
from core.settings import Settings
from standins.oci_identity import COMPARTMENT
from standins.oci_monitoring import MonitoringStandIn
from tests.conftest import request
from tests.emitters import CollectingEmitter

pytestmark = pytest.mark.integration


@pytest.fixture
def monitoring(identity):
    server = MonitoringStandIn(identity.public_key).start()
    yield server
    server.stop()


@pytest.fixture
def client(oci_config_file, monitoring):
    return monitoring_client(oci_credentials("config", config_file=str(oci_config_file)), monitoring.endpoint)


def batch(client) -> MetricsBatch:
    return MetricsBatch(client, compartment_id=COMPARTMENT, namespace="reppy_worker")


def summary(**overrides) -> dict:
    return {
        "event": "request.summary",
        "requestId": "req-m-1",
        "status": "SUCCEEDED",
        "code": None,
        "intent": "CHAT_RESPONSE",
        "latency_ms": 1234.5,
        "input_tokens": 900,
        "output_tokens": 200,
        "thinking_tokens": 50,
        "cached_input_tokens": 0,
        "cost_usd": 0.0031,
        "degraded": [],
        "tokens_lost": 0,
        "nodes": {"route_intent": {"latency_ms": 300.0}, "respond_chat": {"latency_ms": 800.0}},
        **overrides,
    }


async def test_concurrent_requests_are_posted_in_one_batch_after_the_last_one(
    client, monitoring, settings, llm, vm, memory
):
    events = CollectingEmitter()
    metrics = batch(client)
    deps = build_dependencies(
        settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events, telemetry=Telemetry(metrics=metrics)
    )
    outcomes = await asyncio.gather(
        handle(request("오늘 운동 뭐 해야 돼?", request_id="req-m-a"), deps),
        handle(request("새 4주 근비대 프로그램 만들어줘", request_id="req-m-b"), deps),
        handle(request("오늘 운동 뭐 해야 돼?", request_id="req-m-c"), deps),
    )
    assert [status for _, status, _ in monitoring.calls] == [200]  # one call, once nothing was in flight
    assert sum(monitoring.values("requests", status="SUCCEEDED")) == 3
    assert sum(monitoring.values("requests", intent="GENERATE_ROUTINE")) == 1
    assert len(monitoring.values("request_latency_ms", intent="CHAT_RESPONSE", status="SUCCEEDED")) == 2
    assert len(monitoring.values("node_latency_ms", node="route_intent")) == 3
    # The results' model calls, and the memory writes' made after them (GENERATE's remember asks the model).
    after = [o.after_usage["input_tokens"] for o in outcomes if o.after_usage]
    assert len(after) == 1 and sum(monitoring.values("input_tokens")) == sum(
        r.usage["input_tokens"] for r in events.results
    ) + sum(after)
    assert {m.namespace for m in monitoring.metrics} == {"reppy_worker"}
    assert {m.unit for m in monitoring.metrics if m.name.endswith("_ms")} == {"milliseconds"}
    assert metrics.posted == sum(len(m.values) for m in monitoring.metrics)


async def test_each_figure_of_the_summary_becomes_a_metric(client, monitoring):
    metrics = batch(client)
    metrics.add(summary(degraded=["profile", "user_memory"], tokens_lost=7))
    metrics.add(summary(status="FAILED", code="LLM_RATE_LIMITED", intent=None, nodes={}, input_tokens=0))
    await metrics.flush()
    assert monitoring.values("requests", status="FAILED", code="LLM_RATE_LIMITED", intent="NONE") == [1.0]
    assert monitoring.values("cost_usd", intent="CHAT_RESPONSE") == [0.0031]
    assert monitoring.values("thinking_tokens", intent="CHAT_RESPONSE") == [50.0]
    assert monitoring.values("input_tokens", intent="NONE") == []  # zero figures are left out
    assert sorted(m.dimensions["source"] for m in monitoring.metrics if m.name == "degraded_sources") == [
        "profile",
        "user_memory",
    ]
    assert monitoring.values("tokens_lost") == [7.0]
    assert monitoring.values("node_latency_ms", node="respond_chat") == [800.0]


async def test_more_than_fifty_streams_are_split_across_calls(client, monitoring):
    metrics = batch(client)
    for n in range(60):
        metrics.add(summary(nodes={f"node_{n}": {"latency_ms": float(n)}}))
    await metrics.flush()
    streams = [count for _, status, count in monitoring.calls if status == 200]
    assert len(streams) >= 2 and max(streams) <= 50
    assert len(monitoring.values("node_latency_ms")) == 60 and metrics.posted == sum(
        len(m.values) for m in monitoring.metrics
    )


async def test_a_failed_post_is_logged_and_dropped_without_touching_the_request(
    client, monitoring, settings, llm, vm, memory, caplog
):
    monitoring.fail_next(500, 500)  # the first attempt and its one retry
    events = CollectingEmitter()
    deps = build_dependencies(
        settings,
        llm=llm,
        vm=vm,
        memory=memory,
        tokens=events,
        results=events,
        telemetry=Telemetry(metrics=batch(client)),
    )
    with caplog.at_level(logging.WARNING, logger="reppy.metrics"):
        outcome = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-m-down"), deps)
    assert outcome.status == "SUCCEEDED" and events.results[0].status == "SUCCEEDED"
    assert [status for _, status, _ in monitoring.calls] == [500, 500]
    assert any("metrics not posted (ServiceError 500)" in r.getMessage() for r in caplog.records)
    assert monitoring.metrics == []


async def test_metrics_the_service_refuses_are_reported(client, monitoring, caplog):
    metrics = batch(client)
    metrics._pending.extend(datapoints(summary(), at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)))
    with caplog.at_level(logging.WARNING, logger="reppy.metrics"):
        await metrics.flush()
    assert any("OCI Monitoring refused" in r.getMessage() and "two hours" in r.getMessage() for r in caplog.records)
    assert metrics.posted > 0 and monitoring.metrics == []


def test_the_stand_in_refuses_what_the_service_refuses(client, monitoring):
    good = datapoints(summary())[0]
    from oci.monitoring.models import Datapoint, MetricDataDetails, PostMetricDataDetails

    def post(**overrides):
        fields = {
            "namespace": "reppy_worker",
            "compartment_id": COMPARTMENT,
            "name": good[0],
            "dimensions": dict(good[1]),
            "datapoints": [Datapoint(timestamp=good[3], value=1.0)],
            **overrides,
        }
        return client.post_metric_data(PostMetricDataDetails(metric_data=[MetricDataDetails(**fields)]))

    assert post().status == 200
    for bad in (
        {"namespace": "oci_reppy"},
        {"name": "1st"},
        {"dimensions": {}},
        {"dimensions": {"intent": ""}},
        {"compartment_id": "my-compartment"},
    ):
        with pytest.raises(oci.exceptions.ServiceError) as refused:
            post(**bad)
        assert refused.value.status == 400, bad
    with pytest.raises(oci.exceptions.ServiceError) as wrong_path:
        client.base_client.call_api(resource_path="/alarms", method="POST", body={}, response_type="object")
    assert wrong_path.value.status == 404


def test_metrics_go_to_the_regions_telemetry_ingestion_endpoint(oci_config_file):
    assert ingestion_endpoint("us-ashburn-1") == "https://telemetry-ingestion.us-ashburn-1.oraclecloud.com"
    assert ingestion_endpoint("eu-frankfurt-1") == "https://telemetry-ingestion.eu-frankfurt-1.oraclecloud.com"
    settings = Settings(
        _env_file=None,
        OCI_AUTH="config",
        OCI_CONFIG_FILE=str(oci_config_file),
        OCI_MONITORING_COMPARTMENT_ID=COMPARTMENT,
    )
    telemetry = Telemetry.from_settings(settings)
    assert telemetry.metrics is not None and telemetry.tracing is None
    assert telemetry.metrics._client.base_client.endpoint.startswith(
        "https://telemetry-ingestion.us-ashburn-1.oraclecloud.com"
    )
    assert Telemetry.from_settings(Settings(_env_file=None)).metrics is None  # off unless configured
    with pytest.raises(ValueError, match="oci_ or oracle_"):
        Settings(_env_file=None, OCI_MONITORING_NAMESPACE="oci_reppy")


class BrokenMetrics:
    def add(self, summary):
        raise RuntimeError("broken metrics")

    async def flush(self):
        raise RuntimeError("broken flush")


async def test_broken_telemetry_never_costs_a_request_its_result(settings, llm, vm, memory, caplog):
    """An error out of the runner reads as "result not published" to the invocation: telemetry
    must never raise one."""
    events = CollectingEmitter()
    deps = build_dependencies(
        settings,
        llm=llm,
        vm=vm,
        memory=memory,
        tokens=events,
        results=events,
        telemetry=Telemetry(metrics=BrokenMetrics()),
    )
    with caplog.at_level(logging.ERROR, logger="reppy.telemetry"):
        outcome = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-m-broken"), deps)
    assert outcome.status == "SUCCEEDED" and [r.status for r in events.results] == ["SUCCEEDED"]
    assert {r.getMessage() for r in caplog.records} == {"request summary failed", "telemetry flush failed"}
