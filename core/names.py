"""Readable names for the VM's codes, in Korean and English. The VM may send only codes (the product spec's
catalog items carry `exercise_code` and `main_muscle_code`): a missing name is the code made
readable, never "None"."""

from __future__ import annotations

from typing import Any

MUSCLE_NAMES = {
    "CHEST": ("가슴", "chest"),
    "BACK": ("등", "back"),
    "LEGS": ("하체", "legs"),
    "SHOULDERS": ("어깨", "shoulders"),
    "ARMS": ("팔", "arms"),
    "CORE": ("코어", "core"),
    "GLUTES": ("둔근", "glutes"),
    "QUADS": ("대퇴사두", "quads"),
    "HAMSTRINGS": ("햄스트링", "hamstrings"),
    "CALVES": ("종아리", "calves"),
    "BICEPS": ("이두", "biceps"),
    "TRICEPS": ("삼두", "triceps"),
}

# Words in many exercise names, in each language: searched for a new program, so a VM whose search
# matches names only (not muscle groups) still yields a catalog that covers every muscle group.
COMMON_EXERCISES = {
    "ko": ["스쿼트", "프레스", "로우", "데드리프트", "컬", "풀업", "레이즈", "런지", "플랭크", "플라이"],
    "en": ["squat", "press", "row", "deadlift", "curl", "pull", "raise", "lunge", "plank", "fly"],
}


def readable_code(code: Any) -> str:
    """`BARBELL_BENCH_PRESS` → `Barbell Bench Press`."""
    return " ".join(str(code or "").replace("_", " ").split()).title()


def exercise_name(item: dict[str, Any], korean: bool) -> str:
    """An exercise's name in the user's language, from a routine plan or a catalog item."""
    readable = readable_code(item.get("exercise_code"))
    if korean:
        return item.get("exercise_name") or item.get("name_ko") or item.get("name_en") or readable
    return item.get("name_en") or readable


def muscle_name(code: Any, korean: bool) -> str:
    names = MUSCLE_NAMES.get(str(code or "").upper())
    if names:
        return names[0 if korean else 1]
    return readable_code(code) if korean else readable_code(code).lower()


def count(value: Any) -> str:
    """A number of sets or reps as shown to a person: "?" when the VM did not say."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "?"
    return f"{value:g}"
