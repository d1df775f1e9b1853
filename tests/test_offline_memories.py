"""The offline provider's memory rules: durable facts kept (as readable sentences), everything else
left out — in Korean and English."""

from __future__ import annotations

import pytest

from adapters.llm.offline.memories import MAX_FACTS, extract_memories
from core.schemas import MemoryEdit


@pytest.mark.parametrize(
    "message, facts",
    [
        # injuries, with the question or request around them left out
        ("I hurt my left knee last week", ["I hurt my left knee last week"]),
        ("I hurt my left knee last week, can I still train legs?", ["I hurt my left knee last week"]),
        ("지난주에 왼쪽 무릎을 다쳤어요", ["지난주에 왼쪽 무릎을 다쳤어요"]),
        ("무릎이 아픈데 스쿼트 해도 돼?", ["무릎이 아파요"]),
        ("지난주에 왼쪽 무릎을 다쳤는데 오늘 뭐 하지?", ["지난주에 왼쪽 무릎을 다쳤어요"]),
        ("어깨가 아파서 오버헤드 프레스는 빼줘", ["어깨가 아파요"]),
        ("허리 디스크가 있어서 데드리프트는 못 해요. 새 루틴 짜줘", ["허리 디스크가 있어요"]),
        # goals, preferences, equipment, schedule
        (
            "My goal is to lose 5kg before summer. I hate running.",
            ["My goal is to lose 5kg before summer", "I hate running"],
        ),
        (
            "목표는 바디프로필이에요! 평일 저녁에만 운동할 수 있어요",
            ["목표는 바디프로필이에요", "평일 저녁에만 운동할 수 있어요"],
        ),
        ("체중 감량하고 싶은데 어떻게 해야 해?", ["체중 감량하고 싶어요"]),
        ("I prefer dumbbells over barbells", ["I prefer dumbbells over barbells"]),
        ("집에서 덤벨만 가지고 운동해요", ["집에서 덤벨만 가지고 운동해요"]),
        (
            "I can only train 3 days a week at home with dumbbells",
            ["I can only train 3 days a week at home with dumbbells"],
        ),
        ("회사에서 일이 많아서 주 2회만 운동할 수 있어요", ["주 2회만 운동할 수 있어요"]),
        # one fact kept whole: the second half alone would lose the knee
        (
            "I hurt my left knee last week, it still hurts when I squat.",
            ["I hurt my left knee last week, it still hurts when I squat"],
        ),
        (
            "지난주에 왼쪽 무릎을 다쳤는데 스쿼트할 때 아직 아파요",
            ["지난주에 왼쪽 무릎을 다쳤는데 스쿼트할 때 아직 아파요"],
        ),
        # ...while facts of different kinds stay apart
        ("I hurt my knee, I hate running, I train at home", ["I hurt my knee", "I hate running", "I train at home"]),
        # news that an earlier fact stopped being true (consolidation retires what it names)
        ("무릎 다 나았어", ["무릎 다 나았어"]),
        ("My knee has healed, what should I train?", ["My knee has healed"]),
    ],
)
def test_durable_facts_are_kept(message, facts):
    assert extract_memories(message) == facts


@pytest.mark.parametrize(
    "message",
    [
        "what should I train today?",
        "오늘 운동 뭐 해야 돼?",
        "새 4주 근비대 프로그램 만들어줘",
        "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘",
        "스쿼트 세트 수를 5세트로 늘려줘",
        "내가 전에 말했던 부상 기억해?",
        "how much protein should I eat?",
        "Is it bad if my shoulder hurts when I bench?",
        "다리 근육통이 심해요",
        "I'm so tired today",
        "I want to know how to bench",
        "벤치프레스 자세 알려줘",
        "음…",
    ],
)
def test_questions_requests_and_passing_states_are_not_facts(message):
    assert extract_memories(message) == []


def test_repeated_facts_are_kept_once_and_capped():
    message = ". ".join(
        [
            "I hurt my knee",
            "i hurt my knee",
            "I hate running",
            "I love cycling",
            "I train at home",
            "I prefer mornings",
            "My goal is a marathon",
            "I have a bad back",
        ]
    )
    facts = extract_memories(message)
    assert facts[:2] == ["I hurt my knee", "I hate running"] and len(facts) == MAX_FACTS


KNOWN = [
    {"id": "knee-en", "text": "I hurt my left knee last week, it still hurts when I squat"},
    {"id": "knee-ko", "text": "지난주에 왼쪽 무릎을 다쳤어요"},
    {"id": "back", "text": "허리 디스크가 있어요"},
    {"id": "home", "text": "I train at home"},
    {"id": "days", "text": "주 3회 운동해요"},
]


@pytest.mark.parametrize(
    "message, save, update, retire",
    [
        ("My knee has healed", [], [], ["knee-en"]),
        ("무릎 다 나았어", [], [], ["knee-ko"]),
        ("이제 허리 괜찮아", [], [], ["back"]),
        ("I no longer train at home", [], [], ["home"]),
        ("이제 괜찮아", [], [], []),  # names nothing it could retire
        ("주 4회 운동해요", [], [MemoryEdit(id="days", text="주 4회 운동해요")], []),  # changed: in place
        ("I hurt my left knee last week", [], [], []),  # already known, in more words
        ("어깨가 아파요", ["어깨가 아파요"], [], []),  # new
    ],
)
async def test_consolidation_against_known_memories(llm, message, save, update, retire):
    notes = (await llm.extract_memories([{"role": "user", "content": message}], KNOWN, None)).value
    assert (notes.memories_to_save, notes.memories_to_update, notes.memories_to_retire) == (save, update, retire)


async def test_news_of_a_change_retires_nothing_it_does_not_name(llm):
    back_only = [m for m in KNOWN if m["id"] == "back"]
    notes = (await llm.extract_memories([{"role": "user", "content": "무릎 다 나았어"}], back_only, None)).value
    assert notes.memories_to_retire == [] and notes.memories_to_save == []  # and the news itself is not a fact
