"""The runner every entrypoint shares: claim ‖ run the graph → token events → exactly one result.

The claim runs beside the graph's first superstep (app/claim.py): routing, planning and prefetching
do not wait for its VM round trip, but nothing leaves the worker before it says yes — the first
token event waits for it, the result is published after it, and memory writes are held for it. A
refused claim (another instance owns the request) stops the graph and publishes nothing, even if
the graph failed meanwhile; a failed claim stops it and publishes the claim's FAILED result.

Once a request is claimed, a result event is always published — SUCCEEDED, CLARIFY or FAILED —
whatever happens inside the graph. Stack traces go to the log, never into an event.

The result leaves the moment the answering node (the one that sets `status`) is done: it holds the
state up to that node. Nodes beside it (remember) finish afterwards in the same invocation; their
outcome and usage are logged, and their failure never changes the published result."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from app.claim import Claim, NotClaimed
from app.dependencies import Dependencies
from app.telemetry import observe_request
from core.contracts import (
    ErrorInfo,
    Meta,
    ResultEvent,
    TokenEvent,
    WorkerRequest,
    now_ms,
    parse_request,
)
from core.errors import InvalidRequest, WorkerError
from core.lang import is_korean
from core.replies import with_reply
from core.usage import summarize_usage

log = logging.getLogger("reppy.runner")

CANCELLED = {"code": "CANCELLED", "message": "processing was cancelled", "retryable": True}
# Model and VM calls are cut off this long before the request's own timeout, so the call's typed
# error (LLM_TIMEOUT, VM_UNAVAILABLE) wins the race with the blanket TIMEOUT.
CALL_MARGIN_S = 0.25


@dataclass(frozen=True)
class Outcome:
    request_id: str | None
    status: str  # SUCCEEDED | CLARIFY | FAILED | SKIPPED | INVALID
    error_code: str | None = None
    tokens: int = 0
    result: ResultEvent | None = field(default=None, compare=False, repr=False)  # what went out, for telemetry
    # After the result, for telemetry: what remember did, and the usage of the calls made then.
    remembered: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    after_usage: dict[str, Any] | None = field(default=None, compare=False, repr=False)


async def handle(raw: bytes | str | dict, deps: Dependencies, *, timeout_s: float | None = None) -> Outcome:
    """Process one delivery. Publishing the result may raise (the caller must not ack then)."""
    async with observe_request(raw, deps) as observed:  # log context, summary line, metrics, spans
        outcome = await _handle(raw, deps, timeout_s=timeout_s)
        observed.finished(outcome.status, outcome.error_code, outcome.result, outcome.remembered, outcome.after_usage)
        return outcome


async def _handle(raw: bytes | str | dict, deps: Dependencies, *, timeout_s: float | None) -> Outcome:
    try:
        request = parse_request(raw)
    except InvalidRequest as exc:
        return await _reject(exc, deps)

    request_id = request.requestId
    # Every model and VM call of the run gets what is left until its timeout (app/deadline.py). Not
    # the claim: one refused here unsent would be answered FAILED, then claimed afresh on redelivery.
    ends = None if timeout_s is None else time.monotonic() + timeout_s
    # The claim runs beside the graph's first superstep; what leaves the worker waits for it.
    claim = Claim(deps.vm, request_id)
    run = _Run(
        request, deps, deps.context(None if ends is None else ends - min(timeout_s, CALL_MARGIN_S), claim), claim
    )
    answering = asyncio.create_task(run.answer(timeout_s), name=f"answer {request_id}")
    try:
        claimed = await claim.task
    except BaseException as exc:
        await run.stop(answering)
        if isinstance(exc, WorkerError):
            log.error("request %s: claim failed: %s (%s)", request_id, exc.message, run.calls_made())
            await deps.results.emit_result(_failed(request_id, exc.to_error(), Meta(), {}))
            return Outcome(request_id, "FAILED", exc.code)
        if isinstance(exc, asyncio.CancelledError):
            # The claim may have reached the VM: a redelivery would then be skipped, so answer now.
            log.error("request %s cancelled while claiming it", request_id)
            await deps.results.emit_result(_failed(request_id, CANCELLED, Meta(), {}))
        raise
    if not claimed:
        await run.stop(answering)
        log.info("request %s already claimed elsewhere: skipped (%s)", request_id, run.calls_made())
        return Outcome(request_id, "SKIPPED")

    try:
        result = await answering
    except asyncio.CancelledError:
        log.error("request %s cancelled", request_id)
        await deps.results.emit_result(run.failure(CANCELLED))
        await run.close()
        raise
    try:
        await _flush(deps, request_id)
    except asyncio.CancelledError:
        # The answer is made: publish it rather than leave a claimed request without a result.
        log.error("request %s cancelled while its tokens were flushed; publishing its result", request_id)
        _report_lost_tokens(result, deps)
        await deps.results.emit_result(result)
        await run.close()
        raise
    _report_lost_tokens(result, deps)
    try:
        await deps.results.emit_result(result)
    except BaseException:
        await run.close()
        raise
    if result.status == "FAILED":
        await run.close()  # the graph has stopped already (it raised or ran out of time)
    else:  # what runs beside the answer ends now, within what is left of the invocation's deadline
        await run.finish(None if ends is None else max(ends - time.monotonic(), 0.0))
    code = result.error.code if result.error else None
    return Outcome(request_id, result.status, code, run.seq, result, run.remembered, run.after_usage)


class _Run:
    """One claimed request going through the graph."""

    def __init__(self, request: WorkerRequest, deps: Dependencies, context=None, claim: Claim | None = None):
        self.request = request
        self.deps = deps
        self.context = context if context is not None else deps.context()
        self.claim = claim  # None: claimed already
        self.state: dict[str, Any] = {}
        self.seq = 0
        self.started = time.perf_counter()
        self._stream: AsyncIterator[tuple[str, Any]] | None = None
        self._answer_node = ""  # the only node whose tokens reach the user
        self._beside: list[dict[str, Any]] = []  # updates of the answer's superstep, not in the result
        self.remembered: dict[str, Any] | None = None  # what remember did, known after the result
        self.after_usage: dict[str, Any] | None = None  # the model calls made after the result

    async def answer(self, timeout_s: float | None) -> ResultEvent:
        """The graph run until the answer, as the result to publish (a FAILED one when the graph
        raised or ran out of time). Raises only NotClaimed and cancellation."""
        request_id = self.request.requestId
        try:
            async with asyncio.timeout(timeout_s):
                await self.until_answer()
            return self.result()
        except TimeoutError:
            log.error("request %s: timed out after %.1fs", request_id, timeout_s)
            return self.failure(
                {"code": "TIMEOUT", "message": f"processing exceeded {timeout_s:g}s", "retryable": True}
            )
        except NotClaimed:
            raise
        except WorkerError as exc:
            log.warning("request %s failed: %s %s", request_id, exc.code, exc.message)
            return self.failure(exc.to_error(), calls=getattr(exc, "usage", ()))
        except Exception:
            log.exception("request %s: unexpected error", request_id)
            return self.failure(
                {"code": "INTERNAL", "message": "internal error while processing the request", "retryable": True}
            )

    async def until_answer(self) -> None:
        """Run the graph until the answering node is done (or the graph ends without one). The
        state is then the last superstep's plus the answer's own update: what ran beside the answer
        is left out whether or not it finished first, so the result is the same either way."""
        from graph.graph import ANSWER_NODE, graph

        self._answer_node = ANSWER_NODE
        self._stream = graph.astream(
            self.request.model_dump(),
            context=self.context,
            stream_mode=["messages", "updates", "values"],
        )
        self.deps.run_started()
        async for mode, payload in self._stream:
            if mode == "values":
                self.state, self._beside = payload, []
            elif mode == "updates":
                for update in payload.values():
                    if not isinstance(update, dict):
                        continue
                    if "status" in update:
                        self.state = _fold(self.state, update)
                        return
                    self._beside.append(update)
            else:
                await self._token(*payload)

    async def _token(self, chunk: Any, metadata: dict[str, Any]) -> None:
        if metadata.get("langgraph_node") != self._answer_node or not self.request.stream:
            return
        delta = chunk.text
        if not delta:
            return  # empty trailing chunks would leave a hole in nothing but bandwidth
        if self.claim is not None:
            await self.claim.granted()  # no token for a request this instance does not own
        self.seq += 1
        await self.deps.tokens.emit_token(
            TokenEvent(requestId=self.request.requestId, seq=self.seq, delta=delta, ts=now_ms())
        )

    async def finish(self, timeout_s: float | None) -> None:
        """After the result: let the nodes beside the answer end. Never raises (but cancellation)."""
        if self._stream is None:
            return
        request_id = self.request.requestId
        try:
            async with asyncio.timeout(timeout_s):
                async for mode, payload in self._stream:
                    if mode == "updates":
                        self._beside += [u for u in payload.values() if isinstance(u, dict)]
        except TimeoutError:
            log.warning("request %s: nodes beside the answer cut off by the deadline", request_id)
        except WorkerError as exc:
            log.warning("request %s: a node beside the answer failed after the result: %s", request_id, exc.code)
        except Exception:
            log.exception("request %s: a node beside the answer failed after the result", request_id)
        finally:
            await self.close()
        calls = [call for update in self._beside for call in update.get("usage") or ()]
        for update in self._beside:
            if "remembered" in update:  # {saved, updated?, retired?} or {saved: 0, error: CODE}
                self.remembered = update["remembered"]
                level = logging.WARNING if self.remembered.get("error") else logging.INFO
                log.log(level, "request %s: after the result: remembered %s", request_id, self.remembered)
        if calls:
            usage = self.after_usage = summarize_usage(calls, self.deps.settings.LLM_PRICES)
            log.info(
                "request %s: after the result: %d model call(s), %d tokens, $%.6f",
                request_id,
                len(calls),
                usage["input_tokens"] + usage["output_tokens"],
                usage["cost_usd"],
            )

    async def stop(self, answering: asyncio.Task) -> None:
        """The claim said no or failed: end the run under way, publishing nothing."""
        answering.cancel()
        await asyncio.wait([answering])
        if not answering.cancelled():
            answering.exception()  # NotClaimed from a token or write that met the claim first: expected
        await self.close()

    def calls_made(self) -> str:
        """The model calls finished so far and their tokens, for the log (never user text)."""
        calls = [call for update in (self.state, *self._beside) for call in update.get("usage") or ()]
        tokens = sum(call.get("input_tokens", 0) + call.get("output_tokens", 0) for call in calls)
        return f"{len(calls)} model call(s), {tokens} tokens made before the claim answered"

    async def close(self) -> None:
        """Stop the graph (cancels whatever still runs in it)."""
        stream, self._stream = self._stream, None
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def result(self) -> ResultEvent:
        status = self.state.get("status")
        if status not in ("SUCCEEDED", "CLARIFY"):
            return self.failure({"code": "INTERNAL", "message": "the graph ended without a result", "retryable": True})
        korean = is_korean(self.request.conversation_history[-1].content)
        return ResultEvent(
            requestId=self.request.requestId,
            status=status,
            final=with_reply(self.state.get("final"), korean=korean, context=self.state.get("context")),
            error=None,
            usage=self._usage(),
            meta=self._meta(),
        )

    def failure(self, error: dict[str, Any], calls=()) -> ResultEvent:
        """`calls`: usage of the failed step's own model calls (they cost money too)."""
        if self.seq:
            error = {**error, "message": f"{error['message']} (after {self.seq} tokens were streamed)"}
        return _failed(self.request.requestId, error, self._meta(), self._usage(calls))

    def _meta(self) -> Meta:
        route = self.state.get("route") or {}
        extra: dict[str, Any] = {"provider": self.deps.llm.name, "latency_ms": self._elapsed_ms()}
        degraded = (self.state.get("context") or {}).get("degraded")
        if degraded:
            extra["degraded"] = degraded
        if self.seq:
            extra["tokens_streamed"] = self.seq
        return Meta(
            intent=route.get("intent"), action=self.state.get("action"), confidence=route.get("confidence"), **extra
        )

    def _usage(self, failed_calls=()) -> dict[str, Any]:
        calls = [*(self.state.get("usage") or []), *failed_calls]
        return summarize_usage(calls, self.deps.settings.LLM_PRICES)

    def _elapsed_ms(self) -> int:
        return round(self.elapsed_s() * 1000)


@cache
def _reducers() -> dict[str, Callable[[Any, Any], Any]]:
    """The state keys LangGraph merges with a reducer (`Annotated[list, operator.add]`) instead of
    overwriting."""
    from graph.state import State

    hints = get_type_hints(State, include_extras=True)
    return {key: get_args(hint)[1] for key, hint in hints.items() if get_origin(hint) is Annotated}


def _fold(state: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """One node's update applied to the state, as LangGraph applies it."""
    folded = dict(state)
    reducers = _reducers()
    for key, value in update.items():
        folded[key] = reducers[key](folded[key], value) if key in reducers and key in folded else value
    return folded


def _failed(request_id: str, error: dict[str, Any], meta: Meta, usage: dict[str, Any]) -> ResultEvent:
    return ResultEvent(
        requestId=request_id, status="FAILED", final=None, error=ErrorInfo(**error), usage=usage, meta=meta
    )


async def _reject(exc: InvalidRequest, deps: Dependencies) -> Outcome:
    """Bad input: a FAILED result when a requestId can be read (claimed first, so a redelivered bad
    message is not answered twice), otherwise only the log and the caller's error."""
    request_id = exc.request_id
    log.warning("%s%s", f"request {request_id}: " if request_id else "", exc.message)  # says "invalid request"
    if request_id is None:
        return Outcome(None, "INVALID", exc.code)
    try:
        if not await deps.vm.claim(request_id):
            return Outcome(request_id, "SKIPPED", exc.code)
    except WorkerError as claim_error:
        log.warning("request %s: claim failed (%s); reporting the invalid input anyway", request_id, claim_error.code)
    except asyncio.CancelledError:  # as in handle: the claim may have reached the VM
        await deps.results.emit_result(_failed(request_id, exc.to_error(), Meta(), {}))
        raise
    await deps.results.emit_result(_failed(request_id, exc.to_error(), Meta(), {}))
    return Outcome(request_id, "INVALID", exc.code)


def _report_lost_tokens(result: ResultEvent, deps: Dependencies) -> None:
    """Tokens the stream could not take are missing from the live view, not from the result: the
    result says how many, so the app knows to show `final` instead of what it streamed."""
    take_lost = getattr(deps.tokens, "take_lost", None)  # optional for emitters that never lose any
    lost = take_lost(result.requestId) if take_lost else 0
    if lost:
        result.meta.tokens_lost = lost


async def _flush(deps: Dependencies, request_id: str) -> None:
    try:
        await deps.tokens.flush(request_id)
    except Exception:  # lost tokens must never cost the result
        log.exception("request %s: token flush failed", request_id)
