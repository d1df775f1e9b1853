"""What a routine update really changed, computed from the routine before and after, compared with
the changes it declares. Any provider's update goes through it: a declared "swap bench for dumbbell
press" that also quietly changed the squat's reps is refused, and so is a diff that is not there."""

from __future__ import annotations

from typing import Any

from core.schemas import RoutineUpdate

FIELDS = ("sets", "reps", "weight_kg")
IGNORED = {"exercise_name"}  # a display name may be re-rendered in the user's language


def routine_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{removed: {codes}, added: {codes}, modified: {(code, field): (old, new)}, other: [problems]}.
    A swap is a removal plus an addition; whether a provider calls it "swap" is its own business."""
    old = {p["exercise_code"]: p for p in before.get("plans", [])}
    new = {p["exercise_code"]: p for p in after.get("plans", [])}
    other: list[str] = []
    if len(old) != len(before.get("plans", [])) or len(new) != len(after.get("plans", [])):
        other.append("the routine lists the same exercise twice")
    modified = {}
    for code in old.keys() & new.keys():
        for field in FIELDS:
            if old[code].get(field) != new[code].get(field):
                modified[(code, field)] = (old[code].get(field), new[code].get(field))
        rest = {
            k
            for k in (old[code].keys() | new[code].keys()) - set(FIELDS) - IGNORED
            if old[code].get(k) != new[code].get(k)
        }
        if rest:
            other.append(f"{code}: {', '.join(sorted(rest))} changed, which no change can declare")
    kept_before = [c for c in old if c in new]
    kept_after = [c for c in new if c in old]
    return {
        "removed": set(old) - set(new),
        "added": set(new) - set(old),
        "modified": modified,
        "other": other,
        "order": (kept_before, kept_after),
    }


def declared_diff(update: RoutineUpdate) -> dict[str, Any]:
    removed, added, modified, moves = set(), set(), {}, []
    for change in update.changes:
        if change.op == "move" and change.field == "position" and isinstance(change.after, (int, float)):
            moves.append((change.exercise_code, int(change.after)))
        if change.op in ("swap", "remove"):
            removed.add(change.exercise_code)
        if change.op == "swap" and change.new_exercise_code:
            added.add(change.new_exercise_code)
        if change.op == "add":
            added.add(change.exercise_code)
        if change.op == "modify" and change.field in FIELDS:
            modified[(change.exercise_code, change.field)] = (change.before, change.after)
    return {"removed": removed, "added": added, "modified": modified, "moves": moves}


def update_problems(update: RoutineUpdate, original: dict[str, Any]) -> list[str]:
    """Why this update is not exactly the change it declares to `original` (empty when it is)."""
    problems: list[str] = []
    after = update.updated_routine.model_dump(exclude_none=True)
    moved = next((c for c in update.changes if c.op == "move" and c.field == "routine_order"), None)
    new_order = moved.after if moved else original.get("routine_order")
    if after.get("routine_name") != original.get("routine_name") or after.get("routine_order") != new_order:
        problems.append("the updated routine must keep its name, and its order unless a move declares it")
    if moved and moved.before is not None and moved.before != original.get("routine_order"):
        problems.append(f"the routine move declares it was #{moved.before}, it is #{original.get('routine_order')}")
    actual = routine_diff(original, after)
    declared = declared_diff(update)
    problems += actual["other"]
    # A routine's existing plans may lack numbers the VM never had; an exercise the update adds may not.
    unsized = sorted(
        p.exercise_code
        for p in update.updated_routine.plans
        if p.exercise_code in actual["added"] and (p.sets is None or p.reps is None)
    )
    if unsized:
        problems.append(f"added exercises need sets and reps: {', '.join(unsized)}")
    kept_before, kept_after = actual["order"]
    expected = [c for c in kept_before]
    for code, place in declared["moves"]:
        if code in expected:
            expected.remove(code)
            expected.insert(max(0, place - 1), code)
    if expected != kept_after:
        problems.append(
            "exercises that were kept changed their order" + (" other than declared" if declared["moves"] else "")
        )
    for key in ("removed", "added"):
        if actual[key] != declared[key]:
            problems.append(f"{key} exercises: declared {sorted(declared[key])}, actually {sorted(actual[key])}")
    for (code, field), (old, new) in actual["modified"].items():
        said = declared["modified"].get((code, field))
        if said is None or not _same(said[1], new) or (said[0] is not None and not _same(said[0], old)):
            problems.append(f"{code} {field} changed {old} → {new}, but the update declares {said}")
    for code, field in declared["modified"].keys() - actual["modified"].keys():
        problems.append(f"{code} {field}: declared as changed, but it is not")
    if not any(actual[k] for k in ("removed", "added", "modified")) and kept_before == kept_after and not moved:
        problems.append("the updated routine is identical to the original")
    return problems


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-9
    return a == b
