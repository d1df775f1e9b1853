"""UPDATE applies exactly the requested change — swap, add, remove, sets/reps/weight — to the right
routine, leaves everything else as it was, and says what it did as a machine-readable diff. The
update_routine node refuses any provider's update whose routine does not match its declared diff."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from langgraph.runtime import Runtime

from adapters.llm.base import Generated
from core.errors import LLMMalformedOutput
from core.schemas import RoutineChange, RoutineUpdate
from graph.context import Context
from nodes.gather_context import gather_context
from nodes.update_routine import update_routine
from tests.conftest import DEMO_USER, OTHER_USER, request


def convo(*turns: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"] if len(turns) % 2 else ["assistant", "user"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


async def updated(runtime, llm, conversation, user=DEMO_USER) -> tuple[list[dict], dict]:
    """The real flow: the router's search terms → gather_context → update_routine."""
    state = request(conversation, user_id=user)
    decision = (await llm.route(state["conversation_history"])).value
    state = {
        **state,
        "route": {
            "intent": "UPDATE_ROUTINE",
            "confidence": decision.confidence,
            "proposed": decision.intent,
            "reason": "",
            "search_terms": decision.search_terms,
            "asked": decision.asked.model_dump(exclude_defaults=True),
        },
    }
    state = {**state, **(await gather_context(state, runtime))}
    before = copy.deepcopy(state["context"]["active_routines"])
    result = await update_routine(state, runtime)
    return before, result["final"]["routine_update"]


def routine(routines: list[dict], name: str) -> dict:
    return next(r for r in routines if r["routine_name"] == name)


def codes(plans: list[dict]) -> list[str]:
    return [p["exercise_code"] for p in plans]


def without(plans: list[dict], code: str) -> list[dict]:
    """The plans other than `code`, as they were (display names aside)."""
    return [{k: v for k, v in p.items() if k != "exercise_name"} for p in plans if p["exercise_code"] != code]


def assert_diff_is_machine_readable(update: dict) -> None:
    assert update["changes"] and all(RoutineChange.model_validate(c) for c in update["changes"])
    assert update["summary"].strip()


@pytest.mark.parametrize(
    "message, day, old, new",
    [
        ("풀데이에서 바벨 로우를 티바 로우로 바꿔줘", "Pull Day A", "BARBELL_ROW", "T_BAR_ROW"),
        ("레그데이 레그컬 빼고 힙 쓰러스트 넣어줘", "Leg Day A", "LEG_CURL", "HIP_THRUST"),
        ("덤벨 컬을 해머 컬로 교체해줘", "Pull Day A", "DUMBBELL_CURL", "HAMMER_CURL"),
        ("swap barbell rows for cable rows on pull day", "Pull Day A", "BARBELL_ROW", "SEATED_CABLE_ROW"),
        (
            "replace overhead press with dumbbell shoulder press",
            "Push Day A",
            "OVERHEAD_PRESS",
            "DUMBBELL_SHOULDER_PRESS",
        ),
    ],
)
async def test_swap_replaces_one_exercise_in_place(runtime, llm, message, day, old, new):
    before, update = await updated(runtime, llm, message)
    original = routine(before, day)["plans"]
    after = update["updated_routine"]["plans"]
    assert update["routine_name"] == day
    assert update["changes"] == [{"op": "swap", "exercise_code": old, "new_exercise_code": new}]
    index = codes(original).index(old)
    assert codes(after) == [*codes(original)[:index], new, *codes(original)[index + 1 :]]
    assert (after[index]["sets"], after[index]["reps"]) == (original[index]["sets"], original[index]["reps"])
    assert without(after, new) == without(original, old)
    assert_diff_is_machine_readable(update)


@pytest.mark.parametrize(
    "message, day, new, sets, reps",
    [
        ("레그데이에 워킹 런지 4세트 10회 추가해줘", "Leg Day A", "WALKING_LUNGE", 4, 10),
        ("푸쉬데이에 딥스 넣어줘", "Push Day A", "CHEST_DIP", None, None),
        ("add face pulls to push day", "Push Day A", "FACE_PULL", None, None),
        ("add 2 sets of 15 reps of hammer curls to my pull day", "Pull Day A", "HAMMER_CURL", 2, 15),
    ],
)
async def test_add_appends_one_exercise(runtime, llm, message, day, new, sets, reps):
    before, update = await updated(runtime, llm, message)
    original = routine(before, day)["plans"]
    after = update["updated_routine"]["plans"]
    assert update["routine_name"] == day and update["changes"] == [{"op": "add", "exercise_code": new}]
    assert codes(after) == [*codes(original), new]
    if sets is not None:
        assert (after[-1]["sets"], after[-1]["reps"]) == (sets, reps)
    assert without(after, new) == without(original, new)
    assert_diff_is_machine_readable(update)


@pytest.mark.parametrize(
    "message, day, gone",
    [
        ("풀데이에서 덤벨 컬 빼줘", "Pull Day A", "DUMBBELL_CURL"),
        ("카프 레이즈 삭제해줘", "Leg Day A", "STANDING_CALF_RAISE"),
        ("take the leg curls out of leg day", "Leg Day A", "LEG_CURL"),
        ("remove deadlifts from my routine", "Pull Day A", "DEADLIFT"),  # not the Romanian deadlift
    ],
)
async def test_remove_takes_out_exactly_one_exercise(runtime, llm, message, day, gone):
    before, update = await updated(runtime, llm, message)
    original = routine(before, day)["plans"]
    after = update["updated_routine"]["plans"]
    assert update["routine_name"] == day and update["changes"] == [{"op": "remove", "exercise_code": gone}]
    assert without(after, gone) == without(original, gone) and gone not in codes(after)
    assert_diff_is_machine_readable(update)


@pytest.mark.parametrize(
    "message, day, code, field, value",
    [
        # absolute targets
        ("스쿼트 세트 5세트로 늘려줘", "Leg Day A", "BARBELL_BACK_SQUAT", "sets", 5),
        ("랫풀다운 15회로 바꿔줘", "Pull Day A", "LAT_PULLDOWN", "reps", 15),
        ("데드리프트 무게를 130kg으로 올려줘", "Pull Day A", "DEADLIFT", "weight_kg", 130),
        ("change bench press to 5 sets", "Push Day A", "BARBELL_BENCH_PRESS", "sets", 5),
        ("make squats 8 reps", "Leg Day A", "BARBELL_BACK_SQUAT", "reps", 8),
        ("lower my squat weight to 90kg", "Leg Day A", "BARBELL_BACK_SQUAT", "weight_kg", 90),
        ("스쿼트 6회에서 8회로 바꿔줘", "Leg Day A", "BARBELL_BACK_SQUAT", "reps", 8),  # not a swap to front squat
        # steps relative to the current value
        ("벤치프레스 5kg 올려줘", "Push Day A", "BARBELL_BENCH_PRESS", "weight_kg", 75),
        ("오버헤드 프레스 세트 하나 줄여줘", "Push Day A", "OVERHEAD_PRESS", "sets", 2),
        ("drop the deadlift weight by 10kg", "Pull Day A", "DEADLIFT", "weight_kg", 110),
        ("add one more set of pull-ups", "Pull Day A", "PULL_UP", "sets", 5),
    ],
)
async def test_modify_changes_one_field_of_one_exercise(runtime, llm, message, day, code, field, value):
    before, update = await updated(runtime, llm, message)
    original = routine(before, day)["plans"]
    after = update["updated_routine"]["plans"]
    old = next(p for p in original if p["exercise_code"] == code)
    new = next(p for p in after if p["exercise_code"] == code)
    assert update["routine_name"] == day
    assert update["changes"] == [
        {"op": "modify", "exercise_code": code, "field": field, "before": old[field], "after": value}
    ]
    assert new[field] == value
    assert {k: v for k, v in new.items() if k != field} == {k: v for k, v in old.items() if k != field}
    assert codes(after) == codes(original) and without(after, code) == without(original, code)
    assert_diff_is_machine_readable(update)


async def test_several_fields_at_once(runtime, llm):
    _before, update = await updated(runtime, llm, "change bench to 5 sets of 5")
    assert [(c["field"], c["before"], c["after"]) for c in update["changes"]] == [("sets", 4, 5), ("reps", 8, 5)]
    bench = update["updated_routine"]["plans"][0]
    assert (bench["sets"], bench["reps"], bench["weight_kg"]) == (5, 5, 70)


async def test_the_routine_named_or_holding_the_exercise_is_the_one_changed(runtime, llm):
    _, by_day = await updated(runtime, llm, "레그데이에 플랭크 추가해줘")
    assert by_day["routine_name"] == "Leg Day A"
    _, by_exercise = await updated(runtime, llm, "덤벨 숄더 프레스 무게 10kg으로 올려줘", user=OTHER_USER)
    assert by_exercise["routine_name"] == "Full Body B"  # Minji's routine that has it
    assert by_exercise["changes"][0]["before"] == 8


@pytest.mark.parametrize(
    "conversation, day, change",
    [
        (
            convo(
                "벤치할 때 어깨가 좀 아파",
                "그러면 푸쉬데이의 바벨 벤치프레스를 덤벨 벤치프레스로 바꿔 볼까요? 어깨 부담이 덜해요.",
                "응 그걸로 바꿔줘",
            ),
            "Push Day A",
            {"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"},
        ),
        (
            convo(
                "my lower back hurts after deadlifts",
                "Want me to replace deadlifts with rack pulls on your pull day?",
                "yes please",
            ),
            "Pull Day A",
            {"op": "swap", "exercise_code": "DEADLIFT", "new_exercise_code": "RACK_PULL"},
        ),
        (
            convo("레그데이가 너무 길어", "스탠딩 카프 레이즈를 빼면 10분 정도 줄어요. 빼 드릴까요?", "ㅇㅋ"),
            "Leg Day A",
            {"op": "remove", "exercise_code": "STANDING_CALF_RAISE"},
        ),
        (
            convo(
                "랫풀다운 50kg 너무 가벼워졌어", "랫풀다운 무게를 55kg으로 올리는 게 좋겠어요. 반영할까요?", "웅 ㄱㄱ"
            ),
            "Pull Day A",
            {"op": "modify", "exercise_code": "LAT_PULLDOWN", "field": "weight_kg", "before": 50, "after": 55},
        ),
    ],
)
async def test_an_accepted_proposal_is_applied(runtime, llm, conversation, day, change):
    _, update = await updated(runtime, llm, conversation)
    assert update["routine_name"] == day and update["changes"] == [change]


async def test_summary_speaks_the_users_language(runtime, llm):
    _, korean = await updated(runtime, llm, "데드리프트 빼주세요")
    _, english = await updated(runtime, llm, "remove deadlifts from my routine")
    assert korean["summary"] == "Pull Day A에서 데드리프트를 뺐어요."
    assert english["summary"] == "Removed Deadlift from Pull Day A."


@pytest.mark.parametrize(
    "message, asks, example",
    [
        (
            "레그데이에서 레그 익스텐션 빼줘",
            "어떤 루틴(Push Day A, Pull Day A, Leg Day A)의 어떤 운동을",
            "바벨 벤치프레스",
        ),
        ("루틴 좀 바꿔줘", "어떤 루틴(Push Day A, Pull Day A, Leg Day A)의 어떤 운동을", "바벨 벤치프레스"),
        (
            "change some stuff in my routine",
            "Which exercise in which routine (Push Day A, Pull Day A, Leg Day A)",
            "Barbell Bench Press",
        ),
    ],
)
async def test_a_change_it_cannot_read_is_asked_about_not_guessed(runtime, llm, message, asks, example):
    state = request(message)
    state = {
        **state,
        "route": {
            "intent": "UPDATE_ROUTINE",
            "confidence": 0.9,
            "proposed": "UPDATE_ROUTINE",
            "reason": "",
            "search_terms": [],
        },
    }
    state = {**state, **(await gather_context(state, runtime))}
    result = await update_routine(state, runtime)
    assert result["status"] == "CLARIFY" and "routine_update" not in result["final"]
    assert asks in result["final"]["question"] and example in result["final"]["question"]


# --- the node's diff check, for any provider ------------------------------------------------------


class FixedUpdate:
    name = "fixed"

    def __init__(self, update: RoutineUpdate):
        self.update = update

    async def update_routine(self, conversation, context):
        return Generated(self.update)


def push_day(vm_routines: list[dict]) -> dict:
    return copy.deepcopy(routine(vm_routines, "Push Day A"))


def swap_bench(plans: list[dict]) -> None:
    plans[0] = {
        "exercise_code": "DUMBBELL_BENCH_PRESS",
        "exercise_name": "Dumbbell Bench Press",
        "sets": plans[0]["sets"],
        "reps": plans[0]["reps"],
    }


SWAP = [{"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}]


def _also_change_reps(plans):
    swap_bench(plans)
    plans[2]["reps"] = 12  # the overhead press, never mentioned


def _reorder(plans):
    swap_bench(plans)
    plans[1], plans[2] = plans[2], plans[1]


def _drop_rest(plans):
    swap_bench(plans)
    plans[3]["tempo"] = "3-1-1"


@pytest.mark.parametrize(
    "edit, changes, complaint",
    [
        (_also_change_reps, SWAP, "OVERHEAD_PRESS reps changed 8 → 12"),
        (_reorder, SWAP, "changed their order"),
        (_drop_rest, SWAP, "tempo changed"),
        (swap_bench, [{"op": "remove", "exercise_code": "BARBELL_BENCH_PRESS"}], "added exercises: declared \\[\\]"),
        (
            lambda plans: plans.__setitem__(0, {**plans[0], "sets": 6}),
            [{"op": "modify", "exercise_code": "BARBELL_BENCH_PRESS", "field": "sets", "before": 4, "after": 5}],
            "sets changed 4 → 6",
        ),
        (lambda plans: None, [{"op": "remove", "exercise_code": "OVERHEAD_PRESS"}], "identical to the original"),
    ],
)
async def test_the_node_refuses_an_update_that_is_not_its_declared_diff(context, vm, edit, changes, complaint):
    routines = await vm.get_active_routines(DEMO_USER)
    target = push_day(routines)
    edit(target["plans"])
    update = RoutineUpdate(
        routine_name="Push Day A", routine_order=1, changes=changes, updated_routine=target, summary="x"
    )
    state = {
        **request("x"),
        "context": {
            "active_routines": routines,
            "degraded": [],
            "exercise_catalog": await vm.search_exercises("덤벨 벤치프레스"),
        },
    }
    await expect_verdict(state, replace(context, llm=FixedUpdate(update)), complaint)


async def test_the_node_accepts_a_swap_declared_as_remove_and_add(context, vm):
    routines = await vm.get_active_routines(DEMO_USER)
    target = push_day(routines)
    swap_bench(target["plans"])
    update = RoutineUpdate(
        routine_name="Push Day A",
        routine_order=1,
        summary="x",
        updated_routine=target,
        changes=[
            {"op": "remove", "exercise_code": "BARBELL_BENCH_PRESS"},
            {"op": "add", "exercise_code": "DUMBBELL_BENCH_PRESS"},
        ],
    )
    state = {
        **request("x"),
        "context": {
            "active_routines": routines,
            "degraded": [],
            "exercise_catalog": await vm.search_exercises("덤벨 벤치프레스"),
        },
    }
    await expect_verdict(state, replace(context, llm=FixedUpdate(update)), None)


# --- conversations: confirmations, moves, numbers without a unit -----------------------------------


@pytest.mark.parametrize(
    "conversation, change",
    [
        (
            convo(
                "벤치할 때 손목이 불편해",
                "푸쉬데이의 바벨 벤치프레스를 덤벨 벤치프레스로 바꿔 드릴까요?",
                "응 그렇게 해줘",
            ),
            {"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"},
        ),
        (
            convo(
                "leg day takes forever",
                "I could drop the leg curl from Leg Day A to save ten minutes. Shall I?",
                "yes do it",
            ),
            {"op": "remove", "exercise_code": "LEG_CURL"},
        ),
    ],
)
async def test_a_confirmation_carries_out_the_proposed_change(runtime, llm, conversation, change):
    _, update = await updated(runtime, llm, conversation)
    assert update["changes"] == [change]


@pytest.mark.parametrize(
    "message, day, before, after",
    [("하체를 첫 번째로 옮겨줘", "Leg Day A", 3, 1), ("move push day to the end", "Push Day A", 1, 3)],
)
async def test_a_routine_moves_to_another_place(runtime, llm, message, day, before, after):
    routines, update = await updated(runtime, llm, message)
    assert update["routine_name"] == day and update["routine_order"] == before
    assert update["changes"] == [
        {"op": "move", "exercise_code": "", "field": "routine_order", "before": before, "after": after}
    ]
    assert update["updated_routine"]["routine_order"] == after
    assert update["updated_routine"]["plans"] == routine(routines, day)["plans"]  # nothing else changed


async def test_an_exercise_moves_within_its_routine(runtime, llm):
    routines, update = await updated(runtime, llm, "레그데이에서 레그 프레스를 맨 앞으로 옮겨줘")
    assert update["changes"] == [
        {"op": "move", "exercise_code": "LEG_PRESS", "field": "position", "before": 3, "after": 1}
    ]
    old = codes(routine(routines, "Leg Day A")["plans"])
    assert codes(update["updated_routine"]["plans"]) == ["LEG_PRESS", *(c for c in old if c != "LEG_PRESS")]


@pytest.mark.parametrize(
    "message, code, field, value",
    [
        ("데드리프트 130으로 올려줘", "DEADLIFT", "weight_kg", 130),
        ("bump lat pulldown to 55", "LAT_PULLDOWN", "weight_kg", 55),
        ("스쿼트 8로 바꿔줘", "BARBELL_BACK_SQUAT", "reps", 8),  # 100 kg × 6: 8 is near the reps
    ],
)
async def test_a_number_without_a_unit_changes_the_field_it_is_near(runtime, llm, message, code, field, value):
    _, update = await updated(runtime, llm, message)
    [change] = update["changes"]
    assert (change["op"], change["exercise_code"], change["field"], change["after"]) == ("modify", code, field, value)


async def expect_verdict(state: dict, context: Context, problem: str | None) -> None:
    """The node accepts the update (problem None) or refuses it naming the problem."""
    if problem is None:
        assert (await update_routine(state, Runtime(context=context)))["status"] == "SUCCEEDED"
    else:
        with pytest.raises(LLMMalformedOutput, match=problem):
            await update_routine(state, Runtime(context=context))


def _move_bench_last(plans):
    plans.append(plans.pop(0))


MOVE_BENCH = [{"op": "move", "exercise_code": "BARBELL_BENCH_PRESS", "field": "position", "before": 1, "after": 5}]


@pytest.mark.parametrize(
    "edit, changes, problem",
    [
        (_move_bench_last, MOVE_BENCH, None),
        (_move_bench_last, [{**MOVE_BENCH[0], "after": 2}], "changed their order other than declared"),
        (lambda plans: None, [{"op": "move", "field": "routine_order", "before": 1, "after": 3}], None),
        (lambda plans: None, [{"op": "move", "field": "routine_order", "before": 2, "after": 3}], "it is #1"),
    ],
)
async def test_the_node_checks_moves_against_the_routine(context, vm, edit, changes, problem):
    routines = await vm.get_active_routines(DEMO_USER)
    target = push_day(routines)
    edit(target["plans"])
    moved = next((c for c in changes if c.get("field") == "routine_order"), None)
    target["routine_order"] = moved["after"] if moved else 1
    update = RoutineUpdate(
        routine_name="Push Day A", routine_order=1, changes=changes, updated_routine=target, summary="x"
    )
    state = {**request("x"), "context": {"active_routines": routines, "degraded": [], "exercise_catalog": []}}
    await expect_verdict(state, replace(context, llm=FixedUpdate(update)), problem)


@pytest.mark.parametrize(
    "changes, edit, problem",
    [
        ([{"op": "add", "exercise_code": "DUMBBELL_SHOULDER_PRESS"}], "add", "adds load on an injured area"),
        (
            [{"op": "modify", "exercise_code": "OVERHEAD_PRESS", "field": "weight_kg", "before": 40, "after": 45}],
            "heavier",
            "adds load",
        ),
        (
            [{"op": "modify", "exercise_code": "OVERHEAD_PRESS", "field": "weight_kg", "before": 40, "after": 30}],
            "lighter",
            None,
        ),
        (
            [{"op": "swap", "exercise_code": "OVERHEAD_PRESS", "new_exercise_code": "DUMBBELL_SHOULDER_PRESS"}],
            "swap",
            None,
        ),
    ],
)
async def test_the_node_refuses_an_update_that_loads_an_injured_area(context, vm, changes, edit, problem):
    routines = await vm.get_active_routines(DEMO_USER)
    target = push_day(routines)
    press = next(p for p in target["plans"] if p["exercise_code"] == "OVERHEAD_PRESS")
    if edit == "add":
        target["plans"].append({"exercise_code": "DUMBBELL_SHOULDER_PRESS", "sets": 3, "reps": 10})
    elif edit == "swap":
        target["plans"][target["plans"].index(press)] = {**press, "exercise_code": "DUMBBELL_SHOULDER_PRESS"}
        del target["plans"][2]["weight_kg"]
    else:
        press["weight_kg"] = changes[0]["after"]
    update = RoutineUpdate(
        routine_name="Push Day A", routine_order=1, changes=changes, updated_routine=target, summary="x"
    )
    state = {
        **request("어깨가 아파"),
        "route": {"intent": "UPDATE_ROUTINE", "asked": {"injuries": [{"area": "어깨", "muscles": ["SHOULDERS"]}]}},
        "context": {
            "active_routines": routines,
            "degraded": [],
            "exercise_catalog": await vm.search_exercises("SHOULDERS"),
        },
    }
    await expect_verdict(state, replace(context, llm=FixedUpdate(update)), problem)
