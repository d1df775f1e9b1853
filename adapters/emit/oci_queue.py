"""Result events → OCI Queue (`QueueClient.put_messages`, one message whose content is the result JSON).

The SDK retries nothing by default; `retry_strategy` (see `oci_clients.bounded_retry`) retries
throttling, 5xx and connection errors within a bounded time. If the result still cannot be
published, `emit_result` raises ResultNotPublished: the caller must then report failure so the
delivery is not acknowledged and silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.contracts import ResultEvent
from core.errors import WorkerError

log = logging.getLogger("reppy.emit.queue")


class ResultNotPublished(WorkerError):
    code = "RESULT_NOT_PUBLISHED"
    retryable = True
    event: ResultEvent | None = None


class QueueResultEmitter:
    def __init__(self, client: Any, queue_id: str, *, retry_strategy: Any = None):
        self._client = client
        self._queue_id = queue_id
        self._retry = retry_strategy

    async def emit_result(self, event: ResultEvent) -> None:
        try:
            await asyncio.to_thread(self._put, event.model_dump_json())
        except Exception as exc:
            status = getattr(exc, "status", None)
            code = getattr(exc, "code", None)
            detail = f"{type(exc).__name__}" + (f" {status} {code}" if status else "")
            log.error("request %s: result not published to the queue (%s)", event.requestId, detail)
            error = ResultNotPublished(f"the result of {event.requestId} could not be published ({detail})")
            error.event = event  # kept by the caller, to publish when the request is delivered again
            raise error from exc

    def _put(self, content: str) -> None:
        from oci.queue.models import PutMessagesDetails, PutMessagesDetailsEntry

        details = PutMessagesDetails(messages=[PutMessagesDetailsEntry(content=content)])
        kwargs = {"retry_strategy": self._retry} if self._retry is not None else {}
        self._client.put_messages(self._queue_id, details, **kwargs)
