"""In-process VM Internal API over the demo store: the default when VM_INTERNAL_BASE_URL is unset.
Its answers go through the same typed readers as the HTTP client's, so the graph sees the same
shapes from both (counts as ints, unknown numbers as None)."""

from __future__ import annotations

from typing import Any

from adapters.vm_api.base import default_profile
from adapters.vm_api.demo import DemoStore
from adapters.vm_api.responses import ActiveRoutines, CatalogPage, Profile, parse, plain


class EmbeddedVMApi:
    def __init__(self, store: DemoStore | None = None):
        self.store = store or DemoStore()

    async def claim(self, request_id: str) -> bool:
        return self.store.claim(request_id)

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        profile = self.store.profile(user_id)
        return plain(parse(Profile, profile, "profile")) if profile else default_profile()

    async def get_active_routines(self, user_id: str) -> list[dict[str, Any]]:
        body = {"routines": self.store.active_routines(user_id)}
        return [plain(r) for r in parse(ActiveRoutines, body, "active-routines").routines]

    async def search_exercises(self, query: str) -> list[dict[str, Any]]:
        return [plain(i) for i in parse(CatalogPage, {"items": self.store.search(query)}, "search").items]

    async def aclose(self) -> None:
        return None
