"""What the catalog's own data says about an exercise, for checks and for the offline writer alike:
the movement it trains (to tell near-duplicates apart) and the muscle it loads."""

from __future__ import annotations

from typing import Any

# Words of an English catalog name that say how a movement is loaded, not which movement it is:
# "Barbell Bench Press" and "Dumbbell Bench Press" are one movement, "Incline Dumbbell Press" another.
LOADING_WORDS = {"barbell", "dumbbell", "cable", "machine", "one-arm", "light", "seated", "standing", "bench", "chest"}
SAME_MOVEMENT = {"overhead": "shoulder", "military": "shoulder"}


def movement(item: dict[str, Any]) -> tuple[str, str]:
    """(main muscle, movement words): equal for near-duplicates such as the barbell and the dumbbell
    bench press, or the overhead and the dumbbell shoulder press."""
    words = str(item.get("name_en") or item.get("exercise_code", "")).lower().replace("_", " ").split()
    kept = sorted({SAME_MOVEMENT.get(w, w) for w in words if w not in LOADING_WORDS})
    return str(item.get("main_muscle_code") or ""), " ".join(kept)


def loaded_muscles(item: dict[str, Any]) -> set[str]:
    """The catalog muscle codes an exercise loads: its main muscle and its target, if any."""
    return {m for m in (item.get("main_muscle_code"), item.get("target")) if m}


def is_full_body(muscles: set[str]) -> bool:
    """A day's main muscles train the lower body and at least two of chest, back and shoulders."""
    return bool(muscles & {"LEGS", "GLUTES"}) and len(muscles & {"CHEST", "BACK", "SHOULDERS"}) >= 2
