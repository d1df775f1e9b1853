"""Offline program generation: what the router read the user asked (days, weeks, goal, equipment,
level, full body or split; else the profile's) picks the days; exercises come only from the catalog
the graph fetched, never two of one movement a day, none loading an area that hurts (in the
request or in memory); experience sets the volume."""

from __future__ import annotations

from typing import Any

from adapters.llm.offline.asks import read_injuries
from core.catalog import loaded_muscles, movement
from core.lang import is_korean
from core.schemas import SET_RANGE, PlanItem, Program, ResolvedAsk, Routine, UserAsk

# Muscle groups per training day, by days per week (BICEPS/TRICEPS pick ARMS exercises by target).
SPLITS: dict[int, list[tuple[str, str, list[str]]]] = {
    1: [("전신", "Full Body", ["LEGS", "CHEST", "BACK", "SHOULDERS", "CORE"])],
    2: [
        ("상체", "Upper Body", ["CHEST", "BACK", "SHOULDERS", "ARMS"]),
        ("하체", "Lower Body", ["LEGS", "GLUTES", "CORE"]),
    ],
    3: [
        ("푸시", "Push", ["CHEST", "SHOULDERS", "TRICEPS"]),
        ("풀", "Pull", ["BACK", "BICEPS"]),
        ("레그", "Legs", ["LEGS", "GLUTES", "CORE"]),
    ],
    4: [
        ("상체 A", "Upper A", ["CHEST", "BACK", "SHOULDERS"]),
        ("하체 A", "Lower A", ["LEGS", "GLUTES", "CORE"]),
        ("상체 B", "Upper B", ["BACK", "CHEST", "BICEPS", "TRICEPS"]),
        ("하체 B", "Lower B", ["GLUTES", "LEGS", "CORE"]),
    ],
    5: [
        ("가슴", "Chest", ["CHEST", "TRICEPS"]),
        ("등", "Back", ["BACK", "BICEPS"]),
        ("하체", "Legs", ["LEGS", "GLUTES"]),
        ("어깨", "Shoulders", ["SHOULDERS", "CORE"]),
        ("팔", "Arms", ["ARMS", "CHEST"]),
    ],
}
SPLITS[6] = SPLITS[3] + [(ko + " 2", en + " 2", muscles) for ko, en, muscles in SPLITS[3]]
SPLITS[7] = SPLITS[6] + [("회복/코어", "Recovery & Core", ["CORE", "GLUTES"])]
FULL_BODY = ("전신", "Full Body", ["LEGS", "CHEST", "BACK", "SHOULDERS", "CORE", "GLUTES"])

REPS = {"HYPERTROPHY": (10, 90), "STRENGTH": (5, 180), "FAT_LOSS": (12, 60), "GENERAL_FITNESS": (12, 75)}
EXERCISES_PER_DAY = {"BEGINNER": 4, "INTERMEDIATE": 5, "ADVANCED": 6}
GOAL_KO = {"HYPERTROPHY": "근비대", "STRENGTH": "근력", "FAT_LOSS": "체지방 감량", "GENERAL_FITNESS": "기초 체력"}
EQUIPMENT_KO = {"BARBELL": "바벨", "DUMBBELL": "덤벨", "CABLE": "케이블", "MACHINE": "머신", "BODYWEIGHT": "맨몸"}


def generate_program(conversation: list[dict[str, str]], context: dict[str, Any]) -> Program:
    ko = is_korean(conversation[-1]["content"])
    asked = UserAsk.model_validate(context.get("asked") or {})
    want = asked.resolved(context.get("profile") or {})
    remembered = read_injuries([m.get("text", "") for m in context.get("user_memory") or []])
    avoided = asked.injuries + [i for i in remembered if i.area not in {a.area for a in asked.injuries}]
    hurt = {m for injury in avoided for m in injury.muscles}
    catalog = [
        i
        for i in context.get("exercise_catalog") or []
        # An item whose equipment the VM does not say cannot be ruled out (the spec's minimal catalog).
        if (i.get("equipment") or "") in (*want.equipment, "") and not loaded_muscles(i) & hurt
    ]
    reps, rest = REPS.get(want.goal, REPS["GENERAL_FITNESS"])
    low, high = SET_RANGE.get(want.level, SET_RANGE["BEGINNER"])
    per_day = EXERCISES_PER_DAY.get(want.level, 4)
    split = SPLITS[want.days_per_week]
    if want.split == "FULL_BODY" or (want.days_per_week == 1 and want.split != "SPLIT"):
        name_ko, name_en, muscles = FULL_BODY
        split = [(f"{name_ko} {chr(65 + n)}", f"{name_en} {chr(65 + n)}", muscles) for n in range(want.days_per_week)]
    routines = []
    for order, (name_ko, name_en, muscles) in enumerate(split, 1):
        repeats = sum(1 for _, _, earlier in split[: order - 1] if earlier == muscles)
        muscles = [m for m in muscles if m not in hurt] or muscles
        picks = _pick(catalog, muscles, per_day, offset=repeats)
        plans = [
            # The first (compound) lift of the day gets the top of the level's set range.
            PlanItem(
                exercise_code=i["exercise_code"],
                exercise_name=i.get("name_ko") if ko else i.get("name_en"),
                sets=high if n == 0 else low,
                reps=reps,
                rest_seconds=rest,
            )
            for n, i in enumerate(picks)
        ]
        routines.append(
            Routine(routine_name=f"Day {order} · {name_ko if ko else name_en}", routine_order=order, plans=plans)
        )
    return Program(
        program_name=_title(want, ko),
        goal=want.goal,
        weeks=want.weeks,
        days_per_week=want.days_per_week,
        experience_level=want.level,
        routines=routines,
        notes=_notes(want, rest, routines, per_day, ko, avoided),
        avoided=avoided,
    )


def _title(want: ResolvedAsk, ko: bool) -> str:
    if ko:
        return f"{want.weeks}주 {GOAL_KO.get(want.goal, want.goal)} 프로그램 (주 {want.days_per_week}회)"
    return f"{want.weeks}-week {want.goal.replace('_', ' ').lower()} program ({want.days_per_week} days/week)"


def _notes(want: ResolvedAsk, rest: int, routines: list[Routine], per_day: int, ko: bool, avoided: list) -> str:
    notes = [
        f"매주 같은 무게로 목표 횟수를 모두 채우면 다음 주에 2.5–5% 올리세요. 세트 사이 {rest}초 휴식."
        if ko
        else f"When you hit every target rep at a weight, add 2.5–5% next week. Rest {rest} s between sets."
    ]
    if avoided:
        areas = ", ".join(i.area for i in avoided)
        notes.append(
            f"{areas} 통증을 고려해 그 부위에 부담이 가는 운동은 뺐어요. 날카로운 통증이 있으면 멈추고, 계속되면 전문가와 상담하세요."
            if ko
            else f"Because of your {areas}, exercises that load it are left out. Stop on sharp pain; see a "
            "professional if it persists."
        )
    if not {"BARBELL", "CABLE", "MACHINE"} <= set(want.equipment):
        names = ", ".join(EQUIPMENT_KO.get(e, "철봉") if ko else e.lower().replace("_", "-") for e in want.equipment)
        notes.append(f"사용 장비: {names}." if ko else f"Equipment used: {names}.")
    if any(len(r.plans) < per_day for r in routines):
        notes.append(
            "가진 장비로 할 수 있는 운동이 적어서 일부 날은 운동 수가 적어요."
            if ko
            else "Your equipment allows fewer exercises, so some days are shorter."
        )
    return " ".join(notes)


def _pick(catalog: list[dict[str, Any]], muscles: list[str], count: int, offset: int) -> list[dict[str, Any]]:
    """Round-robin over the day's muscles, compound (catalog order) first; `offset` rotates choices
    so repeated days in a split do not repeat every exercise. A day whose muscles have nothing with
    the allowed equipment borrows from the rest of the catalog rather than stay empty."""
    pools = {m: [i for i in catalog if m in (i.get("main_muscle_code"), i.get("target"))] for m in muscles}
    picked: list[dict[str, Any]] = []
    depth = 0
    while len(picked) < count and any(len(p) > depth for p in pools.values()):
        for muscle in muscles:
            pool = pools[muscle]
            if len(pool) > depth and len(picked) < count:
                item = pool[(depth + offset) % len(pool)]
                if movement(item) not in {movement(p) for p in picked}:
                    picked.append(item)
        depth += 1
    if not picked:
        picked = catalog[offset % len(catalog) :][:count] or catalog[:count] if catalog else []
    return picked
