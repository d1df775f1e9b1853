"""Per-request timing, without touching the worker's code: thin wrappers around the adapters (the
graph's own Protocols, not the client libraries) and the emitters.

- Adapter calls record a span (start, end) on the request running them, found through a context
  variable: LangGraph runs nodes in tasks that copy the caller's context. For the streamed answer
  only the waits inside the stream count; the time the graph spends on each chunk is the worker's.
- The emitters record when a request's first token event and its result reach them.

The worker's own time is then end-to-end minus the wall time covered by at least one adapter call.
All times are time.monotonic(), which on Linux is one clock for every process of the host, so they
compare with the stand-in's schedule.
"""

from __future__ import annotations

import contextvars
import inspect
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from core.contracts import ResultEvent, TokenEvent

CURRENT: contextvars.ContextVar[RequestProbe | None] = contextvars.ContextVar("bench_probe", default=None)


@dataclass
class RequestProbe:
    request_id: str
    started: float = field(default_factory=time.monotonic)
    spans: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, adapter call)
    first_token_at: float | None = None
    tokens: int = 0
    result_at: float | None = None
    result: ResultEvent | None = None

    @property
    def e2e_s(self) -> float:
        return (self.result_at or time.monotonic()) - self.started

    def adapter_s(self) -> float:
        """Wall time inside at least one adapter call (overlapping calls count once)."""
        end = self.result_at or time.monotonic()
        covered, reach = 0.0, self.started
        for start, stop, _ in sorted(self.spans):
            start, stop = max(start, reach), min(stop, end)
            if stop > start:
                covered += stop - start
                reach = stop
        return covered

    def own_s(self) -> float:
        return self.e2e_s - self.adapter_s()


def _record(name: str, start: float) -> None:
    probe = CURRENT.get()
    if probe is not None:
        probe.spans.append((start, time.monotonic(), name))


class Probed:
    """Times every coroutine method of `inner`, and the waits of `stream_chat`."""

    def __init__(self, inner: Any, label: str):
        self._inner = inner
        self._label = label

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name == "stream_chat":
            return lambda *args, **kwargs: self._stream(attr(*args, **kwargs), f"{self._label}.{name}")
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                return await attr(*args, **kwargs)
            finally:
                _record(f"{self._label}.{name}", start)

        return timed

    @staticmethod
    async def _stream(chunks: AsyncIterator[Any], name: str) -> AsyncIterator[Any]:
        iterator = chunks.__aiter__()
        while True:
            start = time.monotonic()
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                _record(name, start)
                return
            except BaseException:
                _record(name, start)
                raise
            _record(name, start)
            yield chunk


class ProbedEmitter:
    """Token and result emitter: records arrival times per request, then passes events on."""

    def __init__(self, probes: dict[str, RequestProbe], tokens: Any = None):
        self._probes = probes
        self._tokens = tokens  # the real token emitter (OCI Streaming) or None: kept in memory only

    async def emit_token(self, event: TokenEvent) -> None:
        probe = self._probes.get(event.requestId)
        if probe is not None:
            probe.tokens += 1
            if probe.first_token_at is None:
                probe.first_token_at = time.monotonic()
        if self._tokens is not None:
            await self._tokens.emit_token(event)

    async def flush(self, request_id: str) -> None:
        if self._tokens is not None:
            await self._tokens.flush(request_id)

    def take_lost(self, request_id: str) -> int:
        return self._tokens.take_lost(request_id) if self._tokens is not None else 0

    async def emit_result(self, event: ResultEvent) -> None:
        probe = self._probes.get(event.requestId)
        if probe is not None:
            probe.result_at = time.monotonic()
            probe.result = event
