"""Everything that goes wrong with Gemini ends in one clear result: the stand-in plays each failure
on the wire, the real client meets it, the runner publishes the result.

| failure                                   | result                                  |
|-------------------------------------------|-----------------------------------------|
| router / planner output unusable or empty | CLARIFY                                 |
| prompt blocked, answer stopped by filters | FAILED LLM_SAFETY_BLOCKED               |
| output token limit (incl. thinking)       | FAILED LLM_MAX_TOKENS                   |
| structured output invalid after a repair  | FAILED LLM_MALFORMED_OUTPUT             |
| 429 after bounded retries                 | FAILED LLM_RATE_LIMITED (retryable)     |
| 5xx, refused or broken connection         | FAILED LLM_UNAVAILABLE (retryable)      |
| no answer in time                         | FAILED LLM_TIMEOUT (retryable)          |
| request refused (bad key, …)              | FAILED LLM_REQUEST_REJECTED             |
| empty answer                              | FAILED LLM_EMPTY_OUTPUT                 |
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace

import pytest

from app.dependencies import build_dependencies
from app.runner import handle
from standins.gemini import Reply
from tests.conftest import request
from tests.gemini_support import (
    CHAT_MESSAGE,
    GENERATE_MESSAGE,
    KEY,
    PROGRAM,
    ROUTINE_UPDATE,
    UPDATE_MESSAGE,
    gemini_settings,
    memories,
    path_calls,
    plan,
    route,
)

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def only_result(events):
    assert len(events.results) == 1, "exactly one result event per request"
    return events.results[0]


def failed(events, code: str):
    result = only_result(events)
    assert result.status == "FAILED" and result.final is None
    assert result.error.code == code, result.error
    assert "Traceback" not in result.model_dump_json()
    return result


# --- router and planner: unusable → ask the user --------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply.answer("CHAT_RESPONSE, I think"),  # not JSON
        Reply.json({"intent": "SMALL_TALK", "confidence": 0.9}),  # not one of the intents
        Reply.answer(""),  # empty
        Reply.answer('{"intent": "CHAT_RES', finish="MAX_TOKENS"),  # cut off
    ],
    ids=["not-json", "bad-intent", "empty", "truncated"],
)
async def test_unusable_router_output_clarifies(reply, gemini, gemini_deps, events):
    gemini.script(replace(reply, prompt_tokens=700, output_tokens=9), memories())
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.status == "CLARIFY" and result.final["question"] and result.error is None
    # No repair round for the router (asking is cheaper); the planner beside it, then the remember step.
    assert sorted(r.schema_title for r in gemini.requests) == ["ChatPlan", "MemoryNotes", "RouteDecision"]
    # The unusable call is still reported (and priced).
    [call] = [c for c in result.usage["calls"] if c["node"] == "route_intent"]
    assert (call["node"], call["input_tokens"], call["output_tokens"]) == ("route_intent", 700, 9)
    assert call["cost_usd"] == pytest.approx((700 * 0.30 + 9 * 2.50) / 1e6)


async def test_unusable_plan_clarifies(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), replace(Reply.json({"action": "DANCE"}), only_for="ChatPlan"), memories())
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.status == "CLARIFY" and result.meta.intent == "CHAT_RESPONSE"
    assert [c["node"] for c in result.usage["calls"]] == ["plan_chat", "route_intent"]


# --- LLM_SAFETY_BLOCKED -------------------------------------------------------------------------


async def test_blocked_prompt_fails_at_the_router(gemini, gemini_deps, events):
    gemini.script(Reply.blocked("PROHIBITED_CONTENT"))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_SAFETY_BLOCKED")
    assert "blocked the prompt (PROHIBITED_CONTENT)" in result.error.message and not result.error.retryable


@pytest.mark.parametrize(
    "reply",
    [
        Reply.blocked("SAFETY"),
        Reply.answer("", finish="SAFETY"),
    ],
    ids=["prompt-blocked", "finish-safety"],
)
async def test_blocked_program_fails(reply, gemini, gemini_deps, events):
    gemini.script(route("GENERATE_ROUTINE"), reply)
    await handle(request(GENERATE_MESSAGE), gemini_deps())
    result = failed(events, "LLM_SAFETY_BLOCKED")
    assert result.error.message.startswith("generate_routine: Gemini")
    assert len(path_calls(gemini)) == 2  # a filtered answer is not "repaired"


async def test_answer_stopped_by_safety_after_streaming(gemini, gemini_deps, events):
    gemini.script(
        route("CHAT_RESPONSE"), plan(), Reply.answer("", chunks=["벤치프레스는 ", "이렇게 ", ""], finish="SAFETY")
    )
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_SAFETY_BLOCKED")
    assert [t.delta for t in events.tokens] == ["벤치프레스는 ", "이렇게 "]
    assert result.error.message.endswith("(after 2 tokens were streamed)")
    assert result.meta.tokens_streamed == 2


async def test_recitation_is_retryable_not_a_safety_block(gemini, gemini_deps, events):
    """RECITATION stops an answer that quotes a source too closely: the same request may pass on
    another attempt, so it is retryable and not reported as a safety block."""
    gemini.script(route("GENERATE_ROUTINE"), Reply.answer('{"program_name": "', finish="RECITATION", prompt_tokens=900))
    await handle(request(GENERATE_MESSAGE), gemini_deps())
    result = failed(events, "LLM_RECITATION")
    assert result.error.retryable and "RECITATION" in result.error.message
    assert result.usage["calls"][-1]["input_tokens"] == 900  # the attempt's tokens are reported


# --- LLM_MAX_TOKENS -----------------------------------------------------------------------------


async def test_thinking_that_eats_the_output_is_max_tokens(gemini, gemini_deps, events):
    gemini.script(
        route("GENERATE_ROUTINE"), Reply.answer("", finish="MAX_TOKENS", thoughts_tokens=4096, prompt_tokens=2000)
    )
    await handle(request(GENERATE_MESSAGE), gemini_deps(GEMINI_MODEL_MAIN="gemini-2.5-pro"))
    result = failed(events, "LLM_MAX_TOKENS")
    assert "thinking used the whole output limit (4096 thinking tokens)" in result.error.message
    call = result.usage["calls"][-1]
    assert (call["node"], call["thinking_tokens"], call["output_tokens"]) == ("generate_routine", 4096, 4096)
    assert call["cost_usd"] == pytest.approx((2000 * 1.25 + 4096 * 10) / 1e6)


async def test_answer_cut_at_the_limit_is_max_tokens(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례", finish="MAX_TOKENS"))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_MAX_TOKENS")
    assert "cut off at the output token limit" in result.error.message
    assert "tokens were streamed" in result.error.message


# --- LLM_MALFORMED_OUTPUT (after one repair) ----------------------------------------------------


async def test_invalid_program_is_repaired_once(gemini, gemini_deps, events):
    broken = {k: v for k, v in PROGRAM.items() if k != "weeks"}
    gemini.script(route("GENERATE_ROUTINE"), Reply.json(broken), Reply.json(PROGRAM), memories())
    await handle(request(GENERATE_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.final["program"] == PROGRAM and result.final["reply"]
    _first, repair = [r for r in gemini.requests if r.schema_title == "Program"]
    assert repair.schema_title == "Program"
    # The repair turn shows the model its own output and what was wrong with it, by field name.
    turns = repair.body["contents"]
    assert [t["role"] for t in turns] == ["user", "model", "user"]
    assert turns[1]["parts"][0]["text"] == json.dumps(broken, ensure_ascii=False)
    assert "weeks: Field required" in turns[2]["parts"][0]["text"]
    # The planner's call beside the router counts; the remember step's comes after the result.
    assert [c["node"] for c in result.usage["calls"]] == [
        "plan_chat",
        "route_intent",
        "generate_routine",
        "generate_routine",
    ]


async def test_still_invalid_after_repair_fails(gemini, gemini_deps, events):
    gemini.script(
        route("UPDATE_ROUTINE", search_terms=["덤벨 프레스"]),
        Reply.answer("sorry, here it is: {"),
        Reply.json({**ROUTINE_UPDATE, "changes": []}),
    )
    await handle(request(UPDATE_MESSAGE), gemini_deps())
    result = failed(events, "LLM_MALFORMED_OUTPUT")
    assert "update_routine" in result.error.message and "after one repair attempt" in result.error.message
    assert "changes" in result.error.message  # what was wrong the second time
    assert "sorry, here it is" not in result.error.message  # the model's text stays out of events
    assert len(path_calls(gemini)) == 3
    assert [c["node"] for c in result.usage["calls"]] == [
        "plan_chat",
        "route_intent",
        "update_routine",
        "update_routine",
    ]
    assert result.usage["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in result.usage["calls"]))


async def test_answer_stopped_for_another_reason(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은", finish="OTHER"))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_MALFORMED_OUTPUT")
    assert "stopped the answer unexpectedly (OTHER)" in result.error.message


# --- LLM_RATE_LIMITED ---------------------------------------------------------------------------


async def test_429_then_success_honours_the_retry_delay(gemini, gemini_deps, events):
    gemini.script(
        Reply.rate_limited(retry_delay_s=0.3),
        route("CHAT_RESPONSE"),
        plan(),
        Reply.rate_limited(retry_delay_s=0.2),
        Reply.answer("오늘은 Push Day A 차례예요."),
    )
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.final["reply"] == "오늘은 Push Day A 차례예요."
    first, retried, stream_429, stream_ok = path_calls(gemini)
    assert retried.arrived - first.arrived >= 0.3  # waited as long as the server asked
    assert stream_ok.arrived - stream_429.arrived >= 0.2
    assert stream_ok.method == "streamGenerateContent"
    assert "".join(t.delta for t in events.tokens) == result.final["reply"]
    assert len(result.usage["calls"]) == 3  # the refused attempts produced no tokens


async def test_429_until_retries_run_out(gemini, gemini_deps, events):
    gemini.script(route("GENERATE_ROUTINE"), *[Reply.rate_limited(retry_delay_s=0.05)] * 3)
    await handle(request(GENERATE_MESSAGE), gemini_deps(GEMINI_MAX_RETRIES=2))
    result = failed(events, "LLM_RATE_LIMITED")
    assert result.error.retryable and "after 3 attempts" in result.error.message
    assert len(path_calls(gemini)) == 4  # router + 1 try + 2 retries: bounded


async def test_429_asking_for_too_long_fails_at_once(gemini, gemini_deps, events):
    gemini.script(Reply.rate_limited(retry_delay_s=30))
    await handle(request(CHAT_MESSAGE), gemini_deps(GEMINI_RETRY_MAX_DELAY_S=2))
    result = failed(events, "LLM_RATE_LIMITED")
    assert "asked to retry after 30s" in result.error.message and result.error.retryable
    assert len(path_calls(gemini)) == 1


# --- LLM_UNAVAILABLE ----------------------------------------------------------------------------


async def test_5xx_is_retried_then_unavailable(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), *[Reply.error(503, "UNAVAILABLE")] * 2)
    await handle(request(CHAT_MESSAGE), gemini_deps(GEMINI_MAX_RETRIES=1))
    result = failed(events, "LLM_UNAVAILABLE")
    assert "respond_chat: Gemini is unavailable (503 UNAVAILABLE)" in result.error.message
    assert result.error.retryable and len(gemini.requests) == 4
    assert events.tokens == []


async def test_5xx_then_success(gemini, gemini_deps, events):
    gemini.script(Reply.error(500, "INTERNAL"), route("GENERATE_ROUTINE"), Reply.json(PROGRAM))
    await handle(request(GENERATE_MESSAGE), gemini_deps())
    assert only_result(events).status == "SUCCEEDED"


async def test_error_in_the_middle_of_the_stream(gemini, gemini_deps, events):
    gemini.script(
        route("CHAT_RESPONSE"),
        plan(),
        Reply.answer("오늘은 Push Day A 차례예요 벤치프레스부터", error_after_chunks=2, output_tokens=12),
    )
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_UNAVAILABLE")
    assert [t.delta for t in events.tokens] == ["오늘은 ", "Push "]
    assert result.error.message.endswith("(after 2 tokens were streamed)")
    assert len(gemini.requests) == 3  # streamed tokens are never followed by a second answer
    assert result.usage["calls"][-1]["node"] == "respond_chat"


async def test_stream_cut_off(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례예요", cut_after_chunks=1))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_UNAVAILABLE")
    assert "connection to Gemini failed" in result.error.message and len(events.tokens) == 1


async def test_stream_ending_without_a_finish_reason(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A", finish=None))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_UNAVAILABLE")
    assert "ended before Gemini finished" in result.error.message


async def test_nobody_listening(vm, memory, events):
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = gemini_settings(f"http://127.0.0.1:{port}", GEMINI_MAX_RETRIES=1)
    deps = build_dependencies(settings, vm=vm, memory=memory, tokens=events, results=events)
    try:
        await handle(request(CHAT_MESSAGE), deps)
    finally:
        await deps.llm.aclose()
    result = failed(events, "LLM_UNAVAILABLE")
    assert "route_intent: the connection to Gemini failed" in result.error.message
    assert "after 2 attempts" in result.error.message


# --- LLM_TIMEOUT --------------------------------------------------------------------------------


async def test_router_timeout(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE").stalled(3))
    await handle(request(CHAT_MESSAGE), gemini_deps(GEMINI_TIMEOUT_ROUTER_S=0.4))
    result = failed(events, "LLM_TIMEOUT")
    assert "route_intent: Gemini did not answer within 0.4s" in result.error.message and result.error.retryable
    assert len(path_calls(gemini)) == 1  # a timed-out call may still be running: not repeated


async def test_answer_timeout(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("늦은 답").stalled(3))
    await handle(request(CHAT_MESSAGE), gemini_deps(GEMINI_TIMEOUT_MAIN_S=0.4))
    failed(events, "LLM_TIMEOUT")


# --- LLM_REQUEST_REJECTED and LLM_EMPTY_OUTPUT --------------------------------------------------


async def test_wrong_key_is_rejected_without_showing_it(gemini, vm, memory, events):
    wrong = "AIzaSyWrong-secret-key-9876543210"
    settings = gemini_settings(gemini.base_url, GOOGLE_API_KEY=wrong)
    deps = build_dependencies(settings, vm=vm, memory=memory, tokens=events, results=events)
    try:
        await handle(request(CHAT_MESSAGE), deps)
    finally:
        await deps.llm.aclose()
    result = failed(events, "LLM_REQUEST_REJECTED")
    assert "400 INVALID_ARGUMENT, API_KEY_INVALID" in result.error.message and not result.error.retryable
    assert wrong not in result.model_dump_json() and len(path_calls(gemini)) == 1


async def test_empty_answer_is_not_success(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("", chunks=["", " "]))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = failed(events, "LLM_EMPTY_OUTPUT")
    assert result.usage["calls"][-1]["node"] == "respond_chat"


# --- secrets ------------------------------------------------------------------------------------


async def test_the_key_never_reaches_logs_events_or_errors(gemini, gemini_deps, events, caplog):
    caplog.set_level(logging.DEBUG)
    deps = gemini_deps(GEMINI_MAX_RETRIES=1, GEMINI_TIMEOUT_ROUTER_S=0.4)
    scenarios = [
        [route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례예요.")],
        [Reply.rate_limited(0.01), Reply.rate_limited(0.01)],
        [Reply.error(503, "UNAVAILABLE"), Reply.error(500, "INTERNAL")],
        [route("CHAT_RESPONSE").stalled(2)],
        [Reply.blocked()],
        [route("GENERATE_ROUTINE"), Reply.answer("not json"), Reply.answer("still not json")],
        [route("CHAT_RESPONSE"), plan(), Reply.answer("하나 둘 셋", error_after_chunks=1)],
        [Reply.answer("not json either")],
    ]
    for index, replies in enumerate(scenarios):
        gemini.script(*replies)
        await handle(request(CHAT_MESSAGE, request_id=f"req-key-{index}"), deps)
    assert [r.status for r in events.results] == ["SUCCEEDED"] + ["FAILED"] * 6 + ["CLARIFY"]
    assert all(r.headers["x-goog-api-key"] == KEY for r in gemini.requests)  # the key was really in use
    assert caplog.records, "the failures were logged"
    assert KEY not in caplog.text
    for event in [*events.tokens, *events.results]:
        assert KEY not in event.model_dump_json()
