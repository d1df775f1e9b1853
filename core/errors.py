"""Typed failures. Every one ends as `error {code, message, retryable}` in a FAILED result event;
messages are written for the app's user/operator and never carry secrets or stack traces."""

from __future__ import annotations


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
    code = "CONTEXT_MISSING"
    retryable = True


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
