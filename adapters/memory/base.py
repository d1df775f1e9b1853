"""User memory (Qdrant) and the offline embedding model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class MemoryChanges:
    """One consolidated write to a user's memory (see docs/memory.md, "Lifecycle of a fact")."""

    add: list[tuple[str, str]] = field(default_factory=list)  # (key, text): new facts; the key names the point
    update: dict[str, str] = field(default_factory=dict)  # id -> new text: a known fact restated or refined
    retire: list[str] = field(default_factory=list)  # ids of known facts no longer true
    recalled: list[str] = field(default_factory=list)  # ids this request recalled (bounded growth keeps them)
    why: str = "no longer true"  # recorded with what is retired

    def __bool__(self) -> bool:
        return bool(self.add or self.update or self.retire or self.recalled)


class UserMemory(Protocol):
    """Semantic memory of one user's durable facts. Every call is scoped to one userId."""

    async def search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        """This user's top-k active memories scoring at least the store's threshold: [{id, text,
        score, created_at, updated_at (ISO 8601, UTC)}], best first, newest first among equal scores."""

    async def nearest(self, user_id: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        """This user's k active memories nearest to any of `texts`, whatever their score."""

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        """Store (key, text) pairs for this user; the same key overwrites, never duplicates."""

    async def apply(self, user_id: str, changes: MemoryChanges) -> None:
        """Add, update, retire and mark recalled in one write, then keep the user within the cap."""

    async def export(self, user_id: str) -> list[dict[str, Any]]:
        """Everything stored for this user, retired facts included."""

    async def forget(self, user_id: str) -> int:
        """Delete everything stored for this user; how many memories there were."""

    async def aclose(self) -> None: ...
