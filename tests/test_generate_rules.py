"""GENERATE honours the request: days per week, weeks, goal and equipment from the message (or
the turns it answers), volume from experience, exercises only from the catalog the VM search
returned. And the generate_routine node refuses any provider's program that breaks those rules."""

from __future__ import annotations

from dataclasses import replace

import pytest
from langgraph.runtime import Runtime

from adapters.llm.base import Generated
from core.errors import LLMMalformedOutput
from core.schemas import Program
from graph.context import Context
from nodes.gather_context import gather_context
from nodes.generate_routine import generate_routine
from tests.conftest import DEMO_USER, OTHER_USER, request

# Rep ranges per goal, as the generate_program prompt states them (strength 3–6, hypertrophy 8–12,
# fat loss / general fitness 10–15).
REP_RANGES = {"STRENGTH": (3, 6), "HYPERTROPHY": (8, 12), "FAT_LOSS": (10, 15), "GENERAL_FITNESS": (10, 15)}
MAX_SETS = {"BEGINNER": 3, "INTERMEDIATE": 4, "ADVANCED": 5}


def convo(*turns: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"] if len(turns) % 2 else ["assistant", "user"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


def generate_route(asked: dict) -> dict:
    return {
        "intent": "GENERATE_ROUTINE",
        "confidence": 0.9,
        "proposed": "GENERATE_ROUTINE",
        "reason": "test",
        "search_terms": [],
        "asked": asked,
    }


async def generated(runtime, conversation, user=DEMO_USER) -> tuple[dict, Program]:
    """The offline provider's program for what its router read the user asked."""
    state = request(conversation, user_id=user)
    routed = await runtime.context.llm.route(state["conversation_history"])
    state = {**state, "route": generate_route(routed.value.asked.model_dump(exclude_defaults=True))}
    state = {**state, **(await gather_context(state, runtime))}
    update = await generate_routine(state, runtime)
    return state["context"], Program.model_validate(update["final"]["program"])


def equipment_of(context: dict, program: Program) -> set[str]:
    catalog = {i["exercise_code"]: i for i in context["exercise_catalog"]}
    return {catalog[p.exercise_code]["equipment"] for r in program.routines for p in r.plans}


def total_sets(program: Program) -> int:
    return sum(p.sets for r in program.routines for p in r.plans)


@pytest.mark.parametrize(
    "message, days",
    [
        ("주 4회 근비대 프로그램 짜줘", 4),
        ("일주일에 두 번만 운동할 수 있어. 루틴 짜줘", 2),
        ("5분할 루틴 새로 만들어줘", 5),
        ("build me a 5 day split", 5),
        ("I can only train twice a week, make me a program", 2),
        ("new plan please, 6 days a week", 6),
    ],
)
async def test_days_per_week_are_honoured(runtime, message, days):
    _, program = await generated(runtime, message)
    assert program.days_per_week == days == len(program.routines)
    assert [r.routine_order for r in program.routines] == list(range(1, days + 1))
    assert all(r.plans for r in program.routines)


@pytest.mark.parametrize(
    "message, weeks",
    [
        ("6주짜리 프로그램 만들어줘", 6),
        ("두 달짜리 루틴 짜줘", 8),
        ("plan me a 12-week program", 12),
        ("a 3 month strength program please", 12),
    ],
)
async def test_weeks_are_honoured(runtime, message, weeks):
    _, program = await generated(runtime, message)
    assert program.weeks == weeks


@pytest.mark.parametrize(
    "message, goal",
    [
        ("다이어트용 프로그램 짜줘", "FAT_LOSS"),
        ("근력 키우는 프로그램 만들어줘", "STRENGTH"),
        ("build me a fat loss routine", "FAT_LOSS"),
        ("a strength program please", "STRENGTH"),
        ("hypertrophy program please", "HYPERTROPHY"),
    ],
)
async def test_goal_in_the_message_sets_goal_and_reps(runtime, message, goal):
    _, program = await generated(runtime, message)  # Alex's profile goal is HYPERTROPHY
    low, high = REP_RANGES[goal]
    assert program.goal == goal
    assert all(low <= p.reps <= high for r in program.routines for p in r.plans)


async def test_goal_falls_back_to_the_profile(runtime):
    _, minji = await generated(runtime, "새 프로그램 짜줘", user=OTHER_USER)
    _, alex = await generated(runtime, "새 프로그램 짜줘")
    assert (minji.goal, alex.goal) == ("STRENGTH", "HYPERTROPHY")


@pytest.mark.parametrize(
    "message, allowed",
    [
        ("덤벨만 있어. 주 3회 루틴 짜줘", {"DUMBBELL", "BODYWEIGHT"}),
        ("맨몸으로만 하는 프로그램 만들어줘", {"BODYWEIGHT"}),
        ("create a program with just dumbbells, 4 days a week", {"DUMBBELL", "BODYWEIGHT"}),
        ("bodyweight only plan please", {"BODYWEIGHT"}),
        ("바벨 없이 프로그램 짜줘", {"DUMBBELL", "CABLE", "MACHINE", "BODYWEIGHT", "PULL_UP_BAR"}),
    ],
)
async def test_equipment_in_the_message_is_honoured(runtime, message, allowed):
    context, program = await generated(runtime, message)
    assert equipment_of(context, program) <= allowed
    assert all(r.plans for r in program.routines)  # a sparse catalog still fills every day


async def test_equipment_falls_back_to_the_profile(runtime):
    context, program = await generated(runtime, "새 루틴 짜줘", user=OTHER_USER)  # barbell, dumbbell, bodyweight
    assert equipment_of(context, program) <= {"BARBELL", "DUMBBELL", "BODYWEIGHT"}


async def test_experience_changes_volume(runtime):
    _, beginner = await generated(runtime, "주 3회 근비대 프로그램 짜줘", user=OTHER_USER)  # BEGINNER
    _, intermediate = await generated(runtime, "주 3회 근비대 프로그램 짜줘")  # INTERMEDIATE
    _, advanced = await generated(runtime, "상급자용 주 3회 근비대 프로그램 짜줘")
    assert [p.experience_level for p in (beginner, intermediate, advanced)] == ["BEGINNER", "INTERMEDIATE", "ADVANCED"]
    assert total_sets(beginner) < total_sets(intermediate) < total_sets(advanced)
    for program in (beginner, intermediate, advanced):
        assert max(p.sets for r in program.routines for p in r.plans) <= MAX_SETS[program.experience_level]


async def test_level_stated_in_the_message_wins_over_the_profile(runtime):
    _, program = await generated(runtime, "build a beginner program for me, 3 days a week")
    assert program.experience_level == "BEGINNER"  # Alex's profile says INTERMEDIATE
    assert max(p.sets for r in program.routines for p in r.plans) <= MAX_SETS["BEGINNER"]


async def test_every_exercise_comes_from_the_catalog_search(runtime, vm):
    _context, program = await generated(runtime, "새 4주 근비대 프로그램 만들어줘")
    for routine in program.routines:
        for plan in routine.plans:
            # Looked up again through the VM API's own search, by the name the program gives it.
            found = await vm.search_exercises(plan.exercise_name)
            assert plan.exercise_code in {i["exercise_code"] for i in found}


async def test_a_reply_builds_what_the_coach_proposed(runtime):
    _, korean = await generated(
        runtime,
        convo("요즘 주 4회 운동할 수 있게 됐어", "그럼 상하체 4분할로 새 프로그램을 짜 드릴까요?", "좋아, 그렇게 짜줘"),
    )
    assert korean.days_per_week == 4 and korean.routines[0].routine_name.endswith("상체 A")
    _, english = await generated(
        runtime,
        convo(
            "I want to get stronger", "I can build you a new 8-week strength program, 3 days a week. Want that?", "yes"
        ),
    )
    assert (english.days_per_week, english.weeks, english.goal) == (3, 8, "STRENGTH")
    assert all(p.exercise_name.isascii() for r in english.routines for p in r.plans)  # the user's language


# --- the node's checks, for any provider ---------------------------------------------------------


class FixedProgram:
    """A provider that returns a given program: what a remote model might send back."""

    name = "fixed"

    def __init__(self, program: Program):
        self.program = program

    async def generate_program(self, conversation, context):
        return Generated(self.program)


def mutate(program: Program, change) -> Program:
    data = program.model_dump()
    change(data)
    return Program.model_validate(data)


def _set_first_sets(data, sets):
    data["routines"][0]["plans"][0]["sets"] = sets


def _use_machine(data):
    data["routines"][0]["plans"][0]["exercise_code"] = "LEG_PRESS"


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda d: d.update(days_per_week=3, routines=d["routines"][:3]), "asked for 4 days a week"),
        (lambda d: d.update(weeks=8), "asked for 6 weeks"),
        (lambda d: d.update(days_per_week=3), "says 3 days a week but has 4 routines"),
        (lambda d: d.update(goal="STRENGTH"), "the goal is HYPERTROPHY"),
        (lambda d: d.update(experience_level="ADVANCED"), "the user is INTERMEDIATE"),
        (lambda d: _set_first_sets(d, 6), "at most 4 sets"),
        (lambda d: d["routines"][1]["plans"].append(dict(d["routines"][1]["plans"][0])), "same exercise twice"),
        (lambda d: d["routines"][2].update(routine_order=7), "routine_order"),
        (lambda d: d["routines"][3].update(plans=[]), "without exercises"),
        (_use_machine, "equipment the user does not have"),
    ],
)
async def test_the_node_refuses_a_program_that_breaks_a_rule(runtime, context, change, complaint):
    message = "덤벨만 있어. 6주 근비대 프로그램, 주 4회로 짜줘"
    asked = {"days_per_week": 4, "weeks": 6, "goal": "HYPERTROPHY", "equipment": ["DUMBBELL", "BODYWEIGHT"]}
    state = {**request(message), "route": generate_route(asked)}
    state = {**state, **(await gather_context(state, runtime))}
    good = Program.model_validate((await generate_routine(state, runtime))["final"]["program"])
    bad = mutate(good, change)
    fixed = Runtime(
        context=Context(
            llm=FixedProgram(bad),
            vm=context.vm,
            memory=context.memory,
            min_confidence=0.5,
            catalog_max_searches=8,
            memory_top_k=5,
        )
    )
    with pytest.raises(LLMMalformedOutput, match=complaint):
        await generate_routine(state, fixed)
    accepted = await generate_routine(
        state,
        Runtime(
            context=Context(
                llm=FixedProgram(good),
                vm=context.vm,
                memory=context.memory,
                min_confidence=0.5,
                catalog_max_searches=8,
                memory_top_k=5,
            )
        ),
    )
    assert accepted["status"] == "SUCCEEDED"


# --- stated constraints and pain ------------------------------------------------------------------


def muscles_of(context: dict, program: Program) -> list[set[str]]:
    catalog = {i["exercise_code"]: i for i in context["exercise_catalog"]}
    return [{catalog[p.exercise_code]["main_muscle_code"] for p in r.plans} for r in program.routines]


@pytest.mark.parametrize(
    "message", ["주 3일 전신 프로그램 새로 짜줘", "a brand new 3-day full body program for fat loss please"]
)
async def test_full_body_means_every_day_trains_upper_and_lower_body(runtime, message):
    context, program = await generated(runtime, message)
    assert program.days_per_week == 3
    for muscles in muscles_of(context, program):
        assert muscles & {"LEGS", "GLUTES"} and len(muscles & {"CHEST", "BACK", "SHOULDERS"}) >= 2


async def test_dumbbells_at_home_means_no_bar_machine_cable_or_pull_up_bar(runtime):
    message = "a brand new 3-day full body program for fat loss? I only have dumbbells at home."
    context, program = await generated(runtime, message)  # Alex's profile lists a gym, pull-up bar included
    assert equipment_of(context, program) <= {"DUMBBELL", "BODYWEIGHT"}
    assert (program.goal, program.days_per_week) == ("FAT_LOSS", 3)


async def test_no_near_duplicate_exercises_in_a_day(runtime):
    from core.catalog import movement

    for message in ("주 5회 근비대 프로그램 짜줘", "주 3회 상급자 프로그램 짜줘", "build me a 4 day split"):
        context, program = await generated(runtime, message)
        catalog = {i["exercise_code"]: i for i in context["exercise_catalog"]}
        for routine in program.routines:
            moves = [movement(catalog[p.exercise_code]) for p in routine.plans]
            assert len(moves) == len(set(moves)), routine.routine_name


@pytest.mark.parametrize(
    "message, muscle, area",
    [
        ("무릎이 아파서 무릎에 부담 없는 주 3회 프로그램 짜줘", "LEGS", "무릎"),
        ("I hurt my shoulder, build me a new 4 day program", "SHOULDERS", "shoulder"),
    ],
)
async def test_a_program_spares_an_injury_in_the_request_and_says_so(runtime, message, muscle, area):
    context, program = await generated(runtime, message)
    assert all(muscle not in muscles for muscles in muscles_of(context, program))
    assert [(i.area, i.muscles) for i in program.avoided] == [(area, [muscle])]
    assert area in program.notes


async def test_a_program_spares_an_injury_from_memory(runtime, memory):
    await memory.add(DEMO_USER, [("m1", "어깨가 아파서 머리 위로 드는 운동은 힘들어요")])
    context, program = await generated(runtime, "주 5회 새 프로그램 짜줘")
    assert all("SHOULDERS" not in muscles for muscles in muscles_of(context, program))
    assert [i.muscles for i in program.avoided] == [["SHOULDERS"]]


async def checked(runtime, context, program: Program, asked: dict) -> dict:
    """The generate_routine node's verdict on a given provider program for this router reading."""
    state = {**request("x"), "route": generate_route(asked)}
    state = {**state, **(await gather_context(state, runtime))}
    return await generate_routine(state, Runtime(context=replace(context, llm=FixedProgram(program))))


async def test_the_node_repairs_a_program_that_loads_an_injured_area(runtime, context):
    _, good = await generated(runtime, "주 3회 근비대 프로그램 짜줘")
    asked = {"days_per_week": 3, "goal": "HYPERTROPHY", "injuries": [{"area": "left knee", "muscles": ["LEGS"]}]}
    data = mutate(
        good, lambda d: d["routines"][0]["plans"].append({"exercise_code": "LEG_PRESS", "sets": 3, "reps": 10})
    )
    result = await checked(runtime, context, data, asked)
    program = result["final"]["program"]
    codes = [p["exercise_code"] for r in program["routines"] for p in r["plans"]]
    assert "LEG_PRESS" not in codes and "BARBELL_BACK_SQUAT" not in codes
    assert program["avoided"] == [{"area": "left knee", "muscles": ["LEGS"]}]


@pytest.mark.parametrize(
    "asked, change, complaint",
    [
        (
            {"injuries": [{"area": "knee", "muscles": ["LEGS"]}]},
            lambda d: d["routines"][2].update(plans=[{"exercise_code": "LEG_PRESS", "sets": 3, "reps": 10}]),
            "only loads an injured area",
        ),
        (
            {},
            lambda d: d["routines"][0]["plans"].append(
                {"exercise_code": "DUMBBELL_BENCH_PRESS", "sets": 3, "reps": 10}
            ),
            "near-duplicate",
        ),
        ({"split": "FULL_BODY"}, lambda d: None, "full-body days"),
        ({"equipment": ["DUMBBELL", "BODYWEIGHT"]}, lambda d: None, "equipment the user does not have"),
    ],
)
async def test_the_node_refuses_what_breaks_a_stated_constraint(runtime, context, asked, change, complaint):
    _, good = await generated(runtime, "주 3회 근비대 프로그램 짜줘")  # push / pull / legs, barbell first
    with pytest.raises(LLMMalformedOutput, match=complaint):
        await checked(runtime, context, mutate(good, change), {"days_per_week": 3, **asked})
