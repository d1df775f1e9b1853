"""The claim of one request, made beside the graph's first superstep instead of before it.

The runner starts the claim (`POST /idempotency/claim`, one VM round trip) and the graph at once,
so routing, planning and prefetching do not wait for it. Reads may run before the claim answers;
nothing leaves the worker until it says yes: the runner awaits `Claim.granted()` before the first
token event and before the result, and the run's memory (`ClaimedMemory`) before every write. A
write or token attempted for a request this instance does not own raises `NotClaimed` instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.errors import WorkerError

log = logging.getLogger("reppy.claim")


class NotClaimed(WorkerError):
    """This instance does not own the request (the claim said no, failed or was cancelled): nothing
    may be published or written for it. Never reaches a result: the runner answers from the claim."""

    code = "NOT_CLAIMED"


class Claim:
    """The claim, running as a task of its own from the moment it is made."""

    def __init__(self, vm: Any, request_id: str):
        self.task: asyncio.Task[bool] = asyncio.create_task(vm.claim(request_id), name=f"claim {request_id}")

    async def granted(self) -> None:
        """Return once the claim says yes; raise NotClaimed if it says no or fails. Waiting here
        never cancels the claim itself."""
        if not self.task.done():
            await asyncio.wait([self.task])
        if self.task.cancelled() or self.task.exception() is not None or not self.task.result():
            raise NotClaimed("the request is not claimed by this instance")


class ClaimedMemory:
    """A user memory whose writes wait for the claim; reads (search, nearest, export) go through
    at once. Everything else is the store's own."""

    def __init__(self, inner: Any, claim: Claim):
        self._inner = inner
        self._claim = claim

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        await self._owned("add")
        await self._inner.add(user_id, items)

    async def apply(self, user_id: str, changes: Any) -> None:
        await self._owned("apply")
        await self._inner.apply(user_id, changes)

    async def forget(self, user_id: str) -> int:
        await self._owned("forget")
        return await self._inner.forget(user_id)

    async def _owned(self, write: str) -> None:
        if not self._claim.task.done():
            log.debug("memory %s waits for the claim", write)
        await self._claim.granted()
