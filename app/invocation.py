"""One OCI Function invocation: every delivery of the batch through the shared runner, concurrently
(at most `concurrency` at a time) and independently, within the invocation's deadline.

Each request gets what is left until `deadline - reserve_s` as its timeout, so the runner still has
`reserve_s` to flush tokens and publish a FAILED/TIMEOUT result before the platform ends the call.
A request that had to wait for a slot and then has less than `min_start_s` left is not started:
it stays unclaimed (DEFERRED) and the invocation fails, so the batch comes again; the requests
that were answered are skipped then by their claim. No request ends as TIMEOUT only because it queued.

The invocation fails (HTTP 502) only when a result could not be published: then the batch must be
delivered again rather than acknowledged. Bad input does not fail it — a redelivery cannot fix it,
and it has already been answered with a FAILED result where it had a readable requestId.

A redelivered request is already claimed, so the runner skips it. The result that could not be
published is therefore kept (`UnpublishedResults`, per warm instance) and published when its request
comes again, instead of running the request a second time.

A warm instance also remembers the requestIds it has taken on (`TakenRequests`) and skips a
delivery of one of them without asking the VM. The VM's claim decides everywhere else; this closes
the one gap it leaves: when a claim's answer was lost, the worker has already published a FAILED
result, and if the VM never recorded that claim, a redelivery (a Connector Hub retry of the batch,
say) would be claimed afresh and answered a second time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.deliveries import request_id_of, split_deliveries
from app.dependencies import Dependencies
from app.runner import _failed, handle
from core.contracts import Meta, ResultEvent
from core.errors import WorkerError

if TYPE_CHECKING:
    from adapters.emit.base import ResultEmitter

log = logging.getLogger("reppy.invocation")

UNPUBLISHED = "UNPUBLISHED"  # the request ran (or was rejected) but its result could not be published
DEFERRED = "DEFERRED"  # not started (unclaimed): too little time left after waiting for a slot


class UnpublishedResults:
    """Results whose publishing failed, by requestId; the oldest are forgotten past `capacity`."""

    def __init__(self, capacity: int = 1000):
        self._capacity = capacity
        self._results: OrderedDict[str, ResultEvent] = OrderedDict()

    def keep(self, event: ResultEvent) -> None:
        self._results[event.requestId] = event
        self._results.move_to_end(event.requestId)
        while len(self._results) > self._capacity:
            self._results.popitem(last=False)

    def pop(self, request_id: str | None) -> ResultEvent | None:
        return self._results.pop(request_id, None) if request_id else None

    def __len__(self) -> int:
        return len(self._results)


class TakenRequests:
    """RequestIds this instance has taken on — in flight or answered — the oldest forgotten past
    `capacity`."""

    def __init__(self, capacity: int = 10_000):
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def take(self, request_id: str) -> bool:
        """True when the request is new to this instance (and is now taken)."""
        if request_id in self._ids:
            return False
        self._ids[request_id] = None
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True

    def release(self, request_id: str | None) -> None:
        self._ids.pop(request_id, None)


@dataclass
class InvocationReport:
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unpublished(self) -> int:
        return sum(1 for o in self.outcomes if o["status"] == UNPUBLISHED)

    @property
    def deferred(self) -> int:
        return sum(1 for o in self.outcomes if o["status"] == DEFERRED)

    @property
    def status_code(self) -> int:
        """502 asks for the batch again (fdk passes only 200, 502 and 504 through)."""
        return 502 if self.unpublished or self.deferred else 200

    def body(self) -> dict[str, Any]:
        return {
            "count": len(self.outcomes),
            "unpublished": self.unpublished,
            "deferred": self.deferred,
            "outcomes": self.outcomes,
        }


async def run_invocation(
    body: bytes,
    deps: Dependencies,
    *,
    deadline: float | None = None,
    reserve_s: float = 0.0,
    min_start_s: float = 0.0,
    concurrency: int = 4,
    unpublished: UnpublishedResults | None = None,
    taken: TakenRequests | None = None,
) -> InvocationReport:
    """`deadline` is on the `time.monotonic()` clock; None means no deadline. `unpublished` and
    `taken` belong to the warm instance (fresh ones when left out)."""
    deliveries = split_deliveries(body)
    gate = asyncio.Semaphore(concurrency)
    kept = unpublished if unpublished is not None else UnpublishedResults()
    taken = taken if taken is not None else TakenRequests()

    async def one(index: int, delivery) -> dict[str, Any]:
        request_id = request_id_of(delivery)
        queued = gate.locked()
        async with gate:
            # Measured when the request starts: time spent waiting for the gate is already gone.
            timeout_s = None if deadline is None else max(0.0, deadline - reserve_s - time.monotonic())
            if queued and request_id is not None and timeout_s is not None and timeout_s < min_start_s:
                log.warning(
                    "request %s: %.1fs left after waiting for a slot; left for redelivery", request_id, timeout_s
                )
                return {"index": index, "requestId": request_id, "status": DEFERRED, "error": None, "tokens": 0}
            if request_id is not None and not taken.take(request_id):
                log.info("request %s delivered again to the instance that took it: skipped", request_id)
                return {"index": index, "requestId": request_id, "status": "SKIPPED", "error": None, "tokens": 0}
            try:
                outcome = await handle(delivery, deps, timeout_s=timeout_s)
            except Exception as exc:  # publishing the result failed: this delivery must come again
                taken.release(request_id)
                return _not_published(index, request_id, exc, kept)
            earlier = kept.pop(outcome.request_id)
            if outcome.status == "SKIPPED" and earlier is not None:
                published = await _publish_kept(index, earlier, deps, kept)
                if published["status"] == UNPUBLISHED:
                    taken.release(request_id)
                return published
            # Otherwise a result has just gone out (or the request is another instance's): a result
            # kept from an earlier delivery is stale and must never follow it.
        return {
            "index": index,
            "requestId": outcome.request_id,
            "status": outcome.status,
            "error": outcome.error_code,
            "tokens": outcome.tokens,
        }

    # A task group, not gather: when the invocation is cancelled, it waits until every request has
    # published its CANCELLED result (gather would return at the first cancelled one).
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, d)) for i, d in enumerate(deliveries)]
    outcomes = [task.result() for task in tasks]
    report = InvocationReport(outcomes)
    log.info(
        "invocation: %d deliveries, %s",
        len(outcomes),
        ", ".join(f"{s}={n}" for s, n in Counter(o["status"] for o in outcomes).items()) or "nothing to do",
    )
    return report


async def _publish_kept(index: int, event: ResultEvent, deps: Dependencies, kept: UnpublishedResults) -> dict:
    try:
        await deps.results.emit_result(event)
    except Exception as exc:
        return _not_published(index, event.requestId, exc, kept)
    log.info("request %s: its earlier unpublished result is now published", event.requestId)
    return {
        "index": index,
        "requestId": event.requestId,
        "status": event.status,
        "error": event.error.code if event.error else None,
        "tokens": 0,
        "republished": True,
    }


def _not_published(index: int, request_id: str | None, exc: Exception, kept: UnpublishedResults) -> dict:
    code = getattr(exc, "code", "INTERNAL")
    log.error("delivery %d (request %s): result not published: %s", index, request_id, code)
    event = getattr(exc, "event", None)
    if isinstance(event, ResultEvent):
        kept.keep(event)
    return {"index": index, "requestId": request_id, "status": UNPUBLISHED, "error": code, "tokens": 0}


async def answer_config_error(body: bytes, error: WorkerError, results: ResultEmitter) -> InvocationReport:
    """The instance cannot be configured: every delivery with a readable requestId gets a FAILED
    result carrying `error`, and nothing else happens — no claim, no model, VM or memory call. (A
    redelivery is answered again; consumers dedupe results by requestId.)"""
    outcomes = []
    for index, delivery in enumerate(split_deliveries(body)):
        request_id = request_id_of(delivery)
        outcome = {"index": index, "requestId": request_id, "status": "FAILED", "error": error.code, "tokens": 0}
        if request_id is not None:
            try:
                await results.emit_result(_failed(request_id, error.to_error(), Meta(), {}))
            except Exception as exc:
                outcome = _not_published(index, request_id, exc, UnpublishedResults())
        outcomes.append(outcome)
    return InvocationReport(outcomes)
