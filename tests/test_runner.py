"""The runner end to end through the compiled graph: claim, token events, exactly one result."""

from __future__ import annotations

import asyncio

import pytest

from app.runner import handle
from tests.conftest import request, stable


def only_result(events):
    assert len(events.results) == 1, "exactly one result event per request"
    return events.results[0]


def assert_tokens_make_reply(events, reply):
    seqs = [t.seq for t in events.tokens]
    assert seqs == list(range(1, len(seqs) + 1))
    assert "".join(t.delta for t in events.tokens) == reply


async def test_chat_streams_tokens_then_one_result(deps, events):
    outcome = await handle(request("오늘 운동 뭐 해야 돼?"), deps)
    result = only_result(events)
    assert outcome.status == result.status == "SUCCEEDED"
    assert len(events.tokens) >= 2
    assert_tokens_make_reply(events, result.final["reply"])
    assert "Push Day A" in result.final["reply"]
    assert result.meta.intent == "CHAT_RESPONSE" and result.meta.action == "GET_ACTIVE_ROUTINES"
    assert 0.55 <= result.meta.confidence <= 1
    # The planner runs beside the router (one superstep: LangGraph applies its writes in name order).
    assert [c["node"] for c in result.usage["calls"]] == ["plan_chat", "route_intent", "respond_chat"]
    assert result.usage["output_tokens"] == sum(c["output_tokens"] for c in result.usage["calls"])


async def test_stream_false_sends_no_tokens(deps, events):
    await handle(request("오늘 운동 뭐 해야 돼?", stream=False), deps)
    assert events.tokens == []
    assert only_result(events).final["reply"]


async def test_generate_routine_result(deps, events, snapshot):
    await handle(request("새 4주 근비대 프로그램 만들어줘"), deps)
    result = only_result(events)
    assert result.status == "SUCCEEDED" and events.tokens == []  # structured output is not streamed
    assert result.meta.intent == "GENERATE_ROUTINE"
    assert stable(result.model_dump(exclude={"usage"})) == snapshot


async def test_update_routine_result(deps, events):
    await handle(request("푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘"), deps)
    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.meta.intent == "UPDATE_ROUTINE"
    assert result.final["routine_update"]["changes"][0]["new_exercise_code"] == "DUMBBELL_BENCH_PRESS"


async def test_clarify_result(deps, events):
    await handle(request("음…"), deps)
    result = only_result(events)
    assert result.status == "CLARIFY" and result.meta.intent == "CLARIFY"
    assert result.final["question"] and result.error is None


async def test_failure_after_claim_is_one_failed_result(deps, events):
    # A user with no routines asks to change one: UPDATE needs routines → FAILED, typed.
    await handle(request("스쿼트 세트 수를 5세트로 늘려줘", user_id="user-without-routines"), deps)
    result = only_result(events)
    assert result.status == "FAILED" and result.final is None
    assert result.error.code == "CONTEXT_MISSING" and "active routine" in result.error.message
    assert result.meta.intent == "UPDATE_ROUTINE"


@pytest.mark.reliability
async def test_unexpected_error_is_internal_without_trace(deps, events, monkeypatch, caplog):
    async def explode(*args):
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(deps.vm, "get_active_routines", explode)
    await handle(request("오늘 운동 뭐 해야 돼?"), deps)
    result = only_result(events)
    assert result.status == "SUCCEEDED" and "active_routines" in result.meta.degraded  # chat degrades
    events.results.clear()

    async def explode_midway(*args):
        raise KeyError("secret-internal-detail")
        yield  # an async generator, like a real stream

    monkeypatch.setattr(deps.llm, "stream_chat", explode_midway)
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-test-2"), deps)
    result = only_result(events)
    assert result.status == "FAILED" and result.error.code == "INTERNAL"
    assert "secret-internal-detail" not in result.model_dump_json()
    assert "Traceback" not in result.model_dump_json()


@pytest.mark.reliability
async def test_duplicate_delivery_is_skipped(deps, events):
    first = await handle(request("오늘 운동 뭐 해야 돼?"), deps)
    second = await handle(request("오늘 운동 뭐 해야 돼?"), deps)
    assert (first.status, second.status) == ("SUCCEEDED", "SKIPPED")
    assert len(events.results) == 1


@pytest.mark.reliability
async def test_invalid_request_with_id_gets_failed_result(deps, events):
    outcome = await handle({"requestId": "req-bad-1", "userId": "user-67890", "conversation_history": []}, deps)
    result = only_result(events)
    assert outcome.status == "INVALID"
    assert result.status == "FAILED" and result.error.code == "INVALID_REQUEST"
    assert "conversation_history" in result.error.message


async def test_invalid_request_without_id_emits_nothing(deps, events):
    outcome = await handle(b"not json", deps)
    assert outcome.status == "INVALID" and events.results == []


@pytest.mark.reliability
async def test_timeout_is_a_failed_result(deps, events, monkeypatch):
    async def slow(*args):
        await asyncio.sleep(5)

    # Memory search is not one of the calls cut at the deadline: the run's own timeout ends it.
    monkeypatch.setattr(deps.memory, "search", slow)
    await handle(request("오늘 운동 뭐 해야 돼?"), deps, timeout_s=0.5)
    result = only_result(events)
    assert result.status == "FAILED" and result.error.code == "TIMEOUT" and result.error.retryable


async def test_a_slow_vm_call_is_cut_at_the_deadline_with_its_own_error(deps, events, monkeypatch):
    async def slow(*args):
        await asyncio.sleep(5)

    monkeypatch.setattr(deps.vm, "get_active_routines", slow)
    await handle(request("오늘 운동 뭐 해야 돼?"), deps, timeout_s=0.5)
    result = only_result(events)
    # The VM call ends at the deadline (the answer goes on without routines); the model call after
    # it has no time left and fails with its own typed, retryable error.
    assert result.status == "FAILED" and result.error.code == "LLM_TIMEOUT" and result.error.retryable


async def test_concurrent_requests_keep_their_own_tokens(deps, events):
    ids = [f"req-c-{i}" for i in range(5)]
    await asyncio.gather(*(handle(request("오늘 운동 뭐 해야 돼?", request_id=i), deps) for i in ids))
    assert sorted(r.requestId for r in events.results) == ids
    for rid in ids:
        mine = [t for t in events.tokens if t.requestId == rid]
        reply = next(r for r in events.results if r.requestId == rid).final["reply"]
        assert [t.seq for t in mine] == list(range(1, len(mine) + 1))
        assert "".join(t.delta for t in mine) == reply
