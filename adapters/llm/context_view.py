"""Readable views of the gathered context, shared by both providers: the Gemini prompts render
them, the offline writer quotes them. One place decides which routine is "today's"."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from adapters.llm.memory_age import said_ago, said_at
from core.names import count, exercise_name, readable_code


def todays_routine(routines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The routine after the most recently performed one, in routine_order (cycling); the first
    routine when none was performed yet."""
    if not routines:
        return None
    ordered = sorted(routines, key=lambda r: r.get("routine_order", 0))
    performed = [r for r in ordered if r.get("last_performed_at")]
    if not performed:
        return ordered[0]
    latest = max(performed, key=lambda r: str(r["last_performed_at"]))
    return ordered[(ordered.index(latest) + 1) % len(ordered)]


def last_performed(routines: list[dict[str, Any]]) -> dict[str, Any] | None:
    performed = [r for r in routines if r.get("last_performed_at")]
    return max(performed, key=lambda r: str(r["last_performed_at"])) if performed else None


def plan_line(item: dict[str, Any], korean: bool) -> str:
    """ "바벨 벤치프레스 4세트 × 8회 · 70kg"; numbers the VM did not send are shown as "?"."""
    name = exercise_name(item, korean)
    sets, reps = item.get("sets"), item.get("reps")
    if count(sets) == "?" and count(reps) == "?":
        line = f"{name} (세트·횟수 미정)" if korean else f"{name} (sets and reps not set)"
    else:
        line = f"{name} {count(sets)}세트 × {count(reps)}회" if korean else f"{name} {count(sets)} × {count(reps)}"
    weight = item.get("weight_kg")
    return line + (f" · {weight:g}kg" if isinstance(weight, (int, float)) and weight else "")


def render_routines(routines: list[dict[str, Any]]) -> str:
    if not routines:
        return "(none)"
    today = todays_routine(routines)
    lines = []
    for routine in sorted(routines, key=lambda r: r.get("routine_order", 0)):
        mark = "  <- today" if routine is today else ""
        lines.append(
            f"#{routine.get('routine_order')} {routine.get('routine_name')}"
            f" (last done {routine.get('last_performed_at') or 'never'}){mark}"
        )
        lines.extend(f"  - {plan_line(p, True)} [{p['exercise_code']}]" for p in routine.get("plans", []))
    return "\n".join(lines)


def render_json(value: Any) -> str:
    if not value:
        return "(none)"
    return json.dumps(value, ensure_ascii=False, indent=1)


def render_memory(memories: list[dict[str, Any]], now: datetime | None = None) -> str:
    """One line per memory with when it was said ("3 weeks ago, 2026-11-05"), so recent facts
    outweigh old ones and "last week" can be placed in time."""
    if not memories:
        return "(none)"
    return "\n".join(_dated(m, now) + m["text"] for m in memories)


def _dated(memory: dict[str, Any], now: datetime | None) -> str:
    when = said_at(memory)
    return f"- (said {said_ago(when, False, now)}, {str(when)[:10]}) " if when else "- "


def render_catalog(items: list[dict[str, Any]]) -> str:
    """One line per item with what the VM sent: names, muscle group and equipment when present."""
    if not items:
        return "(none)"
    lines = []
    for item in items:
        names = " / ".join(dict.fromkeys(n for n in (item.get("name_ko"), item.get("name_en")) if n))
        facts = ", ".join(str(item[k]) for k in ("main_muscle_code", "equipment") if item.get(k))
        lines.append(
            f"- {item['exercise_code']}: {names or readable_code(item['exercise_code'])}"
            + (f" ({facts})" if facts else "")
        )
    return "\n".join(lines)


def render_conversation(conversation: list[dict[str, str]]) -> str:
    return "\n".join(f"{turn['role']}: {turn['content']}" for turn in conversation)
