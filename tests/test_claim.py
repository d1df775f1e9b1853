"""The claim beside the graph (app/claim.py): what waits for it, what does not, and what a refused
or failed claim leaves behind. The runner's side is in reliability/test_claim_beside.py."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.base import MemoryChanges
from app.claim import Claim, ClaimedMemory, NotClaimed
from core.errors import VMUnavailable
from tests.conftest import DEMO_USER

FACT = "왼쪽 무릎이 아프다"


class HeldClaim:
    """A VM whose claim answers when the test says so."""

    def __init__(self):
        self.answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def claim(self, request_id: str) -> bool:
        return await self.answer


async def settle() -> None:
    for _ in range(5):  # a few loop turns: whatever can run now has run
        await asyncio.sleep(0)


async def test_writes_wait_for_the_claim_and_reads_do_not(memory):
    vm = HeldClaim()
    claimed = ClaimedMemory(memory, Claim(vm, "req-1"))
    write = asyncio.create_task(claimed.apply(DEMO_USER, MemoryChanges(add=[("req-1:0", FACT)])))
    assert await claimed.search(DEMO_USER, FACT, 3) == []  # a read goes through while the claim is pending
    await settle()
    assert not write.done() and await memory.export(DEMO_USER) == []

    vm.answer.set_result(True)
    await write
    assert [m["text"] for m in await memory.export(DEMO_USER)] == [FACT]


@pytest.mark.parametrize("answer", [False, VMUnavailable("VM API POST /idempotency/claim timed out")])
async def test_a_refused_or_failed_claim_writes_nothing(memory, answer):
    vm = HeldClaim()
    claim = Claim(vm, "req-2")
    claimed = ClaimedMemory(memory, claim)
    writes = [
        asyncio.create_task(claimed.add(DEMO_USER, [("req-2:0", FACT)])),
        asyncio.create_task(claimed.apply(DEMO_USER, MemoryChanges(add=[("req-2:1", FACT)]))),
        asyncio.create_task(claimed.forget(DEMO_USER)),
    ]
    await settle()
    if isinstance(answer, BaseException):
        vm.answer.set_exception(answer)
    else:
        vm.answer.set_result(answer)
    for write in writes:
        with pytest.raises(NotClaimed):
            await write
    assert await memory.export(DEMO_USER) == []
    # The claim's own outcome is untouched by those who waited for it.
    if answer is False:
        assert await claim.task is False
    else:
        with pytest.raises(VMUnavailable):
            await claim.task


async def test_waiting_for_the_claim_never_cancels_it():
    vm = HeldClaim()
    claim = Claim(vm, "req-3")
    waiter = asyncio.create_task(claim.granted())
    await settle()
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert not claim.task.done()
    vm.answer.set_result(True)
    assert await claim.task is True
    await claim.granted()  # granted now: returns at once
