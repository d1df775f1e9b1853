"""Chat answers a user can trust, on the offline provider: pain comes first (with why, what to leave
out or lighten, a gentler option, when to stop and see someone), general questions get advice, and
a catalog miss offers the closest exercises — never "couldn't find <ordinary words>"."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_USER
from tests.test_chat_context import answer


@pytest.mark.parametrize(
    "message, first, must",
    [
        ("어깨가 좀 아픈데 오늘 푸쉬 운동 해도 될까?", "어깨 통증", ["오버헤드 프레스", "멈추고", "전문의"]),
        ("I hurt my left knee last week, it still hurts when I squat.", "knee", ["Squat", "sharp pain", "physio"]),
    ],
)
async def test_pain_puts_safety_first_and_says_why(runtime, message, first, must):
    reply, _ = await answer(runtime, message)
    head = reply.splitlines()[0]
    assert first in head and ("부상이 더 심해질" in head or "make the injury worse" in head)
    assert all(m in reply for m in must)
    assert "couldn't find" not in reply and "찾지 못했" not in reply
    assert "40kg" not in reply.split("\n\n")[0]  # no heavy prescription in the safety part


async def test_pain_told_before_shapes_a_later_answer(runtime, memory):
    await memory.add(DEMO_USER, [("m1", "어깨가 아파서 머리 위로 드는 운동은 힘들어요")])
    reply, _ = await answer(runtime, "오늘 운동 뭐 해야 돼?")
    assert reply.startswith("어깨 통증이 있다면 안전이 먼저예요")
    assert "Push Day A" in reply  # and still answers the question


@pytest.mark.parametrize(
    "message, advice",
    [
        ("What's on my plan for today, and how long should I rest between sets?", ["Push Day A", "2–3 minutes"]),
        ("세트 사이 쉬는 시간은 얼마나 가져야 해?", ["2–3분"]),
        ("how should I warm up before lifting?", ["ramp-up sets"]),
        ("워밍업 어떻게 해?", ["워밍업은"]),
    ],
)
async def test_general_questions_get_advice_not_a_catalog_miss(runtime, message, advice):
    reply, state = await answer(runtime, message)
    assert all(a in reply for a in advice), reply
    assert "catalog" not in reply and "카탈로그" not in reply
    assert not state["plan"]["search_terms"]  # ordinary words are not looked up


@pytest.mark.parametrize(
    "message, closest",
    [("how do I do a cable fly?", "Dumbbell Fly"), ("불가리안 스쿼트 어떻게 해?", "불가리안 스플릿 스쿼트")],
)
async def test_a_catalog_miss_for_an_exercise_suggests_the_closest(runtime, message, closest):
    reply, _ = await answer(runtime, message)
    assert closest in reply
