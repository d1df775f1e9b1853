"""Everything that can go wrong with a Gemini call, as typed errors.

Two kinds: the call itself fails (HTTP status, connection, timeout: `classify`), or it "succeeds"
with nothing usable — langchain-google-genai raises nothing for a blocked prompt or an answer cut
off by a safety filter or the token limit, it returns empty content with the reason in
`response_metadata` (`finish_failure`). Messages name the node and the reason, never the server's
raw text (it is logged instead) and never a secret."""

from __future__ import annotations

import logging
import re
from typing import Any

from core.errors import (
    LLMError,
    LLMMaxTokens,
    LLMRateLimited,
    LLMRecitation,
    LLMRejected,
    LLMSafetyBlocked,
    LLMTimeout,
    LLMUnavailable,
)

log = logging.getLogger("reppy.gemini")

# Finish reasons that mean a safety filter stopped the answer. RECITATION is not one of them: it
# stops an answer that quotes training data too closely, and the same request may pass next time.
SAFETY_FINISHES = {
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _enum_name(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def block_reason(response_metadata: dict[str, Any]) -> str | None:
    feedback = response_metadata.get("prompt_feedback") or {}
    return _enum_name(feedback.get("block_reason"))


def finish_failure(
    node: str, response_metadata: dict[str, Any], *, has_text: bool, thinking_tokens: int
) -> LLMError | None:
    """The typed error for a response that ended without a usable answer, or None."""
    blocked = block_reason(response_metadata)
    if blocked:
        return LLMSafetyBlocked(f"{node}: Gemini blocked the prompt ({blocked})")
    finish = _enum_name(response_metadata.get("finish_reason"))
    if finish in SAFETY_FINISHES:
        return LLMSafetyBlocked(f"{node}: Gemini stopped the answer ({finish})")
    if finish == "RECITATION":
        return LLMRecitation(f"{node}: Gemini stopped the answer for reciting a source (RECITATION); a retry may pass")
    if finish == "MAX_TOKENS":
        if not has_text and thinking_tokens:
            return LLMMaxTokens(
                f"{node}: thinking used the whole output limit ({thinking_tokens} thinking "
                "tokens) before any answer; lower the node's thinking budget or raise the cap"
            )
        return LLMMaxTokens(f"{node}: the answer was cut off at the output token limit")
    return None


def classify(exc: BaseException, node: str, timeout_s: float) -> LLMError | None:
    """The typed error for an exception raised by the client, or None when it is not a model call
    failure (a bug: left to the runner's INTERNAL)."""
    from google.genai import errors as genai_errors

    api_error = _api_error(exc, genai_errors.APIError)
    if api_error is not None:
        return _from_status(api_error, node)
    if isinstance(exc, TimeoutError) or _is_httpx(exc, "TimeoutException"):
        return LLMTimeout(f"{node}: Gemini did not answer within {timeout_s:g}s")
    if isinstance(exc, genai_errors.UnknownApiResponseError):
        return LLMUnavailable(f"{node}: Gemini sent a response that could not be read")
    if isinstance(exc, ConnectionError) or _is_aiohttp_error(exc) or _is_httpx(exc, "TransportError"):
        log.warning("%s: connection to Gemini failed: %s", node, type(exc).__name__)
        return LLMUnavailable(f"{node}: the connection to Gemini failed ({type(exc).__name__})")
    return None


def retry_delay_s(exc: BaseException) -> float | None:
    """How long the server asked us to wait: google.rpc.RetryInfo.retryDelay, else Retry-After."""
    from google.genai import errors as genai_errors

    api_error = _api_error(exc, genai_errors.APIError)
    if api_error is None:
        return None
    details = api_error.details if isinstance(api_error.details, dict) else {}
    for detail in (details.get("error") or details).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    headers = getattr(getattr(api_error, "response", None), "headers", None) or {}
    try:
        return float(headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


def _from_status(error: Any, node: str) -> LLMError:
    code, status = error.code, error.status or ""
    log.warning("%s: Gemini answered %s %s: %s", node, code, status, error.message)
    if code == 429:
        return LLMRateLimited(f"{node}: Gemini rate limit or quota exceeded (429 {status})".rstrip())
    if code == 408:
        return LLMTimeout(f"{node}: Gemini timed out the request (408)")
    if code is not None and code >= 500:
        return LLMUnavailable(f"{node}: Gemini is unavailable ({code} {status})".rstrip())
    reason = _error_reason(error)
    detail = f"{code} {status}" + (f", {reason}" if reason else "")
    return LLMRejected(f"{node}: Gemini rejected the request ({detail.strip()})")


def _error_reason(error: Any) -> str | None:
    """google.rpc.ErrorInfo.reason (e.g. API_KEY_INVALID): a fixed token, safe to show."""
    details = error.details if isinstance(error.details, dict) else {}
    for detail in (details.get("error") or details).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo"):
            reason = detail.get("reason")
            if isinstance(reason, str) and re.fullmatch(r"[A-Z_]{1,64}", reason):
                return reason
    return None


def _api_error(exc: BaseException, api_error_type: type) -> Any:
    """google-genai's APIError behind `exc`: LangChain re-raises 4xx as its own error types
    `from` the original."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, api_error_type):
            return exc
        exc, seen = exc.__cause__, seen + 1
    return None


def _is_aiohttp_error(exc: BaseException) -> bool:
    try:
        import aiohttp
    except ImportError:
        return False
    return isinstance(exc, aiohttp.ClientError)


def _is_httpx(exc: BaseException, name: str) -> bool:
    import httpx

    return isinstance(exc, getattr(httpx, name))
