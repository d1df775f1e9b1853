"""Reading what the user asked: program parameters (adapters/llm/offline/asks.py) and routine amounts
(adapters/llm/offline/amounts.py), in Korean and English."""

from __future__ import annotations

import pytest

from adapters.llm.offline.amounts import field_changes
from adapters.llm.offline.asks import read_ask
from adapters.llm.offline.text import with_particle

SQUAT = {"exercise_code": "BARBELL_BACK_SQUAT", "sets": 4, "reps": 6, "weight_kg": 100}


def said(*turns: str) -> list[dict[str, str]]:
    roles = ["user", "assistant"] if len(turns) % 2 else ["assistant", "user"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


@pytest.mark.parametrize(
    "message, days, weeks",
    [
        ("주 4회 6주 프로그램", 4, 6),
        ("주3회 근비대 8주", 3, 8),
        ("일주일에 세 번, 두 달짜리 루틴", 3, 8),
        ("4일 분할 3개월 계획", 4, 12),
        ("a 4-day split for 10 weeks", 4, 10),
        ("three days a week for a month", 3, 4),
        ("twice a week, 6 week block", 2, 6),
        ("새 루틴 짜줘", None, None),
        ("주 7회 말고 주 5회로", 5, None),  # a correction comes last
        ("4 weeks, no wait, 6 weeks", None, 6),
    ],
)
def test_days_and_weeks(message, days, weeks):
    ask = read_ask(said(message))
    assert (ask.days_per_week, ask.weeks) == (days, weeks)


def test_the_newest_turn_that_says_it_wins():
    ask = read_ask(said("4주 근비대 프로그램 만들어줘", "이렇게 짜 봤어요.", "아니 주 5회로 다시 짜줘"))
    assert (ask.days_per_week, ask.weeks, ask.goal) == (5, 4, "HYPERTROPHY")


def test_only_recent_turns_are_read():
    old = said("12주 근력 프로그램 짜줘", "네", "고마워", "천만에요", "오늘 뭐 해?", "Push Day A예요", "새 루틴 짜줘")
    assert read_ask(old).weeks is None  # six turns ago is another request


@pytest.mark.parametrize(
    "message, goal",
    [
        ("다이어트 루틴", "FAT_LOSS"),
        ("살 빼는 프로그램", "FAT_LOSS"),
        ("plan me a 12-week cut", "FAT_LOSS"),
        ("근력 키우는 루틴", "STRENGTH"),
        ("5x5 program", "STRENGTH"),
        ("벌크업 프로그램", "HYPERTROPHY"),
        ("I want to build muscle", "HYPERTROPHY"),
        ("기초 체력 프로그램", "GENERAL_FITNESS"),
        ("새 루틴", None),
    ],
)
def test_goal(message, goal):
    assert read_ask(said(message)).goal == goal


@pytest.mark.parametrize(
    "message, equipment, excluded",
    [
        ("덤벨밖에 없어", ["DUMBBELL", "BODYWEIGHT"], []),
        ("맨몸으로만", ["BODYWEIGHT"], []),
        ("집에서 할 루틴", ["BODYWEIGHT", "DUMBBELL"], []),
        ("no equipment at all", ["BODYWEIGHT"], []),
        ("just dumbbells", ["DUMBBELL", "BODYWEIGHT"], []),
        ("I only have dumbbells and a pull-up bar", ["DUMBBELL", "BODYWEIGHT", "PULL_UP_BAR"], []),
        ("바벨 없이", None, ["BARBELL"]),
        ("without machines please", None, ["MACHINE"]),
    ],
)
def test_equipment(message, equipment, excluded):
    ask = read_ask(said(message))
    assert (ask.equipment, ask.excluded_equipment) == (equipment, excluded)


@pytest.mark.parametrize(
    "message, split",
    [
        ("주 3일 전신 프로그램 새로 짜줘", "FULL_BODY"),
        ("a 3-day full body program", "FULL_BODY"),
        ("4분할 루틴", "SPLIT"),
        ("push pull legs please", "SPLIT"),
        ("새 루틴 짜줘", None),
    ],
)
def test_split(message, split):
    assert read_ask(said(message)).split == split


@pytest.mark.parametrize(
    "turns, injuries",
    [
        (["어깨가 좀 아픈데 오늘 푸쉬 운동 해도 될까?"], [("어깨", ["SHOULDERS"])]),
        (["I hurt my left knee last week, it still hurts when I squat."], [("knee", ["LEGS"])]),
        (["허리 디스크가 있어서 새 루틴 짜줘"], [("허리", ["BACK"])]),
        (["my shoulder day is my favourite"], []),  # no pain: not an injury
        (["무릎이 아파요", "그럼 무릎에 부담 없는 프로그램을 짜 드릴까요?", "응"], [("무릎", ["LEGS"])]),
    ],
)
def test_injuries_are_read_from_what_the_user_said(turns, injuries):
    ask = read_ask(said(*turns))
    assert [(i.area, i.muscles) for i in ask.injuries] == injuries


@pytest.mark.parametrize(
    "message, level",
    [
        ("헬스 처음인데 루틴 짜줘", "BEGINNER"),
        ("루틴 처음부터 다시 짜줘", None),  # "from scratch"
        ("초보자용", "BEGINNER"),
        ("중급자 루틴", "INTERMEDIATE"),
        ("상급자용", "ADVANCED"),
        ("I'm a total beginner", "BEGINNER"),
        ("advanced lifter here", "ADVANCED"),
    ],
)
def test_level(message, level):
    assert read_ask(said(message)).level == level


def test_resolved_falls_back_to_profile_then_defaults():
    profile = {
        "training_days_per_week": 2,
        "goal": "STRENGTH",
        "experience_level": "ADVANCED",
        "equipment": ["BARBELL", "BODYWEIGHT"],
    }
    resolved = read_ask(said("바벨 없이 주 4회")).resolved(profile)
    assert (resolved.days_per_week, resolved.weeks, resolved.goal, resolved.level, resolved.equipment) == (
        4,
        4,
        "STRENGTH",
        "ADVANCED",
        ("BODYWEIGHT",),
    )
    assert read_ask(said("새 루틴")).resolved({}).equipment == ("BODYWEIGHT", "DUMBBELL")


@pytest.mark.parametrize(
    "message, changes",
    [
        ("스쿼트 5세트로", [("sets", 5)]),
        ("스쿼트 6회에서 8회로", [("reps", 8)]),
        ("스쿼트 무게 110kg으로", [("weight_kg", 110)]),
        ("스쿼트 5kg 올려줘", [("weight_kg", 105)]),
        ("스쿼트 10키로 내려줘", [("weight_kg", 90)]),
        ("스쿼트 세트 하나 줄여줘", [("sets", 3)]),
        ("스쿼트 한 세트 더", [("sets", 5)]),
        ("스쿼트 세트수 3으로", [("sets", 3)]),
        ("스쿼트 100에서 102.5로 올려줘", [("weight_kg", 102.5)]),
        ("스쿼트 무게 좀 올려줘", [("weight_kg", 102.5)]),
        ("squat to 5 sets of 5", [("sets", 5), ("reps", 5)]),
        ("make squats 3 sets instead of 4", [("sets", 3)]),
        ("add 5kg to my squat", [("weight_kg", 105)]),
        ("drop my squat by 10 kg", [("weight_kg", 90)]),
        ("lower squat weight to 95kg", [("weight_kg", 95)]),
        ("one more set of squats", [("sets", 5)]),
        ("스쿼트 4세트로", []),  # already 4: nothing to change
        ("스쿼트 빼줘", []),
    ],
)
def test_amounts(message, changes):
    assert field_changes(message, SQUAT) == changes


@pytest.mark.parametrize(
    "word, pair, expected",
    [
        ("레그 컬", "을/를", "레그 컬을"),
        ("스쿼트", "을/를", "스쿼트를"),
        ("랙 풀", "으로/로", "랙 풀로"),
        ("덤벨 프레스", "으로/로", "덤벨 프레스로"),
        ("해머 컬", "으로/로", "해머 컬로"),
        ("티바 로우", "은/는", "티바 로우는"),
        ("풀업", "으로/로", "풀업으로"),
        ("Rack Pull", "을/를", "Rack Pull를"),
    ],
)
def test_korean_particles_agree_with_the_word(word, pair, expected):
    assert with_particle(word, pair) == expected
