"""The invocation deadline against slow stand-ins: every model and VM call is cut off at what is left
of it, and a request that waited for a slot and can no longer start in time is left unclaimed for
the batch's redelivery instead of ending as TIMEOUT. Deadlines of a few seconds keep these quick."""

from __future__ import annotations

import json
import time

import pytest

from adapters.vm_api.embedded import EmbeddedVMApi
from adapters.vm_api.http import HttpVMApi
from app.dependencies import build_dependencies
from app.invocation import TakenRequests, run_invocation
from app.runner import handle
from standins.slow_vm import SlowVMStub
from tests.conftest import request
from tests.emitters import CollectingEmitter
from tests.gemini_support import route

pytestmark = [pytest.mark.integration, pytest.mark.reliability]
TOKEN = "deadline-test-token"
SLOW, STALLED = "user-slow", "user-stalled"
CHAT = "오늘 운동 뭐 해야 돼?"


@pytest.fixture
def slow_vm():
    """The VM stub over HTTP: SLOW's reads take 1.2 s, STALLED's 8 s (more than any test waits)."""
    server = SlowVMStub("127.0.0.1", 0, TOKEN, slow_users={SLOW: 1.2, STALLED: 8.0})
    server.start_in_thread()
    yield server
    server.stop()


@pytest.fixture
async def http_deps(settings, llm, memory, events, slow_vm):
    # The VM client's own read timeout (5 s) is far longer than the deadlines here.
    vm = HttpVMApi(slow_vm.base_url, TOKEN, connect_timeout=1.0, read_timeout=5.0)
    # A cold process spends seconds on its first request (graph, embedding model): not under test here.
    aside = CollectingEmitter()
    warm = build_dependencies(settings, llm=llm, vm=EmbeddedVMApi(), memory=memory, tokens=aside, results=aside)
    await handle(request(CHAT, request_id="req-warm-up"), warm)
    yield build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)
    await vm.aclose()


def claimed(vm_stub) -> list[str]:
    return [request_id for request_id, won in vm_stub.claims if won]


async def test_requests_that_cannot_start_in_time_are_left_for_redelivery(http_deps, events, slow_vm):
    batch = json.dumps(
        [
            request(CHAT, request_id="req-first", user_id=SLOW),  # runs; ~1.2 s and more on VM reads
            request(CHAT, request_id="req-second"),  # waits behind it, then too little time is left
            request("음…", request_id="req-third"),
        ],
        ensure_ascii=False,
    )
    # One slot, 3.5 s in all, 0.5 s kept to publish, at least 2 s wanted to start a request.
    first = await run_invocation(
        batch.encode(), http_deps, deadline=time.monotonic() + 3.5, reserve_s=0.5, min_start_s=2.0, concurrency=1
    )
    assert first.status_code == 502  # Connector Hub must deliver the batch again
    assert [(o["requestId"], o["status"]) for o in first.outcomes] == [
        ("req-first", "SUCCEEDED"),
        ("req-second", "DEFERRED"),
        ("req-third", "DEFERRED"),
    ]
    assert first.body()["deferred"] == 2
    assert claimed(slow_vm) == ["req-first"]  # the deferred ones were never claimed
    assert [r.requestId for r in events.results] == ["req-first"]

    # The redelivery reaches another instance (nothing remembered): the claim skips the finished one.
    again = await run_invocation(
        batch.encode(), http_deps, deadline=time.monotonic() + 30, reserve_s=0.5, min_start_s=2.0, concurrency=1,
        taken=TakenRequests(),
    )  # fmt: skip
    assert again.status_code == 200
    assert [o["status"] for o in again.outcomes] == ["SKIPPED", "SUCCEEDED", "CLARIFY"]
    assert sorted(r.requestId for r in events.results) == ["req-first", "req-second", "req-third"]  # one each
    assert not any(r.error and "TIMEOUT" in r.error.code for r in events.results)


async def test_the_first_requests_of_a_batch_always_start(http_deps, events):
    # Nobody waited for a slot: a request is never deferred only because the call itself is short.
    report = await run_invocation(
        json.dumps(request("음…", request_id="req-short")).encode(),
        http_deps,
        deadline=time.monotonic() + 2.0,
        reserve_s=0.5,
        min_start_s=60.0,
    )
    assert [o["status"] for o in report.outcomes] == ["CLARIFY"]


async def test_a_vm_call_gets_only_what_is_left_of_the_deadline(http_deps, events, slow_vm):
    started = time.monotonic()
    outcome = await handle(request(CHAT, request_id="req-vm-late", user_id=STALLED), http_deps, timeout_s=1.5)
    elapsed = time.monotonic() - started
    [result] = events.results
    # The stalled VM read was cut at the deadline (its own timeout is 5 s), and the model call after
    # it had no time left: a typed, retryable failure, well before the VM would have answered.
    assert outcome.status == "FAILED" and result.error.code == "LLM_TIMEOUT" and result.error.retryable
    assert 1.0 < elapsed < 2.5


async def test_a_model_call_gets_only_what_is_left_of_the_deadline(gemini, gemini_deps, events):
    deps = gemini_deps(GEMINI_TIMEOUT_ROUTER_S=20.0)  # the router call's own timeout: 20 s
    gemini.script(route("CHAT").stalled(10.0))  # Gemini takes 10 s to answer
    started = time.monotonic()
    await handle(request(CHAT, request_id="req-llm-late"), deps, timeout_s=1.5)
    elapsed = time.monotonic() - started
    [result] = events.results
    assert result.status == "FAILED" and result.error.code == "LLM_TIMEOUT" and result.error.retryable
    assert "deadline" in result.error.message and elapsed < 2.5
