"""A deployed Function never falls back to the embedded demo parts: missing production settings (or
any configuration error while it builds) answer every delivery with a FAILED CONFIG_ERROR result on
the result queue, logged once per instance by setting name, with no model, VM or memory call."""

from __future__ import annotations

import json
import logging

import pytest

import func
from standins.vm import TOKEN as VM_TOKEN
from tests.conftest import request
from tests.oci_fixtures import QUEUE_ID, STREAM_ID
from tests.test_func import invoke

pytestmark = pytest.mark.integration
CHAT = "오늘 운동 뭐 해야 돼?"


@pytest.fixture
async def fresh_instance(monkeypatch):
    """A cold instance: nothing built, no configuration error seen yet. (Its logging set-up would
    replace the root handlers pytest captures with, for every later test too: left out here.)"""
    for name in ("_deps", "_config_error", "_failure_results", "_unpublished"):
        monkeypatch.setattr(func, name, None)
    monkeypatch.setattr("app.logs.configure_logging", lambda settings: None)
    yield
    if func._deps is not None:
        await func._deps.aclose()


@pytest.fixture
def function_env(fresh_instance, standin, oci_config_file, vm_stub, monkeypatch):
    """What a deployment sets, with the stand-ins' endpoints: result queue, stream, VM API."""
    env = {
        "OCI_AUTH": "config",
        "OCI_CONFIG_FILE": str(oci_config_file),
        "OCI_RESULT_QUEUE_ID": QUEUE_ID,
        "OCI_QUEUE_ENDPOINT": standin.endpoint,
        "OCI_STREAM_ID": STREAM_ID,
        "OCI_STREAM_ENDPOINT": standin.endpoint,
        "OCI_PUBLISH_RETRY_S": "1",
        "VM_INTERNAL_BASE_URL": vm_stub.base_url,
        "VM_INTERNAL_TOKEN": VM_TOKEN,
        "QDRANT_PATH": ":memory:",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def batch() -> str:
    return json.dumps(
        [request(CHAT, request_id="req-cfg-1"), request("음…", request_id="req-cfg-2"), "%%% unreadable %%%"],
        ensure_ascii=False,
    )


async def test_missing_production_settings_fail_every_delivery_and_are_logged_once(
    function_env, standin, vm_stub, caplog
):
    # No GOOGLE_API_KEY (offline demo model) and no QDRANT_URL (local store on a read-only disk).
    with caplog.at_level(logging.INFO):
        first = await invoke(batch())
        second = await invoke(batch())  # the same instance, warm: the error is kept, not logged again
    for status, body, _ in (first, second):
        assert status == 200  # every result went out: nothing to redeliver
        assert [(o["requestId"], o["status"], o["error"]) for o in body["outcomes"]] == [
            ("req-cfg-1", "FAILED", "CONFIG_ERROR"),
            ("req-cfg-2", "FAILED", "CONFIG_ERROR"),
            (None, "FAILED", "CONFIG_ERROR"),
        ]
    results = standin.queue_events()
    assert [r["requestId"] for r in results] == ["req-cfg-1", "req-cfg-2"] * 2  # consumers dedupe by requestId
    for result in results:
        assert result["status"] == "FAILED" and result["final"] is None
        assert result["error"]["code"] == "CONFIG_ERROR" and result["error"]["retryable"] is False
        assert "GOOGLE_API_KEY" in result["error"]["message"] and "QDRANT_URL" in result["error"]["message"]
        assert "VM_INTERNAL_BASE_URL" not in result["error"]["message"]  # that one is set
    assert vm_stub.calls == []  # not even a claim
    assert standin.stream == []  # no tokens: nothing ran
    logged = [r for r in caplog.records if "cannot start the worker" in r.getMessage()]
    assert len(logged) == 1 and "GOOGLE_API_KEY" in logged[0].getMessage()
    assert VM_TOKEN not in caplog.text


async def test_a_configuration_error_raised_while_building_is_answered_the_same_way(
    function_env, standin, vm_stub, monkeypatch
):
    # Everything present, but a model setting the settings reject (thinking budget above its output cap).
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-key-never-shown")
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GEMINI_THINKING_BUDGET_ROUTER", "600")
    status, body, _ = await invoke(batch())
    assert status == 200 and body["error"]["code"] == "CONFIG_ERROR"
    [one, two] = standin.queue_events()
    assert one["error"]["code"] == two["error"]["code"] == "CONFIG_ERROR"
    assert "GEMINI_THINKING_BUDGET_ROUTER" in one["error"]["message"]
    assert "AIza-test-key-never-shown" not in json.dumps([one, two, body])
    assert vm_stub.calls == []


async def test_embedded_defaults_are_allowed_only_when_asked_for(function_env, standin, vm_stub, monkeypatch):
    monkeypatch.setenv("ALLOW_EMBEDDED_DEFAULTS", "true")
    status, body, _ = await invoke(json.dumps(request(CHAT, request_id="req-demo")))
    assert status == 200 and body["outcomes"][0]["status"] == "SUCCEEDED"
    [result] = standin.queue_events()
    assert result["status"] == "SUCCEEDED" and result["meta"]["provider"] == "offline"
    assert ("POST", "/internal/idempotency/claim") in vm_stub.calls


async def test_when_not_even_the_result_queue_works_the_batch_comes_again(fresh_instance, standin, monkeypatch):
    monkeypatch.setenv("OCI_RESULT_QUEUE_ID", QUEUE_ID)
    monkeypatch.setenv("OCI_AUTH", "config")
    monkeypatch.setenv("OCI_CONFIG_FILE", "/nonexistent/oci/config")
    status, body, _ = await invoke(json.dumps(request(CHAT, request_id="req-nowhere")))
    assert status == 502 and body["error"]["code"] == "CONFIG_ERROR" and "outcomes" not in body
    assert standin.queue == []


async def test_an_error_that_may_pass_is_not_kept_and_publishes_nothing(function_env, standin, monkeypatch):
    # The result queue's endpoint is to be looked up, and its control plane is down for now.
    monkeypatch.setenv("ALLOW_EMBEDDED_DEFAULTS", "true")
    monkeypatch.delenv("OCI_QUEUE_ENDPOINT")
    monkeypatch.setenv("OCI_QUEUE_ADMIN_ENDPOINT", standin.queue_admin_endpoint)
    standin.add_queue(QUEUE_ID)
    standin.fail_always("queue-admin", 503)
    status, body, _ = await invoke(json.dumps(request(CHAT, request_id="req-later")))
    assert status == 502 and body["error"]["retryable"] is True and standin.queue == []
    assert func._config_error is None  # the next invocation tries again
    standin.fail_always("queue-admin", None)
    status, body, _ = await invoke(json.dumps(request(CHAT, request_id="req-later")))
    assert status == 200 and [r["requestId"] for r in standin.queue_events()] == ["req-later"]
