"""Typed failures. Every one ends as `error {code, message, retryable}` in a FAILED result event;
messages are written for the app's user/operator and never carry secrets or stack traces."""

from __future__ import annotations

from typing import NamedTuple


class WorkerError(Exception):
    code = "INTERNAL"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable

    def to_error(self) -> dict:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


class InvalidRequest(WorkerError):
    code = "INVALID_REQUEST"
    request_id: str | None = None  # set when the payload carried a usable requestId


class ConfigError(WorkerError):
    code = "CONFIG_ERROR"


class VMUnavailable(WorkerError):
    code = "VM_UNAVAILABLE"
    retryable = True


class VMAuthError(WorkerError):
    code = "VM_AUTH"


class ContextMissing(WorkerError):
    """Retryable only when its cause was transient (pass retryable=True then): an empty answer or a
    malformed one does not change on a retry."""

    code = "CONTEXT_MISSING"


class MemoryUnavailable(WorkerError):
    code = "MEMORY_UNAVAILABLE"
    retryable = True


class LLMError(WorkerError):
    code = "LLM_ERROR"
    # Usage records of the model calls made before the failure, so a FAILED result still reports
    # the tokens and cost they took (providers set it per instance).
    usage: tuple[dict, ...] | list[dict] = ()


class LLMMalformedOutput(LLMError):
    code = "LLM_MALFORMED_OUTPUT"


# How a model call can fail (Gemini maps its finish reasons and HTTP errors onto these).


class LLMSafetyBlocked(LLMError):
    code = "LLM_SAFETY_BLOCKED"


class LLMRecitation(LLMError):
    """The answer was stopped because it recited training data too closely: not a judgement on
    the request, the same request may pass on another attempt."""

    code = "LLM_RECITATION"
    retryable = True


class LLMMaxTokens(LLMError):
    code = "LLM_MAX_TOKENS"


class LLMRateLimited(LLMError):
    code = "LLM_RATE_LIMITED"
    retryable = True


class LLMUnavailable(LLMError):
    code = "LLM_UNAVAILABLE"
    retryable = True


class LLMTimeout(LLMError):
    code = "LLM_TIMEOUT"
    retryable = True


class LLMRejected(LLMError):
    """The API refused the request itself (bad key, unknown model, prompt too long)."""

    code = "LLM_REQUEST_REJECTED"


class UnclearRequest(LLMError):
    """The model understood the intent but not the details it needs (which exercise, what change):
    the node asks the user instead of failing or guessing."""

    code = "UNCLEAR_REQUEST"


# Every error code, what it means and whether a retry (a redelivery of the same request) can help.
# `retryable` True/False is fixed for the code; None: it depends on the cause, and the result's own
# `error.retryable` says. docs/contracts.md and the published JSON Schema are generated from this.
class ErrorCodeInfo(NamedTuple):
    meaning: str
    retryable: bool | None
    in_results: bool = True  # False: reported elsewhere (HTTP answer, log), never in a result event


ERROR_CODES: dict[str, ErrorCodeInfo] = {
    "INVALID_REQUEST": ErrorCodeInfo(
        "The request cannot be answered: no user turn last, a used field of the wrong type, an id that is "
        "not one URL path segment, or a size past the limits. The message names the field.",
        False,
    ),
    "VM_UNAVAILABLE": ErrorCodeInfo(
        "The VM Internal API failed: unreachable, timed out or 5xx (retryable), or it answered 4xx or an "
        "unexpected shape (not retryable). A lost claim answer is reported this way too.",
        None,
    ),
    "VM_AUTH": ErrorCodeInfo("The VM Internal API rejected the worker's token (401/403): configuration.", False),
    "CONTEXT_MISSING": ErrorCodeInfo(
        "Context the answer needs could not be had: routines, profile or catalog for a program, routines "
        "for an update. Retryable only when the cause was transient (a VM timeout or 5xx), never for an "
        "empty answer.",
        None,
    ),
    "MEMORY_UNAVAILABLE": ErrorCodeInfo("The user-memory store (Qdrant) failed.", True),
    "LLM_ERROR": ErrorCodeInfo("The model call failed in a way not covered by a more specific LLM_* code.", None),
    "LLM_MALFORMED_OUTPUT": ErrorCodeInfo(
        "The model's output did not validate, or did not match the request, profile, catalog or routine.", False
    ),
    "LLM_EMPTY_OUTPUT": ErrorCodeInfo("The model returned an empty answer.", True),
    "LLM_SAFETY_BLOCKED": ErrorCodeInfo("The model's safety filters blocked the prompt or the answer.", False),
    "LLM_RECITATION": ErrorCodeInfo(
        "The model stopped because its answer recited training data too closely; the same request may pass next time.",
        True,
    ),
    "LLM_MAX_TOKENS": ErrorCodeInfo("The model's answer was cut off at its output token limit.", False),
    "LLM_RATE_LIMITED": ErrorCodeInfo("The model API rate-limited the worker (429, quota).", True),
    "LLM_UNAVAILABLE": ErrorCodeInfo("The model API was unavailable (5xx, connection).", True),
    "LLM_TIMEOUT": ErrorCodeInfo("The model call timed out.", True),
    "LLM_REQUEST_REJECTED": ErrorCodeInfo(
        "The model API refused the request itself (bad key, unknown model, prompt too long).", False
    ),
    "UNCLEAR_REQUEST": ErrorCodeInfo(
        "The model understood the intent but not the details it needs; normally answered with a CLARIFY "
        "result instead.",
        False,
    ),
    "TIMEOUT": ErrorCodeInfo("Processing the request took longer than the worker's time budget.", True),
    "CANCELLED": ErrorCodeInfo("Processing was cancelled (the function was stopped mid-request).", True),
    "INTERNAL": ErrorCodeInfo("An unexpected error inside the worker (logged with its stack trace).", True),
    "CONFIG_ERROR": ErrorCodeInfo(
        "The worker's configuration is unusable; answered on the invocation (HTTP 502), not in a result.",
        False,
        in_results=False,
    ),
    "RESULT_NOT_PUBLISHED": ErrorCodeInfo(
        "The result queue did not take the result; the invocation fails so the delivery is retried.",
        True,
        in_results=False,
    ),
    "NOT_CLAIMED": ErrorCodeInfo(
        "A memory write held for the claim, which said no or failed: not made; only in the log.",
        False,
        in_results=False,
    ),
}
