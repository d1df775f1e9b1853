"""In-process VM Internal API over the demo store: the default when VM_INTERNAL_BASE_URL is unset."""

from __future__ import annotations

from typing import Any

from adapters.vm_api.base import default_profile
from adapters.vm_api.demo import DemoStore


class EmbeddedVMApi:
    def __init__(self, store: DemoStore | None = None):
        self.store = store or DemoStore()

    async def claim(self, request_id: str) -> bool:
        return self.store.claim(request_id)

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        return self.store.profile(user_id) or default_profile()

    async def get_active_routines(self, user_id: str) -> list[dict[str, Any]]:
        return self.store.active_routines(user_id)

    async def search_exercises(self, query: str) -> list[dict[str, Any]]:
        return self.store.search(query)

    async def aclose(self) -> None:
        return None
