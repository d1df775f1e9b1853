"""How one context source turned out, as plain data: `{"value": …}` or `{"error": {code, message,
retryable}}`. Plain data because it travels in the graph state between `prefetch_context` and
`gather_context` (LangGraph Studio shows it, a checkpointer stores it), where an exception could not."""

from __future__ import annotations

from typing import Any

from core.errors import ContextMissing, VMAuthError, WorkerError


def settle(result: Any) -> dict[str, Any]:
    """A result of `asyncio.gather(..., return_exceptions=True)` as an outcome."""
    if isinstance(result, BaseException):
        if not isinstance(result, Exception):
            raise result  # cancellation and the like are not ours to swallow
        if isinstance(result, WorkerError):
            return {"error": {"code": result.code, "message": result.message, "retryable": result.retryable}}
        # Not one of ours: its type names it; its text may echo payloads, so it stays out.
        return {"error": {"code": None, "message": type(result).__name__, "retryable": True}}
    return {"value": result}


def missing(source: str, intent: str, error: dict[str, Any]) -> WorkerError:
    """Why a required source is missing, typed. A rejected token is the worker's configuration,
    not the context: it stays VM_AUTH (not retryable), so operators see the real cause."""
    if error.get("code") == VMAuthError.code:
        return VMAuthError(error["message"])
    # Retryable only when the cause was one of ours that says so (a VM timeout or 5xx): an unknown
    # failure is not known to be transient.
    return ContextMissing(
        f"{source} is required for {intent} but could not be loaded: {error['message']}",
        retryable=error.get("code") is not None and bool(error.get("retryable")),
    )
