"""The real fdk server: `fdk func.py handler` as a subprocess serving http-stream on a unix socket,
called the way the Fn platform calls it (POST /call with Fn-Call-Id and Fn-Deadline), publishing
through the real `oci` clients to the local OCI stand-in, with the VM API stub over HTTP.

One server for the module (it stays warm, as a function instance does): request ids are unique
per test."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid

import httpx
import pytest

from standins.oci import OciStandIn
from standins.oci_identity import OciTestIdentity
from standins.slow_vm import SlowVMStub
from tests.conftest import request
from tests.oci_fixtures import oci_environment
from tests.processes import running_function

pytestmark = pytest.mark.integration

VM_TOKEN = "fn-test-vm-token"
SLOW_USER = "user-slow"
RESERVE_S = 2.0
CHAT = "오늘 운동 뭐 해야 돼?"
IDENTITY = OciTestIdentity.generate()  # the key the function signs with and the stand-in verifies


@pytest.fixture(scope="module")
def standin():
    server = OciStandIn(IDENTITY.public_key).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def vm_stub():
    server = SlowVMStub("127.0.0.1", 0, VM_TOKEN, slow_users={SLOW_USER: 8.0})
    server.start_in_thread()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fn_server(standin, vm_stub, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fn")
    with (
        running_function(
            workdir,
            VM_INTERNAL_BASE_URL=vm_stub.base_url,
            VM_INTERNAL_TOKEN=VM_TOKEN,
            **oci_environment(IDENTITY.write_config(workdir), standin.endpoint),
            OCI_PUBLISH_RETRY_S="1",
            DEADLINE_RESERVE_S=str(RESERVE_S),
        ) as function,
        httpx.Client(transport=httpx.HTTPTransport(uds=str(function.socket)), timeout=120) as client,
    ):
        yield FnCaller(client, function.log)


class FnCaller:
    def __init__(self, client: httpx.Client, log_path):
        self.client = client
        self.log_path = log_path

    def call(self, body, *, deadline_s: float = 90.0) -> tuple[httpx.Response, float]:
        """POST /call as Fn does; returns the response and the deadline (epoch seconds)."""
        deadline = time.time() + deadline_s
        headers = {
            "Fn-Call-Id": uuid.uuid4().hex,
            "Content-Type": "application/json",
            "Fn-Deadline": dt.datetime.fromtimestamp(deadline, dt.UTC).isoformat(),
        }
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.client.post("http://function/call", content=content, headers=headers), deadline


def results_for(standin, request_id):
    return [e for e in standin.queue_events() if e["requestId"] == request_id]


def test_request_streams_tokens_in_order_and_publishes_one_result(fn_server, standin):
    response, _ = fn_server.call(request(CHAT, request_id="req-fdk-1"))
    assert response.status_code == 200, fn_server.log_path.read_text()[-3000:]
    assert response.headers["content-type"] == "application/json"
    [outcome] = response.json()["outcomes"]
    [result] = results_for(standin, "req-fdk-1")
    assert outcome["status"] == result["status"] == "SUCCEEDED"
    messages = [m for m in standin.stream if m.key == "req-fdk-1"]  # key = requestId
    assert [m.event()["seq"] for m in messages] == list(range(1, len(messages) + 1)) and len(messages) >= 2
    assert [m.offset for m in messages] == sorted(m.offset for m in messages)  # stored in seq order
    assert "".join(m.event()["delta"] for m in messages) == result["final"]["reply"]
    assert outcome["tokens"] == len(messages) == result["meta"]["tokens_streamed"]
    assert "Push Day A" in result["final"]["reply"]


@pytest.mark.reliability
def test_duplicate_request_id_produces_neither_tokens_nor_a_result(fn_server, standin):
    first, _ = fn_server.call(request(CHAT, request_id="req-fdk-dup"))
    assert first.json()["outcomes"][0]["status"] == "SUCCEEDED"
    stream_before, queue_before = len(standin.stream), len(standin.queue)
    again, _ = fn_server.call(request(CHAT, request_id="req-fdk-dup"))
    assert again.status_code == 200 and again.json()["outcomes"][0]["status"] == "SKIPPED"
    assert (len(standin.stream), len(standin.queue)) == (stream_before, queue_before)
    assert len(results_for(standin, "req-fdk-dup")) == 1


def test_batch_of_three_gives_three_results(fn_server, standin):
    chat = request(CHAT, request_id="req-fdk-b1")
    routine = request("새 4주 근비대 프로그램 만들어줘", request_id="req-fdk-b2")
    vague = request("음…", request_id="req-fdk-b3")
    batch = [
        chat,
        {"id": 1, "content": json.dumps(routine, ensure_ascii=False)},
        {"id": 2, "content": base64.b64encode(json.dumps(vague).encode()).decode()},
    ]
    response, _ = fn_server.call(batch)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["unpublished"] == 0
    assert [(o["requestId"], o["status"]) for o in body["outcomes"]] == [
        ("req-fdk-b1", "SUCCEEDED"),
        ("req-fdk-b2", "SUCCEEDED"),
        ("req-fdk-b3", "CLARIFY"),
    ]
    for request_id in ("req-fdk-b1", "req-fdk-b2", "req-fdk-b3"):
        assert len(results_for(standin, request_id)) == 1
    assert "program" in results_for(standin, "req-fdk-b2")[0]["final"]
    assert standin.stream_events("req-fdk-b2") == []  # structured output is not streamed


@pytest.mark.reliability
def test_short_deadline_publishes_failed_timeout_before_the_deadline(fn_server, standin):
    # The slow user's VM calls take 8 s; the call has 4 s, of which RESERVE_S are kept for publishing.
    response, deadline = fn_server.call(
        request(CHAT, request_id="req-fdk-late", user_id=SLOW_USER), deadline_s=RESERVE_S + 2.0
    )
    assert response.status_code == 200
    assert response.json()["outcomes"][0]["status"] == "FAILED"
    [message] = [m for m in standin.queue if m.event()["requestId"] == "req-fdk-late"]
    result = message.event()
    # The slow VM read is cut at the deadline; the model call after it has no time left.
    assert result["status"] == "FAILED" and result["error"]["code"] == "LLM_TIMEOUT"
    assert message.received_at < deadline  # published while the platform would still take it


@pytest.mark.reliability
def test_result_that_cannot_be_published_answers_502(fn_server, standin):
    standin.fail_always("queue", 503)
    try:
        response, _ = fn_server.call(request("음…", request_id="req-fdk-noq"))
    finally:
        standin.fail_always("queue", None)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["unpublished"] == 1
    assert body["outcomes"][0] == {
        "index": 0,
        "requestId": "req-fdk-noq",
        "status": "UNPUBLISHED",
        "error": "RESULT_NOT_PUBLISHED",
        "tokens": 0,
    }
    assert results_for(standin, "req-fdk-noq") == []
    # Redelivered once the queue is back: the warm instance publishes the result it kept.
    again, _ = fn_server.call(request("음…", request_id="req-fdk-noq"))
    assert again.status_code == 200 and again.json()["outcomes"][0]["republished"] is True
    [result] = results_for(standin, "req-fdk-noq")
    assert result["status"] == "CLARIFY"


@pytest.mark.reliability
def test_stream_outage_still_publishes_the_result_and_counts_the_loss(fn_server, standin):
    standin.fail_always("stream", 500)
    try:
        response, _ = fn_server.call(request(CHAT, request_id="req-fdk-nostream"))
    finally:
        standin.fail_always("stream", None)
    assert response.status_code == 200
    [result] = results_for(standin, "req-fdk-nostream")
    assert result["status"] == "SUCCEEDED" and standin.stream_events("req-fdk-nostream") == []
    assert result["meta"]["tokens_lost"] == result["meta"]["tokens_streamed"] >= 2
