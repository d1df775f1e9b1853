from __future__ import annotations

from typing import Any, Protocol

# What a user without a stored profile gets (the VM answers 404): a cautious beginner.
_DEFAULT_PROFILE = {
    "username": None,
    "experience_level": "BEGINNER",
    "goal": "GENERAL_FITNESS",
    "training_days_per_week": 3,
    "equipment": ["BODYWEIGHT", "DUMBBELL"],
}


def default_profile() -> dict[str, Any]:
    return {**_DEFAULT_PROFILE, "equipment": list(_DEFAULT_PROFILE["equipment"])}


class VMApi(Protocol):
    """The four endpoints of the VM Internal API contract (docs/vm-api.md)."""

    async def claim(self, request_id: str) -> bool:
        """POST /idempotency/claim: True when this delivery owns the request."""

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        """GET /users/{userId}/profile (defaults when the user has none)."""

    async def get_active_routines(self, user_id: str) -> list[dict[str, Any]]:
        """GET /users/{userId}/active-routines → the `routines` list."""

    async def search_exercises(self, query: str) -> list[dict[str, Any]]:
        """GET /exercises/search?q= → the `items` list."""

    async def aclose(self) -> None: ...
