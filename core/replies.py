"""`final.reply` on every SUCCEEDED and CLARIFY result: the product spec's result carries `final.reply`, and
a backend that shows it must never show nothing. Chat writes its own; for a program, a routine
update or a clarifying question it is composed here, once, where the result is built (the runner),
from the typed payload and in the user's language. The payload keys stay as they are."""

from __future__ import annotations

from typing import Any

from core.names import count, exercise_name, muscle_name

MAX_FOCUS_MUSCLES = 3
FIELD_WORDS = {  # (Korean label, unit), (English label, unit)
    "sets": (("세트", ""), ("sets", "")),
    "reps": (("횟수", "회"), ("reps", "")),
    "weight_kg": (("무게", "kg"), ("weight", " kg")),
}


def with_reply(final: dict[str, Any] | None, *, korean: bool, context: dict[str, Any] | None) -> dict[str, Any] | None:
    """`final` with a `reply` (first, as in the product spec's example) when it has none."""
    if not final or final.get("reply"):
        return final
    return {"reply": compose_reply(final, korean=korean, context=context or {}), **final}


def compose_reply(final: dict[str, Any], *, korean: bool, context: dict[str, Any]) -> str:
    known = _known_exercises(final, context)
    if isinstance(final.get("program"), dict):
        return program_reply(final["program"], korean, known)
    if isinstance(final.get("routine_update"), dict):
        return update_reply(final["routine_update"], korean, known)
    if final.get("question"):
        return str(final["question"])
    return "요청을 처리했어요." if korean else "Done."


def program_reply(program: dict[str, Any], korean: bool, known: dict[str, dict[str, Any]]) -> str:
    """Name, weeks and days, then each day: its focus (the main muscles) and its exercises; then the
    program's notes and what it avoided, when it says."""
    name, weeks, days = program.get("program_name") or "", program.get("weeks"), program.get("days_per_week")
    if korean:
        length = ", ".join(p for p in (f"{weeks}주" if weeks else "", f"주 {days}회" if days else "") if p)
        lines = [f"새 프로그램을 만들었어요: {name}{f' — {length}' if length else ''}."]
    else:
        length = ", ".join(p for p in (f"{weeks} weeks" if weeks else "", f"{days} days a week" if days else "") if p)
        lines = [f"Your new program: {name}{f' — {length}' if length else ''}."]
    routines = sorted(
        (r for r in program.get("routines") or [] if isinstance(r, dict)), key=lambda r: _number(r.get("routine_order"))
    )
    for routine in routines:
        plans = [p for p in routine.get("plans") or [] if isinstance(p, dict)]
        focus = _focus(plans, korean, known)
        exercises = ", ".join(_name(p, korean, known) for p in plans)
        day = routine.get("routine_name") or f"#{routine.get('routine_order')}"
        lines.append(f"• {day}{f' — {focus}' if focus else ''}: {exercises}")
    if program.get("notes"):
        lines.append(str(program["notes"]))
    avoided = _avoided(program.get("avoided"), korean, known)
    if avoided:
        lines.append(f"{'뺀 운동' if korean else 'Left out'}: {avoided}")
    return "\n".join(lines)


def update_reply(update: dict[str, Any], korean: bool, known: dict[str, dict[str, Any]]) -> str:
    """The declared changes, one line each, in words."""
    routine = update.get("routine_name") or f"#{update.get('routine_order')}"
    after = {p.get("exercise_code"): p for p in (update.get("updated_routine") or {}).get("plans") or []}
    lines = [f"{routine} 루틴을 이렇게 바꿨어요:" if korean else f"Changes to {routine}:"]
    for change in update.get("changes") or []:
        code, new_code = change.get("exercise_code"), change.get("new_exercise_code")
        old = _name({"exercise_code": code}, korean, known)
        new = _name({"exercise_code": new_code}, korean, known) if new_code else ""
        op = change.get("op")
        if op == "swap":
            line = f"{old} → {new} 교체" if korean else f"swapped {old} for {new}"
        elif op == "add":
            plan = after.get(code) or {}
            sets, reps = count(plan.get("sets")), count(plan.get("reps"))
            line = f"{old} 추가 ({sets}세트 × {reps}회)" if korean else f"added {old} ({sets} × {reps})"
        elif op == "remove":
            line = f"{old} 삭제" if korean else f"removed {old}"
        elif op == "modify" and change.get("field") in FIELD_WORDS:
            label, unit = FIELD_WORDS[change["field"]][0 if korean else 1]
            line = f"{old} {label} {count(change.get('before'))} → {count(change.get('after'))}{unit}"
        else:
            line = f"{old}: {op}"
        lines.append(f"• {line}")
    return "\n".join(lines)


def _known_exercises(final: dict[str, Any], context: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What is known about each exercise code: catalog facts, then the user's routines' names, then
    the payload's own plans (their names are the ones the user sees)."""
    known: dict[str, dict[str, Any]] = {}
    sources = [*(context.get("exercise_catalog") or [])]
    sources += [p for r in context.get("active_routines") or [] for p in r.get("plans") or []]
    for routine in [
        *((final.get("program") or {}).get("routines") or []),
        (final.get("routine_update") or {}).get("updated_routine") or {},
    ]:
        sources += routine.get("plans") or []
    for item in sources:
        if isinstance(item, dict) and item.get("exercise_code"):
            entry = known.setdefault(item["exercise_code"], {})
            entry.update({k: v for k, v in item.items() if v is not None})
    return known


def _name(plan: dict[str, Any], korean: bool, known: dict[str, dict[str, Any]]) -> str:
    return exercise_name({**known.get(plan.get("exercise_code"), {}), **plan}, korean)


def _focus(plans: list[dict[str, Any]], korean: bool, known: dict[str, dict[str, Any]]) -> str:
    muscles = [known.get(p.get("exercise_code"), {}).get("main_muscle_code") for p in plans]
    ranked = sorted(dict.fromkeys(m for m in muscles if m), key=lambda m: -muscles.count(m))
    return ("·" if korean else ", ").join(muscle_name(m, korean) for m in ranked[:MAX_FOCUS_MUSCLES])


def _avoided(value: Any, korean: bool, known: dict[str, dict[str, Any]]) -> str:
    """A program's `avoided` (codes, names or {exercise_code, reason} items), as words."""
    if not value:
        return ""
    items = value if isinstance(value, list) else [value]
    words = []
    for item in items:
        if isinstance(item, dict):
            name = _name(item, korean, known) if item.get("exercise_code") else str(item.get("name") or "")
            reason = item.get("reason")
            words.append(f"{name} ({reason})" if reason and name else name or str(reason or ""))
        elif isinstance(item, str) and item in known:
            words.append(_name({"exercise_code": item}, korean, known))
        else:
            words.append(str(item))
    return ", ".join(w for w in words if w)


def _number(value: Any) -> float:
    return value if isinstance(value, (int, float)) else float("inf")
