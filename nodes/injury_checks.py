"""Pain and injuries shape every program and update. The router's `asked.injuries` (from the
conversation) and what the model itself declares it avoided (from memory too) name the hurt areas
as catalog muscle codes; no exercise of a generated program or an update may load them. A program
is repaired (those exercises dropped, and said so in `avoided`); an update that adds one is refused."""

from __future__ import annotations

from typing import Any

from core.catalog import loaded_muscles
from core.schemas import Injury, Program, RoutineUpdate


def injuries_to_spare(stated: list[Injury], declared: list[Injury]) -> list[Injury]:
    """What the model declared, plus each stated injury whose muscles it did not already cover."""
    covered = {m for injury in declared for m in injury.muscles}
    return [*declared, *(i for i in stated if not set(i.muscles) <= covered)]


def spare_injuries(program: Program, stated: list[Injury], catalog: list[dict[str, Any]]) -> tuple[Program, list[str]]:
    """The program without exercises that load an injured area, and the problems left (a day with
    nothing else to do)."""
    injuries = injuries_to_spare(stated, program.avoided)
    hurt = {m for injury in injuries for m in injury.muscles}
    by_code = {item["exercise_code"]: item for item in catalog}
    repaired = program.model_copy(deep=True)
    repaired.avoided = injuries
    problems = []
    for routine in repaired.routines:
        routine.plans = [p for p in routine.plans if not loaded_muscles(by_code.get(p.exercise_code, {})) & hurt]
        if not routine.plans:
            problems.append(f"{routine.routine_name} only loads an injured area ({', '.join(sorted(hurt))})")
    return repaired, problems


def update_injury_problems(update: RoutineUpdate, stated: list[Injury], catalog: list[dict[str, Any]]) -> list[str]:
    """An update may not add load on an injured area: no added exercise loading it, no heavier
    weight, more sets or reps on one. Swapping an exercise on that area for another on it is the
    joint-sparing substitute a coach proposes, so it stays allowed."""
    hurt = {m for injury in injuries_to_spare(stated, update.avoided) for m in injury.muscles}
    by_code = {item["exercise_code"]: item for item in catalog}

    def loads(code: str | None) -> set[str]:
        return loaded_muscles(by_code.get(code or "", {})) & hurt

    loading = sorted(
        c.new_exercise_code or c.exercise_code
        for c in update.changes
        if (c.op == "add" and loads(c.exercise_code))
        or (c.op == "swap" and loads(c.new_exercise_code) - loads(c.exercise_code))
        or (c.op == "modify" and loads(c.exercise_code) and (c.after or 0) > (c.before or 0))
    )
    if loading:
        return [f"the update adds load on an injured area ({', '.join(sorted(hurt))}): {', '.join(loading)}"]
    return []
