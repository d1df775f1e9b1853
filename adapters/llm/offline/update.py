"""Offline routine updates: read the requested change (swap, add, remove, sets/reps/weight) from the
message — or, when the message only accepts the coach's proposal ("응 그걸로 바꿔줘"), from that
proposal — find the routine it is about, apply exactly that change and describe it as a diff."""

from __future__ import annotations

import copy
import re
from typing import Any

from adapters.llm.context_view import todays_routine
from adapters.llm.offline.amounts import field_changes
from adapters.llm.offline.text import fold, search_terms, with_particle
from core.errors import UnclearRequest
from core.lang import is_korean
from core.names import MUSCLE_NAMES
from core.schemas import RoutineChange, RoutineUpdate

# How users name a routine day; day forms only, so "push-up" or "레그 프레스" never pick a routine.
ROUTINE_ALIASES = {
    "push": ["push day", "푸쉬데이", "푸시데이", "푸쉬날", "가슴날"],
    "pull": ["pull day", "풀데이", "등날"],
    "leg": ["leg day", "레그데이", "하체날", "하체데이"],
    "full body a": ["full body a", "전신 a"],
    "full body b": ["full body b", "전신 b"],
}
SWAP = re.compile(r"바꿔|바꾸|교체|대신|변경|말고|replace|swap|switch|substitute|instead|→|->", re.IGNORECASE)
ADD = re.compile(r"추가|넣어|넣|더해|\badd\b|include|\bput\b", re.IGNORECASE)
REMOVE = re.compile(
    r"(?<!살\s)(?<!살)빼|삭제|제거|없애|remove|remvoe|\bdrop\b|delete|take\b.*\bout\b|get rid|\bcut\b", re.IGNORECASE
)
MOVE = re.compile(r"옮겨|옮기|이동|\bmove\b|\bput\b.*\b(?:first|last)\b", re.IGNORECASE)
# Where to move something: words → 1-based place (-1: the end).
PLACES = [
    ("맨앞 맨처음 첫번째 첫째 1번 first start front", 1),
    ("두번째 둘째 2번 second", 2),
    ("세번째 셋째 3번 third", 3),
    ("맨뒤 마지막 맨끝 last end", -1),
]
GENERIC_WORDS = {"barbell", "dumbbell", "cable", "machine", "바벨", "덤벨", "케이블", "머신", "press", "프레스"}
# (label, unit) in Korean and English.
FIELD_LABELS = {
    "sets": (("세트", "세트"), ("sets", "")),
    "reps": (("횟수", "회"), ("reps", "")),
    "weight_kg": (("무게", "kg"), ("weight", " kg")),
}


def update_routine(conversation: list[dict[str, str]], context: dict[str, Any]) -> RoutineUpdate:
    ko = is_korean(conversation[-1]["content"])
    routines = context.get("active_routines") or []
    catalog = context.get("exercise_catalog") or []
    for text in _readings(conversation):
        update = _apply(text, routines, catalog, ko)
        if update is not None:
            return update
    raise UnclearRequest("could not tell what to change in which routine")


def _readings(conversation: list[dict[str, str]]):
    """The last message alone; then, if that names no change, together with the coach's turn it
    answers (the proposal first, so "A를 B로" keeps its order)."""
    last = conversation[-1]["content"]
    yield last
    offer = next((t["content"] for t in reversed(conversation[:-1]) if t.get("role") == "assistant"), None)
    if offer:
        yield f"{offer}\n{last}"


def _apply(text: str, routines: list[dict[str, Any]], catalog: list[dict[str, Any]], ko: bool) -> RoutineUpdate | None:
    mentioned = _mentioned_in_routines(text, routines, catalog)
    if MOVE.search(text):
        return _move(text, routines, catalog, mentioned, ko)
    in_routines = {p["exercise_code"] for r in routines for p in r.get("plans", [])}
    newcomer_anywhere = _new_exercise(text, catalog, exclude=in_routines, taken_names=[])
    routine = _target_routine(text, routines, mentioned, newcomer_anywhere, catalog)
    if routine is None:
        return None
    updated = copy.deepcopy(routine)
    plans = updated.setdefault("plans", [])
    codes = {p["exercise_code"] for p in plans}
    source = next((code for code in mentioned if code in codes), None)
    item = next((p for p in plans if p["exercise_code"] == source), None)
    # The words that named the exercise being changed never also name its replacement.
    known = {i["exercise_code"]: i for i in catalog}
    taken = _names({**known.get(source, {}), **item}) if item else []
    newcomer = _new_exercise(text, catalog, exclude=codes, taken_names=taken)
    fields = field_changes(text, item) if item else []
    name = routine["routine_name"]

    if source and newcomer and (SWAP.search(text) or (REMOVE.search(text) and ADD.search(text))):
        index = plans.index(item)
        # The new exercise takes the old one's place and volume; its weight starts unknown.
        plans[index] = {
            **{k: v for k, v in item.items() if k != "weight_kg"},
            "exercise_code": newcomer["exercise_code"],
            "exercise_name": newcomer.get("name_ko") if ko else newcomer.get("name_en"),
        }
        changes = [RoutineChange(op="swap", exercise_code=source, new_exercise_code=newcomer["exercise_code"])]
        summary = (
            f"{name}에서 {with_particle(_name(item, ko), '을/를')} "
            f"{with_particle(_name(plans[index], ko), '으로/로')} 바꿨어요. 새 운동은 가벼운 무게로 시작해 보세요."
            if ko
            else f"Swapped {_name(item, ko)} for {_name(plans[index], ko)} in {name}. Start the new one light."
        )
    elif source and fields:
        changes = []
        for field, value in fields:
            changes.append(
                RoutineChange(op="modify", exercise_code=source, field=field, before=item.get(field), after=value)
            )
            item[field] = value
        summary = _modify_summary(name, item, changes, ko)
    elif source and REMOVE.search(text):
        plans.remove(item)
        changes = [RoutineChange(op="remove", exercise_code=source)]
        summary = (
            f"{name}에서 {with_particle(_name(item, ko), '을/를')} 뺐어요."
            if ko
            else f"Removed {_name(item, ko)} from {name}."
        )
    elif newcomer and ADD.search(text):
        amounts = dict(field_changes(text, {}))
        added = {
            "exercise_code": newcomer["exercise_code"],
            "exercise_name": newcomer.get("name_ko") if ko else newcomer.get("name_en"),
            "sets": amounts.get("sets", 3),
            "reps": amounts.get("reps", 12),
        }
        if "weight_kg" in amounts:
            added["weight_kg"] = amounts["weight_kg"]
        plans.append(added)
        changes = [RoutineChange(op="add", exercise_code=newcomer["exercise_code"])]
        summary = (
            f"{name} 마지막에 {_name(added, ko)} {added['sets']}세트 × {added['reps']}회를 추가했어요."
            if ko
            else f"Added {_name(added, ko)} {added['sets']} × {added['reps']} at the end of {name}."
        )
    else:
        return None
    return RoutineUpdate(
        routine_name=name,
        routine_order=routine["routine_order"],
        changes=changes,
        updated_routine=updated,
        summary=summary,
    )


def _move(text: str, routines: list, catalog: list, mentioned: list[str], ko: bool) -> RoutineUpdate | None:
    """An exercise to another place in its routine, or a routine to another place among them."""
    folded = fold(text)
    place = next((p for words, p in PLACES if any(w in folded for w in words.split())), None)
    routine = _target_routine(text, routines, mentioned, None, catalog) or _routine_of_muscle(folded, routines, catalog)
    if place is None or routine is None:
        return None
    updated = copy.deepcopy(routine)
    plans, name = updated.get("plans", []), routine["routine_name"]
    item = next((p for p in plans if p["exercise_code"] in mentioned), None)
    if item is not None:
        before, after = plans.index(item) + 1, len(plans) if place == -1 else min(place, len(plans))
        plans.insert(after - 1, plans.pop(before - 1))
        change = RoutineChange(
            op="move", exercise_code=item["exercise_code"], field="position", before=before, after=after
        )
        what = _name(item, ko)
    else:
        before, after = routine["routine_order"], len(routines) if place == -1 else min(place, len(routines))
        updated["routine_order"] = after
        change = RoutineChange(op="move", field="routine_order", before=before, after=after)
        what = name
    if before == after:
        return None
    summary = f"{with_particle(what, '을/를')} {after}번째로 옮겼어요." if ko else f"Moved {what} to place {after}."
    return RoutineUpdate(
        routine_name=name,
        routine_order=routine["routine_order"],
        changes=[change],
        updated_routine=updated,
        summary=summary,
    )


def _routine_of_muscle(folded: str, routines: list, catalog: list):
    """ "하체를 첫 번째로": the routine with the most exercises for the muscle group named."""
    muscle = next((code for code, names in MUSCLE_NAMES.items() if any(n in folded for n in names)), None)
    muscles = {i["exercise_code"]: i.get("main_muscle_code") for i in catalog}
    scores = [sum(muscles.get(p["exercise_code"]) == muscle for p in r.get("plans", [])) for r in routines]
    return routines[scores.index(max(scores))] if muscle and routines and max(scores) else None


def _modify_summary(routine: str, item: dict[str, Any], changes: list[RoutineChange], ko: bool) -> str:
    parts = []
    for change in changes:
        label, unit = FIELD_LABELS[change.field][0 if ko else 1]
        before = "-" if change.before is None else f"{change.before:g}"
        parts.append(f"{label} {before} → {change.after:g}{unit}")
    if ko:
        return f"{routine}의 {with_particle(_name(item, ko), '을/를')} 바꿨어요: {', '.join(parts)}."
    return f"Changed {_name(item, ko)} in {routine}: {', '.join(parts)}."


def _name(item: dict[str, Any], ko: bool) -> str:
    """The routine's own (Korean) name for a Korean summary; the English name otherwise."""
    if ko:
        return item.get("exercise_name") or item.get("name_ko") or item["exercise_code"].replace("_", " ").title()
    return item.get("name_en") or item["exercise_code"].replace("_", " ").title()


def _names(item: dict[str, Any]) -> list[str]:
    keys = [item.get(k) for k in ("exercise_name", "name_ko", "name_en")]
    code = str(item.get("exercise_code", "")).replace("_", " ")
    return [fold(str(k)) for k in [*keys, code, *item.get("aliases", [])] if k]


def _mentioned_in_routines(text: str, routines: list[dict[str, Any]], catalog: list[dict[str, Any]]) -> list[str]:
    """Codes of routine exercises the text names, in the order they are named; a full name beats a
    part of one at the same place ("deadlift" is DEADLIFT before ROMANIAN_DEADLIFT)."""
    by_code = {i["exercise_code"]: i for i in catalog}
    found: list[tuple[int, int, str]] = []
    folded = fold(text)
    terms = [fold(t) for t in search_terms(text, limit=8)]
    # The words of a longer term alone too ("tricep pushdowns" → "pushdowns"), equipment words
    # aside, unless the whole term names another catalog exercise ("hammer curls" is not "curls").
    catalog_names = {n for i in catalog for n in _names(i)}
    words = [
        fold(w)
        for t in search_terms(text, limit=8)
        if " " in t and not any(v in catalog_names for v in _variants(fold(t)))
        for w in t.split()
        if len(w) >= 4 and w.lower() not in GENERIC_WORDS
    ]
    for routine in routines:
        for plan in routine.get("plans", []):
            names = _names({**by_code.get(plan["exercise_code"], {}), **plan})
            exact = [folded.find(n) for n in names if n and n in folded]
            partial = [folded.find(t) for t in terms if any(v in n for v in _variants(t) for n in names)]
            loose = [folded.find(w) for w in words if any(v in n for v in _variants(w) for n in names)]
            if exact:
                found.append((min(exact), 0, plan["exercise_code"]))
            elif partial:
                found.append((min(partial), 1, plan["exercise_code"]))
            elif loose:
                found.append((min(loose), 2, plan["exercise_code"]))
    return list(dict.fromkeys(code for _, _, code in sorted(found)))


def _target_routine(
    text: str,
    routines: list[dict[str, Any]],
    mentioned: list[str],
    newcomer: dict[str, Any] | None,
    catalog: list[dict[str, Any]],
):
    folded = fold(text)
    for routine in routines:
        key = routine["routine_name"].lower()
        aliases = next((a for k, a in ROUTINE_ALIASES.items() if k in key), [])
        if fold(routine["routine_name"]) in folded or any(fold(a) in folded for a in aliases):
            return routine
    for code in mentioned:
        for routine in routines:
            if any(p["exercise_code"] == code for p in routine.get("plans", [])):
                return routine
    if newcomer is None or not routines:
        return None
    # Something new for no named day: the routine that already trains that muscle most, else
    # the next one due.
    muscle = {i["exercise_code"]: i.get("main_muscle_code") for i in catalog}
    scores = [
        sum(muscle.get(p["exercise_code"]) == newcomer.get("main_muscle_code") for p in r.get("plans", []))
        for r in routines
    ]
    if max(scores) > 0:
        return routines[scores.index(max(scores))]
    return todays_routine(routines)


def _new_exercise(text: str, catalog: list[dict[str, Any]], exclude: set[str], taken_names: list[str]):
    """The catalog exercise the user wants in. A catalog name written out in full wins (the longest:
    "dumbbell shoulder press" over "dumbbell press"); else the best partial match of a term that does
    not belong to an exercise already in the routine, later terms first ("A를 B로": B comes last)."""
    folded = fold(text)
    candidates = [i for i in catalog if i["exercise_code"] not in exclude]
    written = [
        (len(n), folded.rfind(n), i)
        for i in candidates
        for n in _names(i)
        if len(n) >= 3 and n in folded and not any(n in t for t in taken_names)
    ]
    if written:
        return max(written, key=lambda w: w[:2])[2]
    best = None
    for position, term in enumerate(search_terms(text, limit=8)):
        variants = _variants(fold(term))
        if any(v in t for v in variants for t in taken_names):
            continue
        for item in candidates:
            names = _names(item)
            rank = min(
                (
                    0
                    if v in names
                    else 1
                    if any(n.startswith(v) for n in names)
                    else 2
                    if any(v in n for n in names)
                    else 3
                )
                for v in variants
            )
            if rank < 3 and (best is None or (rank, -position) < best[0]):
                best = ((rank, -position), item)
    return best[1] if best else None


def _variants(term: str) -> list[str]:
    """A term and its English singular: "rows" → "row", "lunges" → "lunge"."""
    if term.isascii() and len(term) > 3 and term.endswith("s"):
        return [term, term[:-1]]
    return [term]
