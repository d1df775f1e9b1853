"""Adapters cut off at a request's deadline: every model and VM call gets what is left of it as its
timeout, on top of the adapter's own (which may be far longer: 120 s for a main-model call).

The runner builds these views per request (`Dependencies.context(deadline)`), so the remaining time
travels with the run's context, not through a global. A call that runs out of time fails with the
adapter's own typed, retryable error (LLM_TIMEOUT, VM_UNAVAILABLE) and the node handles it as it
handles any such failure; a retry backoff that would outlast the deadline is cut the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from core.errors import LLMTimeout, VMUnavailable, WorkerError


class _DeadlineView:
    """Delegates everything to `inner`; its coroutine methods and async generators are cut off at
    `deadline` (on the `time.monotonic()` clock)."""

    def __init__(self, inner: Any, deadline: float):
        self._inner = inner
        self._deadline = deadline

    def _late(self, method: str) -> WorkerError:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name == "aclose" or not callable(attr):
            return attr
        if inspect.isasyncgenfunction(attr):
            return self._bounded_stream(name, attr)
        if inspect.iscoroutinefunction(attr):
            return self._bounded_call(name, attr)
        return attr

    def _left(self) -> float:
        return self._deadline - time.monotonic()

    def _bounded_call(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            left = self._left()
            if left <= 0:
                raise self._late(name)
            try:
                async with asyncio.timeout(left):
                    return await method(*args, **kwargs)
            except TimeoutError:
                raise self._late(name) from None

        return call

    def _bounded_stream(self, name: str, method: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            chunks = method(*args, **kwargs)
            try:
                while True:
                    # Each wait is bounded by the same instant, so the whole stream is too. (A timeout
                    # around the `yield` would cancel whatever the consumer awaits in between.)
                    left = self._left()
                    if left <= 0:
                        raise self._late(name)
                    try:
                        async with asyncio.timeout(left):
                            chunk = await anext(chunks)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        raise self._late(name) from None
                    yield chunk
            finally:
                await chunks.aclose()

        return stream


class DeadlineModel(_DeadlineView):
    """A model provider whose calls end by the deadline (LLM_TIMEOUT, retryable)."""

    def _late(self, method: str) -> WorkerError:
        return LLMTimeout(f"{method}: no model answer before the invocation's deadline")


class DeadlineVM(_DeadlineView):
    """A VM API whose calls end by the deadline (VM_UNAVAILABLE, retryable)."""

    def _late(self, method: str) -> WorkerError:
        return VMUnavailable(f"VM API {method}: no answer before the invocation's deadline")
