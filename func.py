"""OCI Function entrypoint: `/python/bin/fdk /function/func.py handler` (see func.yaml).

Thin on purpose: read the body and the invocation deadline, hand the deliveries to
`app.invocation`, answer with a JSON summary of every request's outcome. HTTP 502 when the batch
must come again (a result could not be published, or a request was left for redelivery), 200
otherwise.

A configuration error (a production setting missing, an invalid value, a Vault secret that cannot
be read) answers every delivery with a FAILED result, code CONFIG_ERROR, and touches no model, VM or
memory: no demo answer ever reaches a user. It is logged once per instance, by setting name.

The dependencies (model provider, VM client, memory, OCI clients) are built on the first
invocation and reused while the instance stays warm. Nothing heavy is imported before that: not
`oci`, not LangGraph, not the embeddings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import signal
import sys
import time
from pathlib import Path

# The project's packages sit beside this file. The Fn image puts /function on PYTHONPATH; a local
# `fdk func.py handler` does not, and would otherwise import whatever copy is installed.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fdk import response  # noqa: E402  (after the path fix above)

log = logging.getLogger("reppy.func")

FDK_DEFAULT_DEADLINE_S = 30.0  # what fdk itself assumes when Fn-Deadline is missing
JSON = {"Content-Type": "application/json"}

_deps = None  # built on first use, reused while this instance is warm
_config_error = None  # why this instance cannot be configured (kept: it will not change while warm)
_failure_results = None  # where CONFIG_ERROR results go
_unpublished = None  # results that could not be published, for when their request comes again
_taken = None  # requestIds this instance has taken on, so a redelivery here is never answered twice
_invocations: set[asyncio.Task] = set()  # in flight, cancelled on SIGTERM
_sigterm_loop = None  # the event loop our SIGTERM handler is installed on
SHUTDOWN_GRACE_S = 8.0  # after SIGTERM: time for the cancelled requests to publish their results


def _dependencies():
    global _deps
    if _config_error is not None:
        raise _config_error
    if _deps is None:
        from app.dependencies import build_dependencies, check_production
        from app.logs import configure_logging
        from app.secrets import settings_with_secrets

        settings = settings_with_secrets()
        configure_logging(settings)
        check_production(settings)
        _deps = build_dependencies(settings, warm_up=True)  # the memory store loads beside the first run
    return _deps


async def handler(ctx, data: io.BytesIO | bytes | None = None):
    deadline = _deadline(ctx)  # first: a cold start's set-up is spent from the same budget
    _watch_sigterm()
    task = asyncio.current_task()
    _invocations.add(task)
    try:
        return await _invoke(ctx, data, deadline)
    finally:
        _invocations.discard(task)


async def _invoke(ctx, data, deadline: float):
    global _unpublished, _taken
    body = _read(data)
    try:
        deps = _dependencies()
    except Exception as exc:  # configuration: every delivery would fail the same way
        return await _refuse(ctx, body, exc)

    from app.invocation import TakenRequests, UnpublishedResults, run_invocation

    if _unpublished is None:
        _unpublished, _taken = UnpublishedResults(), TakenRequests()
    settings = deps.settings
    report = await run_invocation(
        body,
        deps,
        deadline=deadline,
        reserve_s=settings.DEADLINE_RESERVE_S,
        min_start_s=settings.DEADLINE_MIN_START_S,
        concurrency=settings.BATCH_CONCURRENCY,
        unpublished=_unpublished,
        taken=_taken,
    )
    return _respond(ctx, report.status_code, report.body())


async def _refuse(ctx, body: bytes, exc: Exception):
    """Every delivery gets a FAILED CONFIG_ERROR result; nothing else runs. An error that may pass
    (Vault or GetQueue unreachable) is not kept and publishes nothing: the batch comes again (502)."""
    global _config_error, _failure_results
    from core.errors import ConfigError

    error = exc if isinstance(exc, ConfigError) else ConfigError(_describe(exc))
    if error.retryable:
        log.error("cannot start the worker (will try again): %s", error.message)
        return _respond(ctx, 502, {"error": error.to_error()})
    if _config_error is None:
        log.error("cannot start the worker: %s", error.message)  # once per instance
        _config_error = error
    try:
        if _failure_results is None:
            from app.oci_emitters import build_result_emitter, read_oci_settings

            _failure_results = build_result_emitter(read_oci_settings())
    except Exception as publish_error:  # not even the result queue: the batch must come again
        log.error("cannot publish CONFIG_ERROR results either: %s", _describe(publish_error))
        return _respond(ctx, 502, {"error": error.to_error()})
    from app.invocation import answer_config_error

    report = await answer_config_error(body, error, _failure_results)
    return _respond(ctx, report.status_code, {**report.body(), "error": error.to_error()})


def _watch_sigterm() -> None:
    """fdk answers SIGTERM by stopping its event loop there and then, abandoning the requests in
    flight. They are claimed, so a redelivery would be skipped and nobody would ever answer them.
    Instead, cancel them — each publishes a CANCELLED result — and stop the loop once they have.
    (SIGKILL cannot be caught: the deadline reserve is what keeps the platform from needing it.)"""
    global _sigterm_loop
    loop = asyncio.get_running_loop()
    if _sigterm_loop is loop:
        return
    try:
        loop.add_signal_handler(signal.SIGTERM, _on_sigterm, loop)
    except (NotImplementedError, RuntimeError, ValueError):  # not on the main thread, or no signals here
        return
    _sigterm_loop = loop


def _on_sigterm(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in _invocations if not task.done()]
    log.warning(
        "SIGTERM: cancelling %d invocation(s) in flight; their claimed requests publish CANCELLED results", len(pending)
    )
    for task in pending:
        task.cancel()

    async def stop_when_published() -> None:
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_S)
        loop.stop()  # what fdk itself does on SIGTERM

    loop.create_task(stop_when_published())


def _respond(ctx, status: int, payload: dict):
    return response.Response(
        ctx, response_data=json.dumps(payload, ensure_ascii=False), headers=dict(JSON), status_code=status
    )


def _read(data) -> bytes:
    if data is None:
        return b""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    return data.getvalue() if hasattr(data, "getvalue") else data.read()


def _deadline(ctx) -> float:
    """Fn-Deadline (RFC 3339, e.g. 2026-01-01T00:00:30.123456789Z) on the monotonic clock."""
    raw = ctx.Deadline()
    try:
        at = dt.datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        log.warning("unreadable Fn-Deadline %r; assuming %gs", raw, FDK_DEFAULT_DEADLINE_S)
        return time.monotonic() + FDK_DEFAULT_DEADLINE_S
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return time.monotonic() + (at - dt.datetime.now(dt.UTC)).total_seconds()


def _describe(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):  # settings: name the variables, never their values
        return "invalid configuration: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False, include_input=False)
        )
    return getattr(exc, "message", None) or type(exc).__name__
