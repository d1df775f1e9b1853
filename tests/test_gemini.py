"""LLM_PROVIDER=gemini end to end: the runner, the graph and the real langchain-google-genai client,
talking HTTP to the Gemini stand-in on 127.0.0.1. Every route, what each node sends, the streamed
answer, and usage with cost."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from adapters.llm.gemini import GeminiProvider
from app.runner import handle
from core.gemini_models import DEFAULT_MAIN_MODEL, DEFAULT_ROUTER_MODEL
from core.settings import DEFAULT_PRICES
from graph.graph import graph
from standins.gemini import CANNED_REPLY, Reply, canned_responder
from tests.conftest import request
from tests.gemini_support import (
    CHAT_MESSAGE,
    GENERATE_MESSAGE,
    KEY,
    PROGRAM,
    ROUTINE_UPDATE,
    UPDATE_MESSAGE,
    by_schema,
    memories,
    plan,
    route,
    thinking_budget,
    thinking_level,
)

ROUTER, MAIN = DEFAULT_ROUTER_MODEL, DEFAULT_MAIN_MODEL  # gemini-3.5-flash-lite, gemini-3.8-flash

pytestmark = pytest.mark.integration


def only_result(events):
    assert len(events.results) == 1, "exactly one result event per request"
    return events.results[0]


async def test_chat_streams_the_answer_in_order(gemini, gemini_deps, events):
    deps = gemini_deps()
    pieces = ["오늘은 ", "Push Day A ", "", "차례예요! ", "벤치프레스 4세트 × 8회로 ", "시작하세요."]
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("", chunks=pieces, thoughts_tokens=40))

    outcome = await handle(request(CHAT_MESSAGE), deps)

    result = only_result(events)
    assert outcome.status == result.status == "SUCCEEDED"
    assert result.final == {"reply": "".join(pieces)}
    # Every non-empty piece is one token event, in order; the empty one leaves no gap in seq.
    assert [t.delta for t in events.tokens] == [p for p in pieces if p]
    assert [t.seq for t in events.tokens] == list(range(1, len(pieces)))
    assert {t.requestId for t in events.tokens} == {"req-test-1"}
    assert result.meta.intent == "CHAT_RESPONSE" and result.meta.action == "GET_ACTIVE_ROUTINES"
    assert result.meta.provider == "gemini" and result.meta.tokens_streamed == len(pieces) - 1
    assert [(c["node"], c["model"]) for c in result.usage["calls"]] == [
        ("plan_chat", ROUTER),  # beside the router: one superstep, applied in name order
        ("route_intent", ROUTER),
        ("respond_chat", MAIN),
    ]
    assert gemini.unused == 0


async def test_stream_false_sends_no_token_events(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("쉬는 날이에요. 가볍게 걸어 보세요."))
    await handle(request(CHAT_MESSAGE, stream=False), gemini_deps())
    assert events.tokens == []
    assert only_result(events).final == {"reply": "쉬는 날이에요. 가볍게 걸어 보세요."}


async def test_chat_requests_per_node(gemini, gemini_deps, events, prompts):
    deps = gemini_deps(
        GEMINI_THINKING_LEVEL_CHAT="high", GEMINI_MAX_OUTPUT_TOKENS_ROUTER=300, GEMINI_MAX_OUTPUT_TOKENS_MAIN=9000
    )
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례예요."))
    await handle(request(CHAT_MESSAGE), deps)
    assert only_result(events).status == "SUCCEEDED"

    router, planner = by_schema(gemini, "RouteDecision"), by_schema(gemini, "ChatPlan")
    chat = gemini.requests[-1]
    for call, title in ((router, "RouteDecision"), (planner, "ChatPlan")):
        config = call.generation_config
        assert (call.model, call.method) == (ROUTER, "generateContent")
        assert config["responseMimeType"] == "application/json" and call.schema_title == title
        assert config["maxOutputTokens"] == 300
        # Gemini 3: a thinking level, never a budget; no temperature (3.5 Flash-Lite ignores one).
        assert "temperature" not in config and thinking_level(call) == "MINIMAL" and thinking_budget(call) is None
    assert prompts.action_routing.system.strip()[:60] in router.system_text
    assert '"벤치프레스 자세 좀 알려줘" → CHAT_RESPONSE' in router.system_text  # few-shot examples shown
    assert prompts.chat_planner.system.strip()[:60] in planner.system_text
    assert CHAT_MESSAGE in router.user_text and CHAT_MESSAGE in planner.user_text

    assert (chat.model, chat.method, chat.query.get("alt")) == (MAIN, "streamGenerateContent", ["sse"])
    assert "responseJsonSchema" not in chat.generation_config
    assert thinking_level(chat) == "HIGH" and chat.generation_config["maxOutputTokens"] == 9000
    assert "temperature" not in chat.generation_config  # Gemini 3 keeps its default 1.0, as Google advises
    assert prompts.chat_response.system.strip()[:60] in chat.system_text
    # The planned context, rendered: the profile and the routines with today's one marked.
    assert '"username": "Alex"' in chat.user_text
    assert "#1 Push Day A (last done 2026-11-19)  <- today" in chat.user_text
    assert all(r.headers["x-goog-api-key"] == KEY for r in gemini.requests)


async def test_pinned_25_models_get_budgets_and_temperatures(gemini, gemini_deps, events, caplog):
    """Pinning the 2.5 models still works until their shutdown: budgets instead of levels, the
    per-node temperatures, and a start-up warning naming the shutdown date."""
    deps = gemini_deps(
        GEMINI_MODEL_ROUTER="gemini-2.5-flash", GEMINI_MODEL_MAIN="gemini-2.5-pro", GEMINI_THINKING_BUDGET_CHAT=777
    )
    assert "GEMINI_MODEL_MAIN=gemini-2.5-pro" in caplog.text and "2026-12-01" in caplog.text
    assert "Google routes its requests to gemini-3.8-flash" in caplog.text
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례예요."))
    await handle(request(CHAT_MESSAGE), deps)
    assert only_result(events).status == "SUCCEEDED"
    router, _planner, chat = gemini.requests
    assert (router.model, chat.model) == ("gemini-2.5-flash", "gemini-2.5-pro")
    assert router.generation_config["temperature"] == 0 and thinking_budget(router) == 0
    assert chat.generation_config["temperature"] == 0.7 and thinking_budget(chat) == 777
    assert thinking_level(chat) is None


async def test_general_advice_needs_no_context(gemini, gemini_deps, events, vm, monkeypatch):
    async def no_vm_calls(*args):
        raise AssertionError("nothing should be fetched for a plan without context")

    monkeypatch.setattr(vm, "get_active_routines", no_vm_calls)
    monkeypatch.setattr(vm, "get_profile", no_vm_calls)
    gemini.script(
        route("CHAT_RESPONSE"),
        plan("GENERAL_ADVICE", required_context=[]),
        Reply.answer("체중 1kg당 1.6g 정도가 좋아요."),
    )
    await handle(request("단백질 하루에 얼마나 먹어야 돼?"), gemini_deps())
    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.meta.action == "GENERAL_ADVICE"
    assert "Active routines (today's is marked):\n(none)" in gemini.requests[-1].user_text


async def test_generate_routine_returns_the_program(gemini, gemini_deps, events):
    deps = gemini_deps(GEMINI_THINKING_LEVEL_GENERATE="high")
    gemini.script(
        route("GENERATE_ROUTINE"), Reply.json(PROGRAM, thoughts_tokens=2500), memories("허리 디스크가 있어요")
    )

    await handle(request(GENERATE_MESSAGE), deps)

    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.meta.intent == "GENERATE_ROUTINE"
    assert result.final == {"reply": result.final["reply"], "program": PROGRAM}  # the reply: tests/test_replies.py
    assert events.tokens == []  # structured output is never streamed
    router, generate, remember = (by_schema(gemini, title) for title in ("RouteDecision", "Program", "MemoryNotes"))
    assert (generate.model, generate.method, generate.schema_title) == (MAIN, "generateContent", "Program")
    # The remember step asks the router model, thinking minimal, for the durable facts.
    assert (remember.model, remember.schema_title, thinking_level(remember)) == (ROUTER, "MemoryNotes", "MINIMAL")
    assert generate.generation_config["responseMimeType"] == "application/json"
    assert thinking_level(generate) == "HIGH" and thinking_level(router) == "MINIMAL"
    # The baseline context reached the prompt: current routines and catalog codes to choose from.
    assert "Push Day A" in generate.user_text and "- BARBELL_ROW: 바벨 로우" in generate.user_text
    # The planner ran beside the router (its plan dropped); the remember step ends after the result.
    assert [c["node"] for c in result.usage["calls"]] == ["plan_chat", "route_intent", "generate_routine"]
    assert result.usage["calls"][2]["thinking_tokens"] == 2500
    assert [m["text"] for m in await deps.memory.search("user-67890", "허리 부상", 5)] == ["허리 디스크가 있어요"]


async def test_update_routine_returns_the_diff(gemini, gemini_deps, events):
    deps = gemini_deps()
    gemini.script(route("UPDATE_ROUTINE", search_terms=["덤벨 프레스"]), Reply.json(ROUTINE_UPDATE), memories())

    await handle(request(UPDATE_MESSAGE), deps)

    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.meta.intent == "UPDATE_ROUTINE"
    assert result.final == {"reply": result.final["reply"], "routine_update": ROUTINE_UPDATE}
    update = by_schema(gemini, "RoutineUpdate")
    # Unset, the update gets the node's default level.
    assert (update.model, update.schema_title, thinking_level(update)) == (MAIN, "RoutineUpdate", "LOW")
    # The router's search terms found the replacement in the catalog the model is shown.
    assert "- DUMBBELL_BENCH_PRESS: 덤벨 벤치프레스" in update.user_text


@pytest.mark.parametrize("decision", [route("CLARIFY", 0.9), route("GENERATE_ROUTINE", 0.3)], ids=["clarify", "unsure"])
async def test_clarify_asks_without_generating(decision, gemini, gemini_deps, events):
    gemini.script(decision, memories())
    await handle(request("루틴"), gemini_deps())
    result = only_result(events)
    assert result.status == "CLARIFY" and result.final["question"] and result.error is None
    # Nothing was generated; the planner ran beside the router (its plan dropped, its cost counted),
    # and the remember step looked for facts to keep, after the question was published.
    assert sorted(r.schema_title for r in gemini.requests) == ["ChatPlan", "MemoryNotes", "RouteDecision"]
    assert [c["node"] for c in result.usage["calls"]] == ["plan_chat", "route_intent"]


async def test_usage_and_cost_add_up(gemini, gemini_deps, events):
    gemini.script(
        route("CHAT_RESPONSE", prompt_tokens=800, output_tokens=20),
        plan(prompt_tokens=500, output_tokens=30),
        Reply.answer(
            "오늘은 Push Day A 차례예요.",
            prompt_tokens=1500,
            cached_tokens=1000,
            output_tokens=200,
            thoughts_tokens=300,
        ),
    )
    await handle(request(CHAT_MESSAGE), gemini_deps())
    usage = only_result(events).usage

    calls = {c["node"]: c for c in usage["calls"]}
    keys = ("input_tokens", "cached_input_tokens", "output_tokens", "thinking_tokens")
    assert {k: calls["route_intent"][k] for k in keys} == {
        "input_tokens": 800,
        "cached_input_tokens": 0,
        "output_tokens": 20,
        "thinking_tokens": 0,
    }
    # Thinking is output Gemini bills: 200 answer + 300 thinking tokens; 1000 of the 1500 prompt
    # tokens came from the context cache.
    assert {k: calls["respond_chat"][k] for k in keys} == {
        "input_tokens": 1500,
        "cached_input_tokens": 1000,
        "output_tokens": 500,
        "thinking_tokens": 300,
    }
    # The registry's prices on the day of the call: 3.5 Flash-Lite $0.30 / $2.50; 3.8 Flash $0.75
    # in, $0.075 cached, $3.75 out through 2026-12-31 (double from 2027).
    flash = DEFAULT_PRICES[MAIN].on(date.today())
    assert calls["route_intent"]["cost_usd"] == pytest.approx((800 * 0.30 + 20 * 2.50) / 1e6)
    assert calls["plan_chat"]["cost_usd"] == pytest.approx((500 * 0.30 + 30 * 2.50) / 1e6)
    expected = (500 * flash.input + 1000 * flash.cached_input + 500 * flash.output) / 1e6
    assert calls["respond_chat"]["cost_usd"] == pytest.approx(expected)
    assert usage["cost_usd"] == pytest.approx(0.00029 + 0.000225 + expected)
    assert (usage["input_tokens"], usage["output_tokens"], usage["thinking_tokens"]) == (2800, 550, 300)
    assert usage["cached_input_tokens"] == 1000
    assert all(c["latency_ms"] > 0 for c in usage["calls"])


async def test_prices_come_from_the_settings(gemini, gemini_deps, events):
    deps = gemini_deps(LLM_PRICES={ROUTER: {"input": 1, "output": 1}, MAIN: {"input": 2, "output": 4}})
    gemini.script(
        route("GENERATE_ROUTINE", prompt_tokens=1000, output_tokens=10),
        Reply.json(PROGRAM, prompt_tokens=3000, output_tokens=1000, thoughts_tokens=1000),
    )
    await handle(request(GENERATE_MESSAGE), deps)
    usage = only_result(events).usage
    cost = {c["node"]: c["cost_usd"] for c in usage["calls"]}
    assert cost["route_intent"] == pytest.approx(1010 / 1e6)
    assert cost["generate_routine"] == pytest.approx((3000 * 2 + 2000 * 4) / 1e6)


async def test_structured_calls_never_reach_the_messages_stream(gemini, gemini_deps):
    """LangGraph's "messages" stream (what `langgraph dev` and the runner read) carries the answer's
    chunks only: the router, planner and program calls are tagged nostream."""
    deps = gemini_deps()
    gemini.script(
        route("CHAT_RESPONSE"),
        plan(),
        Reply.answer("오늘은 Push Day A 차례예요."),
        route("GENERATE_ROUTINE"),
        Reply.json(PROGRAM),
        memories("I train at home"),
    )
    chat_nodes, generate_nodes = [], []
    for message, nodes, request_id in (
        (CHAT_MESSAGE, chat_nodes, "req-m-1"),
        (GENERATE_MESSAGE, generate_nodes, "req-m-2"),
    ):
        async for _chunk, metadata in graph.astream(
            request(message, request_id=request_id), context=deps.context(), stream_mode="messages"
        ):
            nodes.append(metadata["langgraph_node"])
    assert chat_nodes and set(chat_nodes) == {"respond_chat"}
    assert generate_nodes == []  # neither the program nor the remember step's JSON
    assert len(gemini.requests) == 7  # the planner beside each router call


async def test_one_client_per_model(gemini, gemini_deps):
    provider = gemini_deps().llm
    assert isinstance(provider, GeminiProvider)
    models = provider._models
    flash, pro = (c.client for c in models.clients)
    assert flash is not pro
    assert models.route.client is flash and models.plan.client is flash and models.remember.client is flash
    assert models.chat.client is pro and models.generate.client is pro and models.update.client is pro
    assert [c.model for c in models.clients] == [ROUTER, MAIN]


async def test_concurrent_requests_share_the_clients(gemini, gemini_deps, events):
    gemini.responder = canned_responder  # answers by the schema each node asks for, in any order
    deps = gemini_deps()
    ids = [f"req-g-{i}" for i in range(4)]
    await asyncio.gather(*(handle(request(CHAT_MESSAGE, request_id=i), deps) for i in ids))
    assert sorted(r.requestId for r in events.results) == ids
    for rid in ids:
        mine = [t for t in events.tokens if t.requestId == rid]
        assert [t.seq for t in mine] == list(range(1, len(mine) + 1))
        assert "".join(t.delta for t in mine) == CANNED_REPLY
    assert len(gemini.requests) == 12
