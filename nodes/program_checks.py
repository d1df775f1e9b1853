"""Consistency checks of a generated Program against what the user asked (the router's typed
`asked`, never a reading of ours) and the context it was built from. Any provider's output goes
through them (Gemini's structured output validates against the schema, but the schema cannot know
the user asked for four days). Each problem is one sentence; the generate_routine node refuses a
program with any."""

from __future__ import annotations

from typing import Any

from core.catalog import is_full_body, movement
from core.schemas import SET_RANGE, Program, UserAsk


def program_problems(
    program: Program, ask: UserAsk, profile: dict[str, Any], catalog: list[dict[str, Any]]
) -> list[str]:
    want = ask.resolved(profile)
    problems: list[str] = []
    by_code = {item["exercise_code"]: item for item in catalog}
    plans = [(r, p) for r in program.routines for p in r.plans]

    unknown = sorted({p.exercise_code for _, p in plans} - set(by_code))
    if unknown:
        problems.append(f"program uses exercises outside the catalog: {', '.join(unknown)}")
    empty = [r.routine_name for r in program.routines if not r.plans]
    if empty:
        problems.append(f"program has a training day without exercises: {', '.join(empty)}")
    if program.days_per_week != len(program.routines):
        problems.append(f"program says {program.days_per_week} days a week but has {len(program.routines)} routines")
    if sorted(r.routine_order for r in program.routines) != list(range(1, len(program.routines) + 1)):
        problems.append("routine_order must number the routines 1..n")
    for routine in program.routines:
        codes = [p.exercise_code for p in routine.plans]
        if len(codes) != len(set(codes)):
            problems.append(f"{routine.routine_name} lists the same exercise twice")
        moves = [movement(by_code[c]) for c in dict.fromkeys(codes) if c in by_code]
        if len(moves) != len(set(moves)):
            problems.append(f"{routine.routine_name} lists near-duplicate exercises (one movement twice)")

    # What the user said, then the profile's facts (goal, level, equipment).
    if ask.days_per_week and program.days_per_week != ask.days_per_week:
        problems.append(f"the user asked for {ask.days_per_week} days a week, the program has {program.days_per_week}")
    if ask.weeks and program.weeks != ask.weeks:
        problems.append(f"the user asked for {ask.weeks} weeks, the program has {program.weeks}")
    muscles = [
        {by_code[p.exercise_code].get("main_muscle_code") for p in r.plans if p.exercise_code in by_code}
        for r in program.routines
    ]
    if want.split == "FULL_BODY" and not all(map(is_full_body, muscles)):
        problems.append("the user asked for full-body days, but a day does not train both upper and lower body")
    if want.split == "SPLIT" and len(muscles) > 1 and all(map(is_full_body, muscles)):
        problems.append("the user asked for a split, but every day is full body")
    if program.goal != want.goal:
        problems.append(f"the goal is {want.goal}, the program says {program.goal}")
    if program.experience_level != want.level:
        problems.append(f"the user is {want.level}, the program is written for {program.experience_level}")
    _low, high = SET_RANGE.get(want.level, SET_RANGE["BEGINNER"])
    heavy = sorted({p.exercise_code for _, p in plans if p.sets > high})
    if heavy:
        problems.append(f"{want.level} volume is at most {high} sets per exercise: {', '.join(heavy)}")
    off_equipment = sorted(
        {
            p.exercise_code
            for _, p in plans
            if p.exercise_code in by_code
            and by_code[p.exercise_code].get("equipment")
            and by_code[p.exercise_code]["equipment"] not in want.equipment
        }
    )
    if off_equipment:
        problems.append(
            f"exercises need equipment the user does not have ({', '.join(want.equipment)} only): "
            f"{', '.join(off_equipment)}"
        )
    return problems
