"""Memory with LLM_PROVIDER=gemini, against the Gemini stand-in: the remember step's one structured
call (router model) sees the user's nearest known memories under short ids and decides what to add,
rewrite or retire; the answer's prompt shows each recalled memory with when it was said."""

from __future__ import annotations

import re
import time

import pytest

from adapters.memory.qdrant import QdrantMemory
from app.dependencies import build_dependencies
from app.runner import handle
from core.gemini_models import DEFAULT_ROUTER_MODEL
from standins.gemini import Reply
from tests.conftest import DEMO_USER, OTHER_USER, request
from tests.gemini_support import by_schema, gemini_settings, route, thinking_level

pytestmark = pytest.mark.integration
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def decision(**fields) -> Reply:
    """The remember step's answer: {memories_to_save, memories_to_update, memories_to_retire}."""
    return Reply.json(fields, only_for="MemoryNotes")


def chat_plan(*facts: str) -> Reply:
    return Reply.json(
        {
            "action": "GET_ACTIVE_ROUTINES",
            "required_context": ["active_routines", "profile", "user_memory"],
            "search_terms": [],
            "memory_query": "injuries",
            "memories_to_save": list(facts),
        },
        only_for="ChatPlan",  # the planner runs beside the router, in no fixed order
    )


async def test_a_changed_goal_updates_the_known_memory_by_its_id(gemini, gemini_deps, events, memory):
    deps = gemini_deps()
    await memory.add(DEMO_USER, [("old:0", "My goal is hypertrophy")])
    await memory.add(OTHER_USER, [("old:0", "My goal is hypertrophy")])
    [before] = await memory.search(DEMO_USER, "goal", 5)
    message = "Actually I want to lose fat now"
    gemini.script(
        route("CLARIFY", 0.9),
        decision(memories_to_update=[{"id": "1", "text": "I want to lose fat now"}], memories_to_retire=["7"]),
    )

    outcome = await handle(request(message, request_id="req-new-goal"), deps)

    [result] = events.results
    # What remember did is known after the result, not in it.
    assert result.status == "CLARIFY" and outcome.remembered == {"saved": 0, "updated": 1}
    remember = by_schema(gemini, "MemoryNotes")
    # One call on the router model, thinking minimal, that sees the message and the known memory
    # under a short id (never the store's UUID), with when it was said.
    assert (remember.model, thinking_level(remember)) == (DEFAULT_ROUTER_MODEL, "MINIMAL")
    assert message in remember.user_text and "- 1: (today) My goal is hypertrophy" in remember.user_text
    assert not UUID.search(remember.user_text)
    # A fact is kept whole: the rule and its example reach the model.
    assert 'never "it still hurts when I squat" alone' in remember.system_text
    [after] = await memory.search(DEMO_USER, "goal", 5)
    assert (after["id"], after["text"]) == (before["id"], "I want to lose fat now")  # in place; "7" was never shown
    assert [m["text"] for m in await memory.search(OTHER_USER, "goal", 5)] == ["My goal is hypertrophy"]


async def test_a_healed_injury_is_retired_in_chat(gemini, gemini_deps, events, memory):
    deps = gemini_deps()
    await memory.add(DEMO_USER, [("hurt:0", "I hurt my left knee last week"), ("hurt:1", "I train at home")])
    gemini.script(
        route("CHAT_RESPONSE"),
        chat_plan("My knee has healed"),
        Reply.answer("좋아요! 오늘은 Push Day A 차례예요."),
        decision(memories_to_retire=["1"]),
    )

    outcome = await handle(request("My knee has healed! What should I train today?", request_id="req-healed"), deps)

    [result] = events.results
    assert result.status == "SUCCEEDED" and outcome.remembered == {"saved": 0, "retired": 1}
    remember = by_schema(gemini, "MemoryNotes")
    assert "- 1: (today) I hurt my left knee last week" in remember.user_text  # the one it retired
    assert '"My knee has healed"' in remember.user_text  # the planner's facts, decided on here
    assert await memory.search(DEMO_USER, "I hurt my left knee last week", 5) == []  # never recalled again
    everything = await memory.export(DEMO_USER)
    assert [m["text"] for m in everything if m["retired_at"]] == ["I hurt my left knee last week"]  # kept
    assert [m["text"] for m in everything if not m["retired_at"]] == ["I train at home"]


async def test_nothing_noted_in_chat_costs_no_memory_call(gemini, gemini_deps, events, memory):
    await memory.add(DEMO_USER, [("hurt:0", "I hurt my left knee last week")])
    gemini.script(route("CHAT_RESPONSE"), chat_plan(), Reply.answer("오늘은 Push Day A 차례예요."))
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-plain"), gemini_deps())
    # Router and planner side by side (in either order), then the answer; no remember call.
    assert sorted(r.schema_title or "answer" for r in gemini.requests) == ["ChatPlan", "RouteDecision", "answer"]


async def test_the_answer_prompt_dates_each_memory(gemini, vm, events, embeddings):
    three_weeks_ago = time.time() - 21 * 86400
    memory = QdrantMemory(collection="aged", path=":memory:", embeddings=embeddings, clock=lambda: three_weeks_ago)
    deps = build_dependencies(gemini_settings(gemini.base_url), vm=vm, memory=memory, tokens=events, results=events)
    try:
        await memory.add(DEMO_USER, [("old:0", "I hurt my left knee last week")])
        gemini.script(route("CHAT_RESPONSE"), chat_plan(), Reply.answer("오늘은 가볍게 해요."))
        await handle(request("my knee injury, what should I train today?", request_id="req-aged"), deps)
        [result] = events.results
        assert result.status == "SUCCEEDED"
        answer = gemini.requests[-1]
        assert re.search(r"- \(said 3 weeks ago, \d{4}-\d\d-\d\d\) I hurt my left knee last week", answer.user_text)
    finally:
        await deps.llm.aclose()
        await memory.aclose()
