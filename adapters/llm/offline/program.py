"""Offline program generation: the request's days, weeks, goal and equipment (else the profile's)
pick a split; exercises come only from the catalog the graph fetched; experience sets the volume."""

from __future__ import annotations

import re
from typing import Any

from adapters.llm.offline.text import first_int
from worker.lang import is_korean
from worker.schemas import PlanItem, Program, Routine

# Muscle groups per training day, by days per week (BICEPS/TRICEPS pick ARMS exercises by target).
SPLITS: dict[int, list[tuple[str, str, list[str]]]] = {
    1: [("전신", "Full Body", ["LEGS", "CHEST", "BACK", "SHOULDERS", "CORE"])],
    2: [("상체", "Upper Body", ["CHEST", "BACK", "SHOULDERS", "ARMS"]),
        ("하체", "Lower Body", ["LEGS", "GLUTES", "CORE"])],
    3: [("푸시", "Push", ["CHEST", "SHOULDERS", "TRICEPS"]),
        ("풀", "Pull", ["BACK", "BICEPS"]),
        ("레그", "Legs", ["LEGS", "GLUTES", "CORE"])],
    4: [("상체 A", "Upper A", ["CHEST", "BACK", "SHOULDERS"]),
        ("하체 A", "Lower A", ["LEGS", "GLUTES", "CORE"]),
        ("상체 B", "Upper B", ["BACK", "CHEST", "BICEPS", "TRICEPS"]),
        ("하체 B", "Lower B", ["GLUTES", "LEGS", "CORE"])],
    5: [("가슴", "Chest", ["CHEST", "TRICEPS"]), ("등", "Back", ["BACK", "BICEPS"]),
        ("하체", "Legs", ["LEGS", "GLUTES"]), ("어깨", "Shoulders", ["SHOULDERS", "CORE"]),
        ("팔", "Arms", ["ARMS", "CHEST"])],
}
SPLITS[6] = SPLITS[3] + [(ko + " 2", en + " 2", muscles) for ko, en, muscles in SPLITS[3]]
SPLITS[7] = SPLITS[6] + [("회복/코어", "Recovery & Core", ["CORE", "GLUTES"])]

GOALS = [
    (r"근비대|벌크|hypertroph|muscle|bulk", "HYPERTROPHY"),
    (r"근력|스트렝스|파워|strength|power", "STRENGTH"),
    (r"다이어트|감량|체지방|커팅|fat loss|lose weight|cut", "FAT_LOSS"),
    (r"체력|건강|general|fitness|health", "GENERAL_FITNESS"),
]
EQUIPMENT = [
    (r"덤벨만|덤벨로만|dumbbells? only|only dumbbells?", ["DUMBBELL", "BODYWEIGHT"]),
    (r"맨몸|홈트|집에서|bodyweight|no equipment|at home", ["BODYWEIGHT", "DUMBBELL"]),
]
REPS = {"HYPERTROPHY": (10, 90), "STRENGTH": (5, 180), "FAT_LOSS": (12, 60), "GENERAL_FITNESS": (12, 75)}
SETS = {"BEGINNER": 2, "INTERMEDIATE": 3, "ADVANCED": 4}
EXERCISES_PER_DAY = {"BEGINNER": 4, "INTERMEDIATE": 5, "ADVANCED": 6}
GOAL_KO = {"HYPERTROPHY": "근비대", "STRENGTH": "근력", "FAT_LOSS": "체지방 감량", "GENERAL_FITNESS": "기초 체력"}


def requested(message: str, profile: dict[str, Any]) -> dict[str, Any]:
    """What the message asks for, falling back to the profile."""
    days = first_int(r"주\s*(\d)\s*(?:회|일|번)", message) or first_int(r"(\d)\s*(?:일|분할)", message) \
        or first_int(r"(\d)\s*-?\s*days?", message) or profile.get("training_days_per_week") or 3
    weeks = first_int(r"(\d{1,2})\s*주(?!\s*\d\s*(?:회|일|번))", message) or first_int(r"(\d{1,2})\s*-?\s*weeks?", message) or 4
    goal = next((g for pattern, g in GOALS if re.search(pattern, message, re.IGNORECASE)), None)
    equipment = next((e for pattern, e in EQUIPMENT if re.search(pattern, message, re.IGNORECASE)), None)
    return {
        "days": max(1, min(7, days)),
        "weeks": max(1, min(52, weeks)),
        "goal": goal or profile.get("goal") or "GENERAL_FITNESS",
        "equipment": equipment or profile.get("equipment") or ["BODYWEIGHT", "DUMBBELL"],
        "level": profile.get("experience_level") or "BEGINNER",
    }


def generate_program(conversation: list[dict[str, str]], context: dict[str, Any]) -> Program:
    message = conversation[-1]["content"]
    ko = is_korean(message)
    want = requested(message, context.get("profile") or {})
    catalog = [i for i in context.get("exercise_catalog") or [] if i.get("equipment") in want["equipment"]]
    reps, rest = REPS.get(want["goal"], REPS["GENERAL_FITNESS"])
    sets = SETS.get(want["level"], 3)
    per_day = EXERCISES_PER_DAY.get(want["level"], 5)
    routines = []
    split = SPLITS[want["days"]]
    for order, (name_ko, name_en, muscles) in enumerate(split, 1):
        repeats = sum(1 for _, _, earlier in split[: order - 1] if earlier == muscles)
        picks = _pick(catalog, muscles, per_day, offset=repeats)
        plans = [
            PlanItem(exercise_code=i["exercise_code"], exercise_name=i.get("name_ko") if ko else i.get("name_en"),
                     sets=sets + (1 if n == 0 and want["level"] != "BEGINNER" else 0), reps=reps, rest_seconds=rest)
            for n, i in enumerate(picks)
        ]
        routines.append(Routine(routine_name=f"Day {order} · {name_ko if ko else name_en}",
                                routine_order=order, plans=plans))
    goal_name = GOAL_KO.get(want["goal"], want["goal"]) if ko else want["goal"].replace("_", " ").lower()
    title = (f"{want['weeks']}주 {goal_name} 프로그램 (주 {want['days']}회)" if ko
             else f"{want['weeks']}-week {goal_name} program ({want['days']} days/week)")
    notes = (f"매주 같은 무게로 목표 횟수를 모두 채우면 다음 주에 2.5–5% 올리세요. 세트 사이 {rest}초 휴식."
             if ko else f"When you hit every target rep at a weight, add 2.5–5% next week. Rest {rest} s between sets.")
    return Program(program_name=title, goal=want["goal"], weeks=want["weeks"], days_per_week=want["days"],
                   experience_level=want["level"], routines=routines, notes=notes)


def _pick(catalog: list[dict[str, Any]], muscles: list[str], count: int, offset: int) -> list[dict[str, Any]]:
    """Round-robin over the day's muscles, compound (catalog order) first; `offset` rotates choices
    so repeated days in a split do not repeat every exercise."""
    pools = {m: [i for i in catalog if m in (i.get("main_muscle_code"), i.get("target"))] for m in muscles}
    picked: list[dict[str, Any]] = []
    depth = 0
    while len(picked) < count and any(len(p) > depth for p in pools.values()):
        for muscle in muscles:
            pool = pools[muscle]
            if len(pool) > depth and len(picked) < count:
                item = pool[(depth + offset) % len(pool)]
                if item not in picked:
                    picked.append(item)
        depth += 1
    return picked
