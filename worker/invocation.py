"""One OCI Function invocation: every delivery of the batch through the shared runner, concurrently
(at most `concurrency` at a time) and independently, within the invocation's deadline.

Each request gets what is left until `deadline - reserve_s` as its timeout, so the runner still has
`reserve_s` to flush tokens and publish a FAILED/TIMEOUT result before the platform ends the call.

The invocation fails (HTTP 502) only when a result could not be published: then the batch must be
delivered again rather than acknowledged. Bad input does not fail it — a redelivery cannot fix it,
and it has already been answered with a FAILED result where it had a readable requestId.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from worker.deliveries import request_id_of, split_deliveries
from worker.dependencies import Dependencies
from worker.runner import handle

log = logging.getLogger("reppy.invocation")

UNPUBLISHED = "UNPUBLISHED"  # the request ran (or was rejected) but its result could not be published


@dataclass
class InvocationReport:
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unpublished(self) -> int:
        return sum(1 for o in self.outcomes if o["status"] == UNPUBLISHED)

    @property
    def status_code(self) -> int:
        return 502 if self.unpublished else 200

    def body(self) -> dict[str, Any]:
        return {"count": len(self.outcomes), "unpublished": self.unpublished, "outcomes": self.outcomes}


async def run_invocation(body: bytes, deps: Dependencies, *, deadline: float | None = None,
                         reserve_s: float = 0.0, concurrency: int = 4) -> InvocationReport:
    """`deadline` is on the `time.monotonic()` clock; None means no deadline."""
    deliveries = split_deliveries(body)
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, delivery) -> dict[str, Any]:
        async with gate:
            # Measured when the request starts: time spent waiting for the gate is already gone.
            timeout_s = None if deadline is None else max(0.0, deadline - reserve_s - time.monotonic())
            try:
                outcome = await handle(delivery, deps, timeout_s=timeout_s)
            except Exception as exc:  # publishing the result failed: this delivery must come again
                request_id = request_id_of(delivery)
                log.error("delivery %d (request %s): result not published: %s", index, request_id,
                          getattr(exc, "code", type(exc).__name__))
                return {"index": index, "requestId": request_id, "status": UNPUBLISHED,
                        "error": getattr(exc, "code", "INTERNAL"), "tokens": 0}
        return {"index": index, "requestId": outcome.request_id, "status": outcome.status,
                "error": outcome.error_code, "tokens": outcome.tokens}

    outcomes = await asyncio.gather(*(one(i, d) for i, d in enumerate(deliveries)))
    report = InvocationReport(list(outcomes))
    log.info("invocation: %d deliveries, %s", len(outcomes),
             ", ".join(f"{s}={n}" for s, n in Counter(o["status"] for o in outcomes).items()) or "nothing to do")
    return report
