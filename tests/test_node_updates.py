"""Each model-facing node on a scripted model (tests/scripted_model.py): a given state and given
model outputs in, the node's partial state update out. What the nodes add to the model — their
rules, checks and fallbacks — is asserted; the offline provider's own answers are tested in
test_offline_nodes.py and test_offline_*.py."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.runtime import Runtime

from adapters.memory.base import MemoryChanges
from core.errors import ContextMissing, LLMError, LLMMalformedOutput, LLMUnavailable, UnclearRequest
from core.schemas import ChatPlan
from graph.context import Context
from nodes.clarify import clarify
from nodes.conversation import MAX_TURNS
from nodes.generate_routine import generate_routine
from nodes.plan_chat import plan_chat
from nodes.remember import MAX_MEMORIES, remember
from nodes.respond_chat import respond_chat
from nodes.route_intent import route_intent
from nodes.update_routine import update_routine
from tests.conftest import DEMO_USER, request, stable
from tests.scripted_model import MODEL, ScriptedModel, scripted_usage

MIN_CONFIDENCE = 0.6


class RecordingMemory:
    """A user memory that shows the given known memories as the nearest and keeps what it is given."""

    def __init__(self, known: list[dict[str, Any]] | None = None):
        self.known = known or []
        self.asked: list[tuple[str, list[str]]] = []
        self.applied: list[tuple[str, MemoryChanges]] = []

    async def nearest(self, user_id, texts, k):
        self.asked.append((user_id, list(texts)))
        return self.known[:k]

    async def apply(self, user_id, changes):
        self.applied.append((user_id, changes))


def runtime_for(llm: ScriptedModel, memory: Any = None) -> Runtime[Context]:
    # The nodes under test read everything else from the state: no VM API, no catalog searches.
    return Runtime(
        context=Context(
            llm=llm,
            vm=None,
            memory=memory,
            min_confidence=MIN_CONFIDENCE,
            catalog_max_searches=0,
            memory_top_k=5,
        )
    )


def malformed(usage: list[dict] | None = None) -> LLMMalformedOutput:
    exc = LLMMalformedOutput("not JSON")
    exc.usage = usage or []
    return exc


def routed(intent: str, proposed: str | None = None) -> dict:
    return {"intent": intent, "confidence": 0.9, "proposed": proposed or intent, "reason": "", "search_terms": []}


# --- route_intent -------------------------------------------------------------------------------


async def test_route_intent_takes_a_confident_decision(snapshot):
    llm = ScriptedModel(
        route=[
            {
                "intent": "UPDATE_ROUTINE",
                "confidence": 0.92,
                "reason": "asks to swap an exercise",
                "search_terms": ["벤치프레스", "덤벨 프레스"],
            }
        ]
    )
    state = request("푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘")

    update = await route_intent(state, runtime_for(llm))

    assert llm.calls[0].conversation == state["conversation_history"]
    assert update["route"]["intent"] == update["route"]["proposed"] == "UPDATE_ROUTINE"
    assert update["usage"] == [scripted_usage("route_intent")]
    assert update == snapshot


async def test_route_intent_asks_below_the_minimum_confidence():
    llm = ScriptedModel(route=[{"intent": "GENERATE_ROUTINE", "confidence": MIN_CONFIDENCE - 0.01}])
    update = await route_intent(request("루틴 좀"), runtime_for(llm))
    assert update["route"]["intent"] == "CLARIFY"
    assert update["route"]["proposed"] == "GENERATE_ROUTINE"  # clarify offers what the model leaned to
    assert update["route"]["confidence"] == MIN_CONFIDENCE - 0.01


async def test_route_intent_keeps_clarify_at_any_confidence():
    llm = ScriptedModel(route=[{"intent": "CLARIFY", "confidence": 0.1}])
    update = await route_intent(request("음…"), runtime_for(llm))
    assert (update["route"]["intent"], update["route"]["proposed"]) == ("CLARIFY", "CLARIFY")


async def test_route_intent_unparseable_falls_back_to_clarify(snapshot):
    llm = ScriptedModel(route=[malformed([scripted_usage("route_intent")])])
    update = await route_intent(request("오늘 운동 뭐 해야 돼?"), runtime_for(llm))
    assert update["route"]["intent"] == "CLARIFY" and update["route"]["proposed"] is None
    assert update["usage"] == [scripted_usage("route_intent")]  # the unusable call still cost
    assert update == snapshot


async def test_route_intent_unparseable_without_usage_reports_none():
    update = await route_intent(request("x"), runtime_for(ScriptedModel(route=[malformed()])))
    assert "usage" not in update


async def test_route_intent_sees_only_the_recent_turns():
    history = [{"role": "user" if n % 2 == 0 else "assistant", "content": f"turn {n}"} for n in range(MAX_TURNS + 5)]
    llm = ScriptedModel(route=[{"intent": "CHAT_RESPONSE", "confidence": 0.9}])
    await route_intent(request(history), runtime_for(llm))
    assert llm.calls[0].conversation == history[-MAX_TURNS:]


# --- plan_chat ----------------------------------------------------------------------------------


async def test_plan_chat_keeps_the_plan(snapshot):
    plan = {
        "action": "SEARCH_EXERCISES",
        "required_context": ["exercise_catalog", "user_memory"],
        "search_terms": ["벤치프레스"],
        "memory_query": "어깨 부상",
        "memories_to_save": [],
    }
    llm = ScriptedModel(plan=[plan])
    # It runs beside the router: no route yet. The action is the answer's (respond_chat) to set.
    update = await plan_chat(request("벤치프레스 자세 알려줘"), runtime_for(llm))
    assert update == {"plan": plan, "usage": [scripted_usage("plan_chat")]}
    assert update == snapshot


async def test_plan_chat_unparseable_plan_is_none():
    llm = ScriptedModel(plan=[malformed([scripted_usage("plan_chat")]), malformed()])
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": routed("CHAT_RESPONSE")}
    assert await plan_chat(state, runtime_for(llm)) == {"plan": None, "usage": [scripted_usage("plan_chat")]}
    assert await plan_chat(state, runtime_for(llm)) == {"plan": None}


async def test_plan_chat_keeps_a_failed_call_for_the_chat_route_to_raise():
    llm = ScriptedModel(plan=[LLMUnavailable("plan_chat: Gemini is unavailable (503 UNAVAILABLE)")])
    update = await plan_chat(request("오늘 운동 뭐 해야 돼?"), runtime_for(llm))
    # Not raised here: the route is not known yet, and no route but chat needs the plan.
    assert update == {
        "plan": None,
        "plan_error": {
            "code": "LLM_UNAVAILABLE",
            "message": "plan_chat: Gemini is unavailable (503 UNAVAILABLE)",
            "retryable": True,
        },
    }


# --- respond_chat -------------------------------------------------------------------------------

PLAN = {"action": "GET_ACTIVE_ROUTINES", "required_context": ["active_routines"], "search_terms": []}
GATHERED = {"active_routines": [{"routine_name": "Push Day A", "routine_order": 1, "plans": []}], "degraded": []}


async def test_respond_chat_keeps_the_streamed_answer():
    llm = ScriptedModel(chat=["오늘은 Push Day A 하세요."])
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": routed("CHAT_RESPONSE"), "plan": PLAN, "context": GATHERED}

    update = await respond_chat(state, runtime_for(llm))

    asked = llm.calls[0]
    assert asked.plan == ChatPlan.model_validate(PLAN) and asked.context == GATHERED
    assert update["final"] == {"reply": "오늘은 Push Day A 하세요."}
    assert update["status"] == "SUCCEEDED" and update["action"] == "GET_ACTIVE_ROUTINES"  # the plan's, with the answer
    assert stable(update["usage"]) == [stable({**scripted_usage("respond_chat"), "latency_ms": 0.0})]


@pytest.mark.parametrize("answer", ["", "   "])
async def test_respond_chat_refuses_an_empty_answer(answer):
    state = {**request("x"), "plan": PLAN, "context": GATHERED}
    with pytest.raises(LLMError) as raised:
        await respond_chat(state, runtime_for(ScriptedModel(chat=[answer])))
    assert (raised.value.code, raised.value.retryable) == ("LLM_EMPTY_OUTPUT", True)


# --- generate_routine ---------------------------------------------------------------------------

PROFILE = {
    "username": "Alex",
    "experience_level": "INTERMEDIATE",
    "goal": "HYPERTROPHY",
    "training_days_per_week": 2,
    "equipment": ["BARBELL", "DUMBBELL", "BODYWEIGHT"],
}
CATALOG = [
    {"exercise_code": "BARBELL_BACK_SQUAT", "equipment": "BARBELL"},
    {"exercise_code": "BARBELL_BENCH_PRESS", "equipment": "BARBELL"},
    {"exercise_code": "DUMBBELL_ROW", "equipment": "DUMBBELL"},
    {"exercise_code": "PULL_UP", "equipment": "BODYWEIGHT"},
    {"exercise_code": "CABLE_FLY", "equipment": "CABLE"},
]


def program(**changes) -> dict:
    value = {
        "program_name": "4주 근비대",
        "goal": "HYPERTROPHY",
        "weeks": 4,
        "days_per_week": 2,
        "experience_level": "INTERMEDIATE",
        "routines": [
            {
                "routine_name": "Upper",
                "routine_order": 1,
                "plans": [
                    {"exercise_code": "BARBELL_BENCH_PRESS", "sets": 4, "reps": 8, "weight_kg": 60},
                    {"exercise_code": "DUMBBELL_ROW", "sets": 3, "reps": 10},
                ],
            },
            {
                "routine_name": "Lower",
                "routine_order": 2,
                "plans": [{"exercise_code": "BARBELL_BACK_SQUAT", "sets": 4, "reps": 6}],
            },
        ],
    }
    return {**value, **changes}


def generate_state(message: str = "새 프로그램 만들어줘") -> dict:
    return {
        **request(message),
        "route": routed("GENERATE_ROUTINE"),
        "context": {"profile": PROFILE, "exercise_catalog": CATALOG, "active_routines": [], "degraded": []},
    }


async def test_generate_routine_returns_a_program_that_passes_the_checks(snapshot):
    llm = ScriptedModel(program=[program()])
    state = generate_state()

    update = await generate_routine(state, runtime_for(llm))

    # The model sees the gathered context and what the router read the user asked (here: nothing stated).
    assert llm.calls[0].context == {**state["context"], "asked": {}}
    assert update["status"] == "SUCCEEDED" and update["action"] == "GENERATE_PROGRAM"
    assert update["usage"] == [scripted_usage("generate_routine")]
    assert "notes" in update["final"]["program"] and "weight_kg" not in update["final"]["program"]["routines"][1]
    assert update["final"]["program"] == snapshot(name="program")


@pytest.mark.parametrize(
    "changes, complaint",
    [
        (
            {
                "routines": [
                    {
                        "routine_name": "A",
                        "routine_order": 1,
                        "plans": [{"exercise_code": "MADE_UP_PRESS", "sets": 3, "reps": 10}],
                    }
                ],
                "days_per_week": 1,
            },
            "outside the catalog: MADE_UP_PRESS",
        ),
        ({"days_per_week": 3}, "says 3 days a week but has 2 routines"),
        ({"goal": "STRENGTH"}, "the goal is HYPERTROPHY"),
        ({"experience_level": "BEGINNER"}, "the user is INTERMEDIATE"),
        (
            {
                "routines": [
                    program()["routines"][0],
                    {
                        "routine_name": "Chest",
                        "routine_order": 2,
                        "plans": [{"exercise_code": "CABLE_FLY", "sets": 3, "reps": 12}],
                    },
                ]
            },
            "equipment the user does not have",
        ),
    ],
)
async def test_generate_routine_refuses_a_program_that_fails_a_check(changes, complaint):
    llm = ScriptedModel(program=[program(**changes)])
    with pytest.raises(LLMMalformedOutput, match=complaint):
        await generate_routine(generate_state(), runtime_for(llm))


# --- update_routine -----------------------------------------------------------------------------

ROUTINES = [
    {
        "routine_name": "Push Day A",
        "routine_order": 1,
        "plans": [
            {"exercise_code": "BARBELL_BENCH_PRESS", "exercise_name": "바벨 벤치프레스", "sets": 4, "reps": 8},
            {"exercise_code": "OVERHEAD_PRESS", "exercise_name": "오버헤드 프레스", "sets": 3, "reps": 8},
        ],
    },
    {
        "routine_name": "Pull Day A",
        "routine_order": 2,
        "plans": [{"exercise_code": "PULL_UP", "exercise_name": "풀업", "sets": 4, "reps": 8}],
    },
]
SWAP = {
    "routine_name": "Push Day A",
    "routine_order": 1,
    "changes": [{"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}],
    "updated_routine": {
        "routine_name": "Push Day A",
        "routine_order": 1,
        "plans": [
            {"exercise_code": "DUMBBELL_BENCH_PRESS", "sets": 4, "reps": 8},
            {"exercise_code": "OVERHEAD_PRESS", "exercise_name": "오버헤드 프레스", "sets": 3, "reps": 8},
        ],
    },
    "summary": "벤치프레스를 덤벨 벤치프레스로 바꿨어요.",
}


def update_state(message: str = "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘", routines=ROUTINES) -> dict:
    catalog = [{"exercise_code": "DUMBBELL_BENCH_PRESS", "equipment": "DUMBBELL"}]
    return {
        **request(message),
        "route": routed("UPDATE_ROUTINE"),
        "context": {"active_routines": routines, "exercise_catalog": catalog, "degraded": []},
    }


async def test_update_routine_returns_the_declared_change(snapshot):
    llm = ScriptedModel(update=[SWAP])
    update = await update_routine(update_state(), runtime_for(llm))
    assert update["status"] == "SUCCEEDED" and update["action"] == "UPDATE_ROUTINE"
    assert update["usage"] == [scripted_usage("update_routine")]
    assert update["final"]["routine_update"]["changes"] == SWAP["changes"]
    assert update["final"]["routine_update"] == snapshot(name="routine_update")


@pytest.mark.parametrize(
    "changes, complaint",
    [
        ({"routine_order": 3}, "routine #3, which is not active"),
        (
            {
                "updated_routine": {
                    **SWAP["updated_routine"],
                    "plans": [{"exercise_code": "MADE_UP_PRESS", "sets": 4, "reps": 8}],
                }
            },
            "outside the catalog: MADE_UP_PRESS",
        ),
        (
            {"changes": [{"op": "remove", "exercise_code": "OVERHEAD_PRESS"}]},
            # the declared change is not what the routine shows: the diff is recomputed
            r"removed exercises: declared \['OVERHEAD_PRESS'\], actually \['BARBELL_BENCH_PRESS'\]",
        ),
    ],
)
async def test_update_routine_refuses_an_update_that_does_not_hold(changes, complaint):
    llm = ScriptedModel(update=[{**SWAP, **changes}])
    with pytest.raises(LLMMalformedOutput, match=complaint):
        await update_routine(update_state(), runtime_for(llm))


@pytest.mark.parametrize("message, korean", [("루틴 바꿔줘", True), ("change my routine", False)])
async def test_update_routine_asks_when_the_model_cannot_tell_the_change(message, korean):
    llm = ScriptedModel(update=[UnclearRequest("which exercise?")])
    update = await update_routine(update_state(message), runtime_for(llm))
    assert update["status"] == "CLARIFY" and update["action"] == "ASK_CLARIFICATION"
    assert update["final"]["options"] == ["UPDATE_ROUTINE"]
    question = update["final"]["question"]
    assert "Push Day A, Pull Day A" in question  # the user's own routines
    assert ("바벨 벤치프레스" in question) is korean and ("Barbell Bench Press" in question) is not korean


async def test_update_routine_without_routines_does_not_ask_the_model():
    llm = ScriptedModel()
    with pytest.raises(ContextMissing) as raised:
        await update_routine(update_state(routines=[]), runtime_for(llm))
    assert raised.value.retryable is False and llm.calls == []


# --- clarify (no model call) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "proposed, options",
    [
        (None, ["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE"]),
        ("CLARIFY", ["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE"]),
        ("GENERATE_ROUTINE", ["GENERATE_ROUTINE", "UPDATE_ROUTINE"]),
        ("UPDATE_ROUTINE", ["GENERATE_ROUTINE", "UPDATE_ROUTINE"]),
        ("CHAT_RESPONSE", ["CHAT_RESPONSE"]),
    ],
)
async def test_clarify_offers_what_the_router_leaned_to(proposed, options):
    llm = ScriptedModel()
    korean = await clarify({**request("음…"), "route": routed("CLARIFY", proposed)}, runtime_for(llm))
    english = await clarify({**request("hmm"), "route": routed("CLARIFY", proposed)}, runtime_for(llm))
    for update in (korean, english):
        assert update["status"] == "CLARIFY" and update["action"] == "ASK_CLARIFICATION"
        assert update["final"]["options"] == options
    assert korean["final"]["question"] != english["final"]["question"]
    assert llm.calls == []


# --- remember -----------------------------------------------------------------------------------


KNOWN = [{"id": "m-1", "text": "주 3회 운동해요", "score": 0.9, "updated_at": "2026-11-01T00:00:00Z"}]


async def test_remember_decides_the_chat_plans_facts_against_the_nearest_memories():
    decision = {"memories_to_save": ["왼쪽 무릎을 다쳤어요", "주 3회 운동해요"], "memories_to_retire": ["m-1", "m-9"]}
    llm, memory = ScriptedModel(memories=[decision]), RecordingMemory(KNOWN)
    plan = {**PLAN, "memories_to_save": ["왼쪽 무릎을 다쳤어요", "  주 3회   운동해요 ", "주 3회 운동해요", "", 7]}
    state = {**request("x", request_id="req-9"), "route": routed("CHAT_RESPONSE"), "plan": plan}

    update = await remember(state, runtime_for(llm, memory))

    # The plan's facts, cleaned, are what the model decides about, beside the user's nearest memories.
    assert memory.asked == [(DEMO_USER, ["왼쪽 무릎을 다쳤어요", "주 3회 운동해요"])]
    assert [(c.step, c.noted, c.known) for c in llm.calls] == [
        ("extract_memories", ["왼쪽 무릎을 다쳤어요", "주 3회 운동해요"], KNOWN)
    ]
    # A "new" fact already known word for word is not added again; only shown ids are retired.
    [(user, changes)] = memory.applied
    assert user == DEMO_USER
    assert changes == MemoryChanges(add=[("req-9:0", "왼쪽 무릎을 다쳤어요")], retire=["m-1"])
    assert update == {"remembered": {"saved": 1, "retired": 1}, "usage": [scripted_usage("remember")]}


async def test_remember_costs_nothing_when_the_chat_plan_noted_no_fact():
    llm, memory = ScriptedModel(), RecordingMemory(KNOWN)
    state = {**request("x"), "route": routed("CHAT_RESPONSE"), "plan": {**PLAN, "memories_to_save": []}}

    update = await remember(state, runtime_for(llm, memory))

    assert llm.calls == [] and memory.asked == [] and memory.applied == []
    assert update == {"remembered": {"saved": 0}, "usage": []}


async def test_remember_asks_the_model_without_a_chat_plan():
    facts = [f"fact {n}" for n in range(MAX_MEMORIES + 2)]
    llm, memory = ScriptedModel(memories=[{"memories_to_save": facts}]), RecordingMemory()
    # The planner ran beside the router (noting nothing), but off the chat route its plan is dropped.
    state = {
        **request("허리 디스크가 있어요. 새 루틴 짜줘", request_id="req-10"),
        "route": routed("GENERATE_ROUTINE"),
        "plan": {**PLAN, "memories_to_save": []},
    }

    update = await remember(state, runtime_for(llm, memory))

    assert llm.steps() == ["extract_memories"]
    # Without a plan the message itself is what the nearest memories are found for.
    assert memory.asked == [(DEMO_USER, ["허리 디스크가 있어요. 새 루틴 짜줘"])]
    assert update == {"remembered": {"saved": MAX_MEMORIES}, "usage": [scripted_usage("remember")]}
    [(_, changes)] = memory.applied
    assert [key for key, _ in changes.add] == [f"req-10:{n}" for n in range(MAX_MEMORIES)]


async def test_remember_reports_a_failed_extraction_with_its_cost():
    llm, memory = ScriptedModel(memories=[malformed([scripted_usage("remember")])]), RecordingMemory()
    state = {**request("x"), "route": routed("UPDATE_ROUTINE")}
    update = await remember(state, runtime_for(llm, memory))
    assert update == {
        "remembered": {"saved": 0, "error": "LLM_MALFORMED_OUTPUT"},
        "usage": [scripted_usage("remember")],
    }
    assert memory.applied == []


async def test_the_scripted_model_refuses_an_unscripted_call():
    with pytest.raises(AssertionError, match="route more often than scripted"):
        await route_intent(request("x"), runtime_for(ScriptedModel()))
    assert ScriptedModel.name == MODEL
