"""Sets, reps and weight changes read from a message, Korean and English:

"5세트로" / "to 5 sets" / "3 sets instead of 4"     → sets = 5 / 5 / 3        (a target)
"5kg 올려줘" / "add 5kg" / "by 10kg" + lower        → weight ± 5 / + 5 / − 10 (a step)
"세트 하나 줄여줘" / "한 세트 더" / "one more set"  → sets − 1 / + 1 / + 1
"6회에서 8회로" / "from 6 to 8 reps"                → reps = 8 (the first number is the old one)
"5 sets of 5"                                       → sets = 5, reps = 5
"무게 좀 올려줘" (no number)                         → weight + 2.5 (the smallest sensible step)
"""

from __future__ import annotations

import math
import re
from typing import Any

_I = re.IGNORECASE
UNITS = {
    "weight_kg": r"kg|킬로|키로|kilos?",
    "sets": r"세트|sets?",
    "reps": r"회|개|번|reps?|repetitions?",
}
FIELD_WORDS = {
    "weight_kg": r"무게|중량|weight",
    "sets": r"세트\s*수|세트수|세트|sets?",
    "reps": r"횟수|반복\s*(?:수|횟수)?|렙수|reps?",
}
UP = re.compile(r"올려|올리|늘려|늘리|추가|더|업|\b(?:up|increase|raise|bump|add|more|heavier)\b", _I)
DOWN = re.compile(r"내려|내리|줄여|줄이|낮춰|낮추|빼|덜|\b(?:down|decrease|reduce|lower|drop|less|lighter|cut)\b", _I)
TARGET_AFTER = re.compile(r"^\s*(?:으로|로|까지|짜리|씩\s*(?:으로|로))", _I)
TARGET_BEFORE = re.compile(r"\b(?:to|at|make\s+(?:it|them)?|set\s+(?:it|them)?)\s*$", _I)
STEP_AFTER = re.compile(r"^\s*(?:더|씩|만큼|more\b)", _I)
STEP_BEFORE = re.compile(r"(?:\bby|\badd|\banother|\bextra)\s*$", _I)
OLD_AFTER = re.compile(r"^\s*(?:에서|→)", _I)
OLD_BEFORE = re.compile(r"\b(?:from|instead\s+of|of)\s*$", _I)
ONE = r"(?:하나|한\s*개|한|1|one|a)"
ONE_SET_MORE = re.compile(
    r"세트\s*" + ONE + r"?\s*(?:더|추가|늘려)|" + ONE + r"\s*세트\s*(?:더|추가)|"
    r"\b(?:one|an?)\s+(?:more|extra)\s+set\b|\badd\s+(?:a|one)\s+set\b",
    _I,
)
ONE_SET_LESS = re.compile(
    r"세트\s*" + ONE + r"?\s*(?:줄여|빼|덜)|" + ONE + r"\s*세트\s*(?:줄여|빼|덜)|"
    r"\b(?:one|a)\s+(?:less|fewer)\s+sets?\b|\bdrop\s+(?:a|one)\s+set\b",
    _I,
)
NUMBER = r"(\d{1,3}(?:\.\d{1,2})?)"
DEFAULT_WEIGHT_STEP = 2.5


def field_changes(message: str, item: dict[str, Any]) -> list[tuple[str, float]]:
    """[(field, new value)] the message asks of this routine item, in field order, at most one per
    field; empty when it asks none."""
    found: dict[str, float] = {}
    direction = -1 if DOWN.search(message) and not UP.search(message) else 1
    for field, unit in UNITS.items():
        for match in re.finditer(NUMBER + r"\s*(?:" + unit + r")(?![a-z])", message, _I):
            value = float(match.group(1))
            before, after = message[: match.start()], message[match.end() :]
            if OLD_AFTER.match(after) or OLD_BEFORE.search(before):
                continue  # "6회에서", "instead of 4": the old value
            if (
                STEP_AFTER.match(after)
                or STEP_BEFORE.search(before)
                or (
                    field == "weight_kg"
                    and not TARGET_AFTER.match(after)
                    and not TARGET_BEFORE.search(before)
                    and (UP.search(after) or DOWN.search(after))
                )
            ):
                found[field] = (item.get(field) or 0) + direction * value
            else:
                found[field] = value
            break
    # "5 sets of 5": the bare number after "sets of" is the reps.
    if "reps" not in found and (match := re.search(r"sets?\s+of\s+(\d{1,3})\b", message, _I)):
        found["reps"] = float(match.group(1))
    # A field named without a unit on its number: "세트수 5로", "무게 55로", "reps 10으로".
    for field, words in FIELD_WORDS.items():
        if field in found:
            continue
        if match := re.search(
            r"(?:" + words + r")\s*(?:를|을|는|은|도)?\s*(?:to\s+)?" + NUMBER + r"\s*(?:으로|로|까지|\b)", message, _I
        ):
            found[field] = float(match.group(1))
    # "70에서 72.5로": no unit, but the old number is this item's current value of some field.
    if match := re.search(NUMBER + r"\s*에서\s*" + NUMBER + r"\s*(?:으로|로)", message):
        old, new = float(match.group(1)), float(match.group(2))
        for field in UNITS:
            if field not in found and item.get(field) is not None and float(item[field]) == old:
                found[field] = new
    # "데드리프트 130으로", "squat to 110": no unit at all; the field whose current value is nearest.
    bare = re.search(NUMBER + r"\s*(?:으로|로|까지)|\bto\s+" + NUMBER + r"\b", message, _I)
    current = {f: float(item[f]) for f in UNITS if item.get(f)}
    if not found and bare and current:
        value = float(bare.group(1) or bare.group(2))
        found[min(current, key=lambda f: abs(math.log(value / current[f])) if value else math.inf)] = value
    if "sets" not in found and item.get("sets"):
        if ONE_SET_MORE.search(message):
            found["sets"] = item["sets"] + 1
        elif ONE_SET_LESS.search(message):
            found["sets"] = item["sets"] - 1
    weight_asked = not found and re.search(FIELD_WORDS["weight_kg"], message, _I) and item.get("weight_kg")
    if weight_asked and (UP.search(message) or DOWN.search(message)):
        found["weight_kg"] = item["weight_kg"] + direction * DEFAULT_WEIGHT_STEP
    return [
        (field, _tidy(field, found[field]))
        for field in UNITS
        if field in found and found[field] > 0 and found[field] != item.get(field)
    ]


def _tidy(field: str, value: float) -> float | int:
    return round(value, 2) if field == "weight_kg" else round(value)
