"""On the Gemini path, what the user asked comes from Gemini's own structured router output (`asked`),
never from a reading of ours, and the nodes hold Gemini's program and update to it: stated
equipment, full body, injuries (repaired and said in `avoided`), moves. Against the stand-in."""

from __future__ import annotations

import copy

import pytest

from app.runner import handle
from standins.gemini import Reply
from tests.conftest import request
from tests.gemini_support import by_schema, memories

pytestmark = pytest.mark.integration

MESSAGE = "a brand new 3-day full body program for fat loss? I only have dumbbells at home. My left knee hurts."
ASKED = {
    "days_per_week": 3,
    "goal": "FAT_LOSS",
    "split": "FULL_BODY",
    "equipment": ["DUMBBELL", "BODYWEIGHT"],
    "injuries": [{"area": "left knee", "muscles": ["LEGS"]}],
}


def routed(intent: str, asked: dict) -> Reply:
    return Reply.json({"intent": intent, "confidence": 0.93, "reason": "scripted", "search_terms": [], "asked": asked})


def full_body_day(order: int, extra: list[dict] | None = None) -> dict:
    plans = [
        {"exercise_code": "DUMBBELL_BENCH_PRESS", "exercise_name": "Dumbbell Bench Press", "sets": 3, "reps": 12},
        {"exercise_code": "ONE_ARM_DUMBBELL_ROW", "exercise_name": "One-arm Dumbbell Row", "sets": 3, "reps": 12},
        {"exercise_code": "GLUTE_BRIDGE", "exercise_name": "Glute Bridge", "sets": 3, "reps": 12},
        {"exercise_code": "DUMBBELL_LATERAL_RAISE", "exercise_name": "Dumbbell Lateral Raise", "sets": 3, "reps": 12},
    ]
    return {"routine_name": f"Full Body {order}", "routine_order": order, "plans": plans + (extra or [])}


def program(*routines: dict) -> dict:
    return {
        "program_name": "3-day full body",
        "goal": "FAT_LOSS",
        "weeks": 4,
        "days_per_week": len(routines),
        "experience_level": "INTERMEDIATE",
        "routines": list(routines),
        "notes": "",
    }


GOBLET = {"exercise_code": "GOBLET_SQUAT", "exercise_name": "Goblet Squat", "sets": 3, "reps": 12}
PULL_UP = {"exercise_code": "PULL_UP", "exercise_name": "Pull-up", "sets": 3, "reps": 8}


async def test_the_router_is_asked_for_what_the_user_asked(gemini, gemini_deps, events):
    gemini.script(routed("GENERATE_ROUTINE", ASKED), Reply.json(program(*map(full_body_day, (1, 2, 3)))), memories())
    await handle(request(MESSAGE), gemini_deps())
    router = by_schema(gemini, "RouteDecision")
    schema = router.generation_config["responseJsonSchema"]
    assert "asked" in schema["properties"] and "injuries" in str(schema) and "PULL_UP_BAR" in str(schema)
    # The program prompt carries Gemini's own reading, which the checks compare with.
    generate = by_schema(gemini, "Program")
    assert "What the user asked" in generate.user_text and '"FULL_BODY"' in generate.user_text
    assert "left knee" in generate.user_text
    assert events.results[0].status == "SUCCEEDED"


async def test_a_program_loading_the_injured_knee_is_repaired_and_says_so(gemini, gemini_deps, events):
    days = [full_body_day(n, [GOBLET]) for n in (1, 2, 3)]
    gemini.script(routed("GENERATE_ROUTINE", ASKED), Reply.json(program(*days)), memories())
    await handle(request(MESSAGE), gemini_deps())
    [result] = events.results
    assert result.status == "SUCCEEDED"
    built = result.final["program"]
    assert "GOBLET_SQUAT" not in {p["exercise_code"] for r in built["routines"] for p in r["plans"]}
    assert built["avoided"] == [{"area": "left knee", "muscles": ["LEGS"]}]


@pytest.mark.parametrize(
    "days, complaint",
    [
        ([full_body_day(1, [PULL_UP]), full_body_day(2), full_body_day(3)], "equipment the user does not have"),
        ([full_body_day(1), full_body_day(2)], "asked for 3 days a week"),
        (
            [{**full_body_day(n), "plans": full_body_day(n)["plans"][:2]} for n in (1, 2, 3)],
            "full-body days",
        ),
    ],
    ids=["pull-up with dumbbells only", "two days for three", "split for full body"],
)
async def test_a_program_breaking_what_gemini_read_is_refused(gemini, gemini_deps, events, days, complaint):
    gemini.script(routed("GENERATE_ROUTINE", ASKED), Reply.json(program(*days)), memories())
    await handle(request(MESSAGE), gemini_deps())
    [result] = events.results
    assert result.status == "FAILED" and result.error.code == "LLM_MALFORMED_OUTPUT"
    assert complaint in result.error.message


async def test_an_update_may_move_a_routine(gemini, gemini_deps, events, vm):
    [legs] = [r for r in await vm.get_active_routines("user-67890") if r["routine_order"] == 3]
    moved = copy.deepcopy(legs)
    moved["routine_order"] = 1
    update = {
        "routine_name": legs["routine_name"],
        "routine_order": 3,
        "changes": [{"op": "move", "exercise_code": "", "field": "routine_order", "before": 3, "after": 1}],
        "updated_routine": moved,
        "summary": "하체 루틴을 첫 번째로 옮겼어요.",
    }
    gemini.script(routed("UPDATE_ROUTINE", {}), Reply.json(update), memories())
    await handle(request("하체를 첫 번째로 옮겨줘"), gemini_deps())
    [result] = events.results
    assert result.status == "SUCCEEDED" and result.final["routine_update"]["changes"][0]["op"] == "move"


async def test_an_update_adding_load_on_a_hurt_shoulder_is_refused(gemini, gemini_deps, events, vm):
    [push] = [r for r in await vm.get_active_routines("user-67890") if r["routine_order"] == 1]
    heavier = copy.deepcopy(push)
    press = next(p for p in heavier["plans"] if p["exercise_code"] == "OVERHEAD_PRESS")
    press["weight_kg"] = 45
    update = {
        "routine_name": push["routine_name"],
        "routine_order": 1,
        "changes": [
            {"op": "modify", "exercise_code": "OVERHEAD_PRESS", "field": "weight_kg", "before": 40, "after": 45}
        ],
        "updated_routine": heavier,
        "summary": "오버헤드 프레스를 45kg으로 올렸어요.",
    }
    asked = {"injuries": [{"area": "어깨", "muscles": ["SHOULDERS"]}]}
    gemini.script(routed("UPDATE_ROUTINE", asked), Reply.json(update), memories("어깨가 아파요"))
    await handle(request("어깨가 좀 아픈데 오버헤드 프레스 45로 올려줘"), gemini_deps())
    [result] = events.results
    # The exercise's muscle comes from the catalog the update was given (its name was searched).
    assert result.status == "FAILED" and "injured area" in result.error.message


async def test_a_pain_question_reaches_gemini_with_safety_rules_memory_and_the_area(
    gemini, gemini_deps, events, memory
):
    await memory.add("user-67890", [("m1", "어깨가 아파서 무거운 프레스는 피하고 있어요")])
    plan = {
        "action": "SEARCH_EXERCISES",
        "required_context": ["exercise_catalog", "active_routines", "user_memory"],
        "search_terms": ["어깨"],
        "memory_query": "어깨 통증",
        "memories_to_save": [],
    }
    answer = "어깨 통증이 있으면 안전이 먼저예요. 오버헤드 프레스는 오늘 빼세요."
    # The planner runs beside the router, in no fixed order: its reply is its own.
    gemini.script(routed("CHAT_RESPONSE", {}), Reply.json(plan, only_for="ChatPlan"), Reply.answer(answer))
    await handle(request("어깨가 좀 아픈데 오늘 푸쉬 운동 해도 될까?"), gemini_deps())
    [result] = events.results
    assert result.status == "SUCCEEDED" and result.final["reply"] == answer
    chat = next(r for r in gemini.requests if r.method == "streamGenerateContent")
    assert "Pain or an" in chat.system_text and "joint-sparing substitute" in chat.system_text
    assert "무거운 프레스는 피하고" in chat.user_text and "OVERHEAD_PRESS" not in chat.system_text
    assert "Dumbbell Lateral Raise" in chat.user_text  # the hurt area's catalog exercises, for substitutes


def test_an_odd_field_of_the_reading_counts_as_unstated_not_as_an_unusable_route():
    from core.schemas import RouteDecision

    decision = RouteDecision.model_validate(
        {"intent": "GENERATE_ROUTINE", "confidence": 0.9, "asked": {"days_per_week": 0, "goal": "BULK", "weeks": 6}}
    )
    assert decision.intent == "GENERATE_ROUTINE"
    assert decision.asked.model_dump(exclude_defaults=True) == {"weeks": 6}
