"""Offline routine updates: read the requested change (swap, add, remove, sets/reps/weight) from the
message, find the routine it is about, apply exactly that change and describe it as a diff."""

from __future__ import annotations

import copy
import re
from typing import Any

from adapters.llm.offline.text import fold, search_terms
from worker.lang import is_korean
from worker.errors import LLMMalformedOutput
from worker.schemas import RoutineChange, RoutineUpdate

# How users name a routine day; day forms only, so "push-up" or "레그 프레스" never pick a routine.
ROUTINE_ALIASES = {
    "push": ["push day", "푸쉬데이", "푸시데이", "가슴날"],
    "pull": ["pull day", "풀데이", "등날"],
    "leg": ["leg day", "레그데이", "하체날", "하체데이"],
    "full body a": ["full body a", "전신 a"],
    "full body b": ["full body b", "전신 b"],
}
SWAP = re.compile(r"바꿔|바꾸|교체|대신|변경|replace|swap|switch|instead", re.IGNORECASE)
ADD = re.compile(r"추가|넣어|더해|\badd\b|include|put", re.IGNORECASE)
REMOVE = re.compile(r"빼|삭제|제거|없애|remove|drop|delete|take out", re.IGNORECASE)
SETS = re.compile(r"(\d{1,2})\s*(?:세트|sets?)", re.IGNORECASE)
REPS = re.compile(r"(\d{1,3})\s*(?:회|번|개|reps?)", re.IGNORECASE)
WEIGHT = re.compile(r"(\d{1,3}(?:\.\d)?)\s*(?:kg|킬로|키로)", re.IGNORECASE)


def update_routine(conversation: list[dict[str, str]], context: dict[str, Any]) -> RoutineUpdate:
    message = conversation[-1]["content"]
    ko = is_korean(message)
    routines = context.get("active_routines") or []
    catalog = context.get("exercise_catalog") or []
    mentioned = _mentioned_in_routines(message, routines, catalog)
    routine = _target_routine(message, routines, mentioned)
    if routine is None:
        raise LLMMalformedOutput("could not tell which routine to change")
    updated = copy.deepcopy(routine)
    plans = updated.setdefault("plans", [])
    source = next((code for code in mentioned if any(p["exercise_code"] == code for p in plans)), None)
    newcomer = _new_exercise(message, catalog, exclude={p["exercise_code"] for p in plans})

    if SWAP.search(message) and source and newcomer:
        index = next(i for i, p in enumerate(plans) if p["exercise_code"] == source)
        old = plans[index]
        plans[index] = {**{k: v for k, v in old.items() if k != "weight_kg"},
                        "exercise_code": newcomer["exercise_code"],
                        "exercise_name": newcomer.get("name_ko") if ko else newcomer.get("name_en")}
        change = RoutineChange(op="swap", exercise_code=source, new_exercise_code=newcomer["exercise_code"])
        summary = (f"{routine['routine_name']}에서 {_name(old, ko)}를 {_name(plans[index], ko)}로 바꿨어요. 새 운동은 가벼운 무게로 시작해 보세요."
                   if ko else f"Swapped {_name(old, ko)} for {_name(plans[index], ko)} in {routine['routine_name']}. Start the new one light.")
    elif REMOVE.search(message) and source:
        old = next(p for p in plans if p["exercise_code"] == source)
        plans.remove(old)
        change = RoutineChange(op="remove", exercise_code=source)
        summary = (f"{routine['routine_name']}에서 {_name(old, ko)}를 뺐어요." if ko
                   else f"Removed {_name(old, ko)} from {routine['routine_name']}.")
    elif ADD.search(message) and newcomer:
        item = {"exercise_code": newcomer["exercise_code"],
                "exercise_name": newcomer.get("name_ko") if ko else newcomer.get("name_en"),
                "sets": _value(SETS, message) or 3, "reps": _value(REPS, message) or 12}
        plans.append(item)
        change = RoutineChange(op="add", exercise_code=newcomer["exercise_code"])
        summary = (f"{routine['routine_name']} 마지막에 {_name(item, ko)} {item['sets']}세트 × {item['reps']}회를 추가했어요." if ko
                   else f"Added {_name(item, ko)} {item['sets']} × {item['reps']} at the end of {routine['routine_name']}.")
    elif source and (field := _field_change(message)):
        name, value = field
        item = next(p for p in plans if p["exercise_code"] == source)
        before = item.get(name)
        item[name] = value
        change = RoutineChange(op="modify", exercise_code=source, field=name, before=before, after=value)
        label = {"sets": ("세트", "sets"), "reps": ("회", "reps"), "weight_kg": ("kg", "kg")}[name]
        summary = (f"{routine['routine_name']}의 {_name(item, ko)}를 {before if before is not None else '-'} → {value:g}{label[0]}로 바꿨어요." if ko
                   else f"Changed {_name(item, ko)} in {routine['routine_name']} from {before if before is not None else '-'} to {value:g} {label[1]}.")
    else:
        raise LLMMalformedOutput("could not tell what to change in the routine")
    return RoutineUpdate(routine_name=routine["routine_name"], routine_order=routine["routine_order"],
                         changes=[change], updated_routine=updated, summary=summary)


def _name(item: dict[str, Any], ko: bool) -> str:
    return item.get("exercise_name") or item["exercise_code"].replace("_", " ").title()


def _value(pattern: re.Pattern, message: str) -> int | None:
    match = pattern.search(message)
    return int(float(match.group(1))) if match else None


def _field_change(message: str) -> tuple[str, float] | None:
    if match := WEIGHT.search(message):
        return "weight_kg", float(match.group(1))
    if match := SETS.search(message):
        return "sets", int(match.group(1))
    if match := REPS.search(message):
        return "reps", int(match.group(1))
    return None


def _names(item: dict[str, Any]) -> list[str]:
    keys = [item.get(k) for k in ("exercise_name", "name_ko", "name_en", "exercise_code")]
    return [fold(str(k)) for k in [*keys, *item.get("aliases", [])] if k]


def _mentioned_in_routines(message: str, routines: list[dict[str, Any]],
                           catalog: list[dict[str, Any]]) -> list[str]:
    """Codes of routine exercises the message names, in the order they are named."""
    by_code = {i["exercise_code"]: i for i in catalog}
    found: list[tuple[int, str]] = []
    text = fold(message)
    for routine in routines:
        for plan in routine.get("plans", []):
            names = _names({**by_code.get(plan["exercise_code"], {}), **plan})
            positions = [text.find(n) for n in names if n and n in text]
            # Also a term the user wrote that is part of the name ("벤치프레스" in "바벨 벤치프레스").
            positions += [text.find(fold(t)) for t in search_terms(message)
                          if any(fold(t) in n for n in names)]
            if positions:
                found.append((min(positions), plan["exercise_code"]))
    return [code for _, code in sorted(set(found))]


def _target_routine(message: str, routines: list[dict[str, Any]], mentioned: list[str]):
    text = fold(message)
    for routine in routines:
        key = routine["routine_name"].lower()
        aliases = next((a for k, a in ROUTINE_ALIASES.items() if k in key), [])
        if fold(routine["routine_name"]) in text or any(fold(a) in text for a in aliases):
            return routine
    for code in mentioned:
        for routine in routines:
            if any(p["exercise_code"] == code for p in routine.get("plans", [])):
                return routine
    return None


def _new_exercise(message: str, catalog: list[dict[str, Any]], exclude: set[str]):
    """The catalog exercise the user wants in: the best match of a term not already in the routine,
    exact names first, later terms preferred (the new exercise usually comes last: "A를 B로")."""
    best = None
    for position, term in enumerate(search_terms(message)):
        t = fold(term)
        for item in catalog:
            if item["exercise_code"] in exclude:
                continue
            names = _names(item)
            rank = 0 if t in names else 1 if any(n.startswith(t) for n in names) else 2 if any(t in n for n in names) else None
            if rank is not None and (best is None or (rank, -position) < best[0]):
                best = ((rank, -position), item)
    return best[1] if best else None
