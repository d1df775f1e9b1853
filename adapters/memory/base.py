from __future__ import annotations

from typing import Any, Protocol


class UserMemory(Protocol):
    """Semantic memory of one user's durable facts. Every call is scoped to one userId."""

    async def search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        """This user's top-k memories scoring at least the store's threshold: [{text, score,
        created_at (ISO 8601, UTC)}], best first, newest first among equal scores."""

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        """Store (point_id, text) pairs for this user; the same id overwrites, never duplicates."""

    async def aclose(self) -> None: ...
