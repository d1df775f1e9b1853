"""Whole requests through the runner where the conversation, not the last message, decides what
happens: an accepted proposal is carried out, an unanswered choice is asked again."""

from __future__ import annotations

from app.runner import handle
from tests.conftest import request

CHOICE = "새 루틴을 만들까요, 아니면 지금 루틴을 바꿀까요?"


def convo(*turns: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"] if len(turns) % 2 else ["assistant", "user"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


async def result_of(deps, events, conversation, request_id="req-mt-1"):
    await handle(request(conversation, request_id=request_id), deps)
    assert len(events.results) == 1
    return events.results[0]


async def test_accepting_a_proposed_swap_updates_the_routine(deps, events):
    result = await result_of(
        deps,
        events,
        convo(
            "벤치할 때 어깨가 좀 아파",
            "그러면 푸쉬데이의 바벨 벤치프레스를 덤벨 벤치프레스로 바꿔 볼까요? 어깨 부담이 덜해요.",
            "응 그걸로 바꿔줘",
        ),
    )
    assert result.status == "SUCCEEDED" and result.meta.intent == "UPDATE_ROUTINE"
    assert result.final["routine_update"]["changes"] == [
        {"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}
    ]


async def test_accepting_a_proposed_program_builds_it(deps, events):
    result = await result_of(
        deps,
        events,
        convo("요즘 주 4회 운동할 수 있게 됐어", "그럼 상하체 4분할로 새 프로그램을 짜 드릴까요?", "좋아, 그렇게 짜줘"),
    )
    assert result.status == "SUCCEEDED" and result.meta.intent == "GENERATE_ROUTINE"
    assert result.final["program"]["days_per_week"] == 4


async def test_accepting_an_offer_to_explain_is_a_chat_answer(deps, events):
    result = await result_of(
        deps,
        events,
        convo(
            "my squat feels unstable at the bottom", "Want me to explain how to brace for heavy squats?", "yes please"
        ),
    )
    assert result.status == "SUCCEEDED" and result.meta.intent == "CHAT_RESPONSE"
    assert result.final["reply"] and events.tokens


async def test_a_choice_is_carried_out_or_asked_again(deps, events):
    picked = await result_of(deps, events, convo("루틴 좀 손보고 싶어", CHOICE, "두 번째"))
    assert picked.meta.intent == "UPDATE_ROUTINE"
    # Which exercise to change is still open: the update asks for it, naming the user's routines.
    assert picked.status == "CLARIFY" and "Push Day A" in picked.final["question"]
    events.results.clear()
    unsure = await result_of(deps, events, convo("루틴 좀 손보고 싶어", CHOICE, "음 잘 모르겠네"), "req-mt-2")
    assert unsure.status == "CLARIFY" and unsure.final["question"]
    assert {"GENERATE_ROUTINE", "UPDATE_ROUTINE"} <= set(unsure.final["options"])
