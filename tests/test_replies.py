"""`final.reply` on every SUCCEEDED and CLARIFY result, composed from the typed payload in the
user's language (core/replies.py), the payload's own keys kept."""

from __future__ import annotations

import pytest

from app.runner import handle
from core.replies import compose_reply, with_reply
from tests.conftest import request

CATALOG = [
    {"exercise_code": "BARBELL_BENCH_PRESS", "main_muscle_code": "CHEST", "name_ko": "바벨 벤치프레스"},
    {"exercise_code": "PUSH_UP", "main_muscle_code": "CHEST"},
    {"exercise_code": "OVERHEAD_PRESS", "main_muscle_code": "SHOULDERS"},
    {"exercise_code": "BARBELL_BACK_SQUAT", "main_muscle_code": "LEGS"},
]
PROGRAM = {
    "program_name": "Strength Base",
    "goal": "STRENGTH",
    "weeks": 6,
    "days_per_week": 2,
    "experience_level": "BEGINNER",
    "routines": [
        {
            "routine_name": "Day 2 · Lower",
            "routine_order": 2,
            "plans": [{"exercise_code": "BARBELL_BACK_SQUAT", "sets": 3, "reps": 5}],
        },
        {
            "routine_name": "Day 1 · Upper",
            "routine_order": 1,
            "plans": [
                {"exercise_code": "BARBELL_BENCH_PRESS", "sets": 3, "reps": 5},
                {"exercise_code": "PUSH_UP", "sets": 2, "reps": 12},
                {"exercise_code": "OVERHEAD_PRESS", "sets": 2, "reps": 8},
            ],
        },
    ],
    "notes": "Add 2.5 kg when every set is clean.",
    "avoided": [{"exercise_code": "DEADLIFT", "reason": "lower back pain"}],
}


def test_a_program_reply_names_weeks_days_and_each_days_focus():
    reply = compose_reply({"program": PROGRAM}, korean=False, context={"exercise_catalog": CATALOG})
    assert reply.splitlines() == [
        "Your new program: Strength Base — 6 weeks, 2 days a week.",
        "• Day 1 · Upper — chest, shoulders: Barbell Bench Press, Push Up, Overhead Press",
        "• Day 2 · Lower — legs: Barbell Back Squat",
        "Add 2.5 kg when every set is clean.",
        "Left out: Deadlift (lower back pain)",
    ]


def test_a_korean_program_reply_uses_korean_names_where_known():
    reply = compose_reply({"program": PROGRAM}, korean=True, context={"exercise_catalog": CATALOG})
    assert reply.splitlines()[:3] == [
        "새 프로그램을 만들었어요: Strength Base — 6주, 주 2회.",
        "• Day 1 · Upper — 가슴·어깨: 바벨 벤치프레스, Push Up, Overhead Press",
        "• Day 2 · Lower — 하체: Barbell Back Squat",
    ]
    assert "None" not in reply


@pytest.mark.parametrize(
    "changes, korean, line",
    [
        (
            [{"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "PUSH_UP"}],
            True,
            "• 바벨 벤치프레스 → Push Up 교체",
        ),
        (
            [{"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "PUSH_UP"}],
            False,
            "• swapped Barbell Bench Press for Push Up",
        ),
        ([{"op": "add", "exercise_code": "PUSH_UP"}], True, "• Push Up 추가 (3세트 × ?회)"),
        ([{"op": "add", "exercise_code": "PUSH_UP"}], False, "• added Push Up (3 × ?)"),
        ([{"op": "remove", "exercise_code": "OVERHEAD_PRESS"}], False, "• removed Overhead Press"),
        (
            [{"op": "modify", "exercise_code": "BARBELL_BENCH_PRESS", "field": "sets", "before": 4, "after": 5}],
            True,
            "• 바벨 벤치프레스 세트 4 → 5",
        ),
        (
            [
                {
                    "op": "modify",
                    "exercise_code": "BARBELL_BENCH_PRESS",
                    "field": "weight_kg",
                    "before": 70,
                    "after": 72.5,
                }
            ],
            False,
            "• Barbell Bench Press weight 70 → 72.5 kg",
        ),
        (
            [{"op": "modify", "exercise_code": "BARBELL_BENCH_PRESS", "field": "reps", "before": None, "after": 8}],
            True,
            "• 바벨 벤치프레스 횟수 ? → 8회",
        ),
    ],
)
def test_an_update_reply_says_each_change_in_words(changes, korean, line):
    update = {
        "routine_name": "Push Day A",
        "routine_order": 1,
        "changes": changes,
        "updated_routine": {
            "routine_name": "Push Day A",
            "routine_order": 1,
            "plans": [
                {"exercise_code": "PUSH_UP", "sets": 3},
            ],
        },
        "summary": "…",
    }
    reply = compose_reply({"routine_update": update}, korean=korean, context={"exercise_catalog": CATALOG})
    head, *lines = reply.splitlines()
    assert head == ("Push Day A 루틴을 이렇게 바꿨어요:" if korean else "Changes to Push Day A:")
    assert lines == [line]


def test_with_reply_keeps_the_payload_and_a_written_reply():
    clarify = {"question": "Which routine?", "options": ["UPDATE_ROUTINE"]}
    assert with_reply(clarify, korean=False, context=None) == {"reply": "Which routine?", **clarify}
    assert with_reply({"reply": "hi"}, korean=False, context=None) == {"reply": "hi"}
    assert with_reply(None, korean=False, context=None) is None


@pytest.mark.parametrize(
    "message, status, payload, words",
    [
        ("오늘 운동 뭐 해야 돼?", "SUCCEEDED", None, ["Push Day A"]),
        ("주 3회 6주 근비대 프로그램 짜줘", "SUCCEEDED", "program", ["6주", "주 3회", "가슴"]),
        ("make me a 4 day strength program", "SUCCEEDED", "program", ["4 days a week", "Day 1"]),
        ("푸쉬데이 벤치프레스 5세트로 늘려줘", "SUCCEEDED", "routine_update", ["바벨 벤치프레스 세트 4 → 5"]),
        ("swap barbell row for seated cable row", "SUCCEEDED", "routine_update", ["swapped Barbell Row for"]),
        ("루틴", "CLARIFY", "question", ["?"]),
    ],
)
async def test_every_result_carries_a_reply_in_the_users_language(deps, events, message, status, payload, words):
    outcome = await handle(request(message, stream=False), deps)
    assert outcome.status == status
    (result,) = events.results
    reply = result.final["reply"]
    assert all(w in reply for w in words), reply
    if payload:
        assert payload in result.final  # the typed payload stays beside the reply
    if payload == "question":
        assert reply == result.final["question"]
