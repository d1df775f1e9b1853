"""Token events → OCI Streaming (`StreamClient.put_messages`).

Each event is one stream message: key = requestId (one request's events share a partition, so
they stay in order), value = the token event JSON. The REST API carries both as base64 and the SDK
does not encode them, so this emitter does.

Tokens are batched: a batch leaves `linger_s` after its first event, as soon as `max_batch` events
are waiting, and at `flush(request_id)`. With `first_at_once` a request's first event (seq 1) does
not wait: it is what the user is watching a spinner for, and one more call per request is cheap.
One batch is in flight at a time, taken in arrival order, so `seq` order is kept. Entries the
service rejects (`failures` > 0 in a 200 answer) are sent again, in order, up to `max_rounds`
times; whole-call failures (429, 5xx, connection errors) are retried by the SDK within
`retry_strategy`'s bounds.

Token delivery is best effort: a stream outage never fails the request. What could not be
delivered is logged and counted per request; the runner reads the count with `take_lost` and
reports it in the result's `meta.tokens_lost`. After a call fails outright, batches are dropped
without calling for `cooldown_s`, so an outage costs each request at most one retry budget rather
than one per batch (a long answer is dozens of batches) and cannot push its result past the deadline.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import Counter
from typing import Any

from core.contracts import TokenEvent

log = logging.getLogger("reppy.emit.stream")


class StreamTokenEmitter:
    def __init__(
        self,
        client: Any,
        stream_id: str,
        *,
        retry_strategy: Any = None,
        linger_s: float = 0.05,
        max_batch: int = 50,
        max_rounds: int = 3,
        round_pause_s: float = 0.1,
        cooldown_s: float = 10.0,
        first_at_once: bool = False,
    ):
        self._client = client
        self._stream_id = stream_id
        self._retry = retry_strategy
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._max_rounds = max_rounds
        self._round_pause_s = round_pause_s
        self._cooldown_s = cooldown_s
        self._first_at_once = first_at_once
        self._down_until = 0.0  # time.monotonic() before which the stream is treated as down
        self._pending: list[TokenEvent] = []
        self._queued = 0  # events ever queued; with `_taken`, lets a flush wait for exactly its share
        self._taken = 0
        self._send_lock: asyncio.Lock | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task] = set()
        self._lost: Counter[str] = Counter()
        self.total_lost = 0

    async def emit_token(self, event: TokenEvent) -> None:
        self._pending.append(event)
        self._queued += 1
        if len(self._pending) >= self._max_batch or (self._first_at_once and event.seq == 1):
            self._cancel_timer()
            self._send_in_background()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._linger_s, self._on_linger)

    async def flush(self, request_id: str) -> None:
        """Send everything queued so far (this request's tokens and any others' before them)."""
        self._cancel_timer()
        await self._drain(self._queued)

    def take_lost(self, request_id: str) -> int:
        return self._lost.pop(request_id, 0)

    def _on_linger(self) -> None:
        self._timer = None
        self._send_in_background()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _send_in_background(self) -> None:
        task = asyncio.get_running_loop().create_task(self._drain(self._queued))
        self._background.add(task)  # keep a reference until it is done
        task.add_done_callback(self._background.discard)

    async def _drain(self, upto: int) -> None:
        if self._send_lock is None:
            self._send_lock = asyncio.Lock()
        async with self._send_lock:
            while self._taken < upto and self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: len(batch)]
                self._taken += len(batch)
                await self._deliver(batch)

    async def _deliver(self, batch: list[TokenEvent]) -> None:
        if time.monotonic() < self._down_until:
            return self._record_loss(batch, "stream unavailable, not retried during the cool-down")
        remaining = batch
        for round_ in range(1, self._max_rounds + 1):
            try:
                remaining = await asyncio.to_thread(self._put, remaining)
            except Exception as exc:  # the SDK gave up (status, connection): these tokens are lost
                self._down_until = time.monotonic() + self._cooldown_s
                reason = f"{type(exc).__name__} {getattr(exc, 'status', '')}".strip()
                return self._record_loss(remaining, reason)
            if not remaining:
                return
            if round_ < self._max_rounds:
                log.info("stream put: %d of %d entries failed; sending them again", len(remaining), len(batch))
                await asyncio.sleep(self._round_pause_s * round_)
        self._record_loss(remaining, f"entries still failing after {self._max_rounds} rounds")

    def _put(self, events: list[TokenEvent]) -> list[TokenEvent]:
        """One PutMessages call; returns the events the service did not store, in order."""
        from oci.streaming.models import PutMessagesDetails, PutMessagesDetailsEntry

        details = PutMessagesDetails(
            messages=[
                PutMessagesDetailsEntry(
                    key=_b64(event.requestId.encode()), value=_b64(event.model_dump_json().encode())
                )
                for event in events
            ]
        )
        kwargs = {"retry_strategy": self._retry} if self._retry is not None else {}
        result = self._client.put_messages(self._stream_id, details, **kwargs).data
        if not result.failures:
            return []
        return [event for event, entry in zip(events, result.entries, strict=False) if entry.error]

    def _record_loss(self, events: list[TokenEvent], reason: str) -> None:
        per_request = Counter(event.requestId for event in events)
        self._lost.update(per_request)
        self.total_lost += len(events)
        for request_id, count in per_request.items():
            log.warning("request %s: %d token events not delivered to the stream (%s)", request_id, count, reason)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
