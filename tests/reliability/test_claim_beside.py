"""The claim runs beside the graph's first superstep: the router and the planner do not wait for it,
and nothing leaves the worker — no token, no result, no memory write — before it says yes.

The VM stand-in holds every claim until the test opens its gate, so what the graph did while the
claim was pending is observed in order (the model calls the stand-ins received, the events), not
timed. Against today's order (claim, then graph) each test fails: nothing runs while the claim waits."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time

import pytest

from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import Fault
from app.dependencies import build_dependencies
from app.runner import handle
from core.errors import LLMUnavailable
from standins.gemini import Reply
from standins.slow_vm import SlowVMStub
from standins.vm import TOKEN
from tests.conftest import DEMO_USER, request
from tests.gemini_support import gemini_settings, memories, plan, route
from tests.scripted_model import ScriptedModel

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

CHAT = "오늘 운동 뭐 해야 돼? 참고로 왼쪽 무릎이 아파요"
FACT = "왼쪽 무릎이 아프다"
REPLY = "오늘은 Push Day A 차례예요. 무릎에 부담 없는 동작으로 하세요."
PLAN = {"action": "GET_ACTIVE_ROUTINES", "required_context": ["active_routines"]}


@pytest.fixture
async def gated():
    """(stand-in, client): the VM stub whose claims wait for `stub.claim_gate`, and an HTTP client
    patient enough to wait for it."""
    stub = SlowVMStub("127.0.0.1", 0, TOKEN, claim_gate=threading.Event())
    stub.start_in_thread()
    api = HttpVMApi(stub.base_url, TOKEN, read_timeout=15.0)
    try:
        yield stub, api
    finally:
        stub.claim_gate.set()
        await api.aclose()
        stub.stop()


@pytest.fixture
async def worker(gated, gemini, memory, events):
    """Dependencies as in production: the real Gemini client against its stand-in, the real HTTP VM
    client against the gated stub."""
    _, api = gated
    deps = build_dependencies(gemini_settings(gemini.base_url), vm=api, memory=memory, tokens=events, results=events)
    yield deps
    await deps.llm.aclose()


def asked(gemini, *titles: str) -> bool:
    return set(titles) <= {r.schema_title for r in gemini.requests}


def answered(gemini) -> bool:
    """The answer's whole stream was sent."""
    return any(r.method == "streamGenerateContent" and r.finished for r in gemini.requests)


async def until(condition, what: str, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen while the claim was pending"
        await asyncio.sleep(0.01)


async def run_until(task: asyncio.Task, condition, what: str) -> None:
    """Wait for `condition` while the request runs; on failure, stop the request."""
    try:
        await until(condition, what)
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise


def claim_pending(stub) -> bool:
    return stub.claims == []


async def test_router_and_planner_are_asked_while_the_claim_is_pending(gated, gemini, worker, events, ledger):
    stub, _ = gated
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer(REPLY))
    task = asyncio.create_task(handle(request(CHAT, request_id="req-beside-1"), worker))
    await run_until(
        task, lambda: asked(gemini, "RouteDecision", "ChatPlan") and answered(gemini), "route, plan, answer"
    )
    # The answer is made, the claim still pending: nothing has left the worker.
    assert claim_pending(stub) and events.tokens == [] and events.results == []

    stub.claim_gate.set()
    outcome = await task
    assert stub.claims == [("req-beside-1", True)]
    assert outcome.status == "SUCCEEDED" and outcome.tokens >= 2
    [result] = events.results
    assert [t.seq for t in events.tokens] == list(range(1, len(events.tokens) + 1))
    assert "".join(t.delta for t in events.tokens) == REPLY == result.final["reply"]
    ledger.one_result_each(["req-beside-1"], events.results)


async def test_a_duplicate_refused_after_the_answer_publishes_and_writes_nothing(
    gated, gemini, worker, memory, events, ledger, caplog
):
    stub, _ = gated
    stub.store.claim("req-beside-dup")  # another instance owns it; the claim will say so, late
    noted = Reply.json({**PLAN, "memories_to_save": [FACT]}, only_for="ChatPlan")  # remember has a fact to write
    gemini.script(route("CHAT_RESPONSE"), noted, Reply.answer(REPLY), memories(FACT))
    caplog.set_level(logging.INFO, logger="reppy.runner")
    caplog.set_level(logging.DEBUG, logger="reppy.claim")
    task = asyncio.create_task(handle(request(CHAT, request_id="req-beside-dup"), worker))
    await run_until(
        task, lambda: answered(gemini) and "memory apply waits for the claim" in caplog.text, "the answer and its write"
    )
    assert claim_pending(stub)

    stub.claim_gate.set()
    outcome = await task
    ledger.duplicate()
    assert stub.claims == [("req-beside-dup", False)]
    assert outcome.status == "SKIPPED"
    assert events.tokens == [] and events.results == []
    assert await memory.export(DEMO_USER) == []
    # The wasted work is logged, counted, without the user's words.
    [skipped] = [r.getMessage() for r in caplog.records if "already claimed elsewhere" in r.getMessage()]
    assert re.search(r"\b[2-9] model call\(s\), [1-9]\d* tokens made before the claim answered", skipped)
    assert CHAT not in caplog.text and FACT not in caplog.text and REPLY not in caplog.text


async def test_a_claim_failing_after_the_answer_is_its_failed_result_without_tokens(
    gated, gemini, worker, events, ledger
):
    stub, _ = gated
    stub.inject("claim", Fault("status", status=503))  # an answer lost: the VM may have recorded it
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer(REPLY))
    task = asyncio.create_task(handle(request(CHAT, request_id="req-beside-503"), worker))
    await run_until(task, lambda: answered(gemini), "the answer")
    assert claim_pending(stub)

    stub.claim_gate.set()
    outcome = await task
    ledger.fault()
    assert outcome.status == "FAILED" and outcome.error_code == "VM_UNAVAILABLE"
    [result] = events.results
    assert (result.status, result.error.code, result.error.retryable) == ("FAILED", "VM_UNAVAILABLE", True)
    assert result.final is None and events.tokens == []
    ledger.one_result_each(["req-beside-503"], events.results)


@pytest.mark.parametrize("owned_elsewhere", [True, False], ids=["claim-says-no", "claim-says-yes"])
async def test_a_graph_failing_before_the_claim_answers_waits_for_it(
    gated, settings, memory, events, ledger, caplog, owned_elsewhere
):
    stub, api = gated
    request_id = f"req-beside-fail-{owned_elsewhere}"
    if owned_elsewhere:
        stub.store.claim(request_id)
    llm = ScriptedModel(route=[LLMUnavailable("route_intent: the model is unavailable")], plan=[PLAN])
    deps = build_dependencies(settings, llm=llm, vm=api, memory=memory, tokens=events, results=events)
    caplog.set_level(logging.WARNING, logger="reppy.runner")
    task = asyncio.create_task(handle(request(CHAT, request_id=request_id), deps))
    failed = f"request {request_id} failed: LLM_UNAVAILABLE"
    await run_until(task, lambda: any(failed in r.getMessage() for r in caplog.records), "the graph's failure")
    assert claim_pending(stub) and events.results == []

    stub.claim_gate.set()
    outcome = await task
    ledger.fault()
    if owned_elsewhere:  # never a FAILED result for a request another instance owns
        assert outcome.status == "SKIPPED" and events.results == []
    else:
        assert (outcome.status, outcome.error_code) == ("FAILED", "LLM_UNAVAILABLE")
        ledger.one_result_each([request_id], events.results)
    assert events.tokens == []
