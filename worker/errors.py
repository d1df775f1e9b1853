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


class LLMMalformedOutput(LLMError):
    code = "LLM_MALFORMED_OUTPUT"


class UnclearRequest(LLMError):
    """The model understood the intent but not the details it needs (which exercise, what change):
    the node asks the user instead of failing or guessing."""

    code = "UNCLEAR_REQUEST"
