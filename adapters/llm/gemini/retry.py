"""Bounded retries for Gemini calls: 429 waits as long as the server asks (RetryInfo / Retry-After),
5xx and broken connections back off exponentially; never longer than the configured maximum,
never more often than the configured count. Timeouts and rejected requests are not retried: a
timed-out call may still be running (and billing), and a rejected one fails the same way again.

The chat stream is retried only before its first chunk: once tokens reached the user, a second
answer would be appended to the first."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from adapters.llm.gemini.failures import classify, retry_delay_s
from core.errors import LLMError, LLMRateLimited, LLMUnavailable

log = logging.getLogger("reppy.gemini")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay_s: float = 1.0
    max_delay_s: float = 10.0

    def delay(self, error: LLMError, exc: BaseException, retries_done: int) -> float | None:
        """Seconds to wait before the next attempt, or None: give up now with `error`."""
        if retries_done >= self.max_retries:
            return None
        if isinstance(error, LLMRateLimited):
            asked = retry_delay_s(exc)
            if asked is not None:
                if asked > self.max_delay_s:
                    # Waiting that long would hold the request; fail it as retryable instead.
                    error.message += f"; asked to retry after {asked:g}s, more than the {self.max_delay_s:g}s allowed"
                    return None
                return asked
        elif not isinstance(error, LLMUnavailable):
            return None
        backoff = self.base_delay_s * 2**retries_done
        return min(self.max_delay_s, backoff * random.uniform(0.5, 1.0))  # jitter spreads many workers

    async def wait_or_raise(self, exc: Exception, node: str, timeout_s: float, retries_done: int) -> None:
        """After a failed attempt: sleep before the next one, or raise the typed error. Exceptions
        that are not model call failures are re-raised as they are."""
        error = classify(exc, node, timeout_s)
        if error is None:
            raise exc
        wait = self.delay(error, exc, retries_done)
        if wait is None:
            if retries_done:
                error.message += f" (after {retries_done + 1} attempts)"
            raise error from None
        log.warning("%s: %s, retry %d/%d in %.2fs", node, error.code, retries_done + 1, self.max_retries, wait)
        await asyncio.sleep(wait)


async def call_with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy, node: str, timeout_s: float) -> T:
    retries_done = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            await policy.wait_or_raise(exc, node, timeout_s, retries_done)
            retries_done += 1
