"""VM Internal API over HTTP (httpx), for VM_INTERNAL_BASE_URL. One pooled client per process.

Retry policy:
- GETs are read-only: retried with exponential backoff on connection errors, timeouts, dropped
  connections and 5xx answers (GET_ATTEMPTS in all).
- The claim is not read-only: it is retried only when the request provably never left this process
  (the TCP connection could not be opened). Once the request may have reached the VM, a lost or
  failed answer is ambiguous — the VM may have recorded our claim — and retrying it would come back
  `claimed=false` and silently drop the request. So it is raised as VM_UNAVAILABLE (retryable) and
  the runner publishes a FAILED result: loud, never silent.
- 401/403 are VM_AUTH and never retried (another try with the same token cannot succeed); other
  4xx are not retried either. Unparseable or mis-shaped bodies are VM_UNAVAILABLE, not retried.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from adapters.vm_api.base import default_profile
from adapters.vm_api.responses import (
    ActiveRoutines,
    CatalogPage,
    ClaimAnswer,
    Profile,
    parse,
    plain,
)
from core.contracts import ID_PATTERN
from core.errors import InvalidRequest, VMAuthError, VMUnavailable

GET_ATTEMPTS = 3
CLAIM_ATTEMPTS = 3
MAX_BACKOFF_S = 2.0

log = logging.getLogger("reppy.vm_api")
_ID_RE = re.compile(ID_PATTERN)


class _ServerError(Exception):
    """A 5xx answer: worth another try for a read-only call."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (_ServerError, httpx.TransportError))


def _never_sent(exc: BaseException) -> bool:
    # Only a failed TCP connect (or no free pooled connection) proves no byte reached the VM.
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


class HttpVMApi:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        backoff_s: float = 0.2,
    ):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            # The trailing slash makes relative paths land under the prefix (/internal/...).
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        )
        self._backoff_s = backoff_s

    async def claim(self, request_id: str) -> bool:
        body = await self._call(
            "POST",
            "idempotency/claim",
            "POST /idempotency/claim",
            json={"requestId": request_id},
            retry_on=_never_sent,
            attempts=CLAIM_ATTEMPTS,
        )
        return parse(ClaimAnswer, body, "POST /idempotency/claim").claimed

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        endpoint = "GET /users/{userId}/profile"
        body = await self._get(f"users/{_segment(user_id)}/profile", endpoint, missing_ok=True)
        if body is None:  # 404: the user has no profile yet
            return default_profile()
        return plain(parse(Profile, body, endpoint))

    async def get_active_routines(self, user_id: str) -> list[dict[str, Any]]:
        endpoint = "GET /users/{userId}/active-routines"
        body = await self._get(f"users/{_segment(user_id)}/active-routines", endpoint)
        return [plain(r) for r in parse(ActiveRoutines, body, endpoint).routines]

    async def search_exercises(self, query: str) -> list[dict[str, Any]]:
        endpoint = "GET /exercises/search"
        body = await self._get("exercises/search", endpoint, params={"q": query})
        return [plain(i) for i in parse(CatalogPage, body, endpoint).items]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, endpoint: str, *, params: dict | None = None, missing_ok: bool = False) -> Any:
        return await self._call(
            "GET", path, endpoint, params=params, missing_ok=missing_ok, retry_on=_transient, attempts=GET_ATTEMPTS
        )

    async def _call(
        self, method: str, path: str, endpoint: str, *, retry_on, attempts: int, missing_ok: bool = False, **kwargs
    ) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=self._backoff_s, max=MAX_BACKOFF_S),
            retry=retry_if_exception(retry_on),
            before_sleep=lambda state: log.warning(
                "VM API %s: attempt %d failed (%s), retrying",
                endpoint,
                state.attempt_number,
                _describe(state.outcome.exception()),
            ),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.request(method, path, **kwargs)
                    if response.status_code >= 500:
                        raise _ServerError(response.status_code)
        except _ServerError as exc:
            raise VMUnavailable(f"VM API {endpoint} failed with HTTP {exc.status}") from None
        except httpx.TimeoutException:
            raise VMUnavailable(f"VM API {endpoint} timed out") from None
        except httpx.TransportError as exc:
            raise VMUnavailable(f"VM API {endpoint} is unreachable ({_describe(exc)})") from None
        status = response.status_code
        if status in (401, 403):
            raise VMAuthError(f"VM API rejected the worker's token (HTTP {status}) on {endpoint}")
        if status == 404 and missing_ok:
            return None
        if status >= 400:
            raise VMUnavailable(f"VM API {endpoint} failed with HTTP {status}", retryable=False)
        try:
            return response.json()
        except ValueError:
            raise VMUnavailable(f"VM API {endpoint} returned invalid JSON", retryable=False) from None


def _segment(user_id: str) -> str:
    """userId as exactly one path segment. Ids are validated at the request boundary; checking again
    here keeps this client safe for any caller, and encoding means even an allowed ':' or '@' is
    sent unambiguously — no value can climb out of /users/{userId}/."""
    if not isinstance(user_id, str) or not _ID_RE.fullmatch(user_id):
        raise InvalidRequest("userId is not a valid id (letters, digits and . _ : @ -, at most 128)")
    return quote(user_id, safe="")


def _describe(exc: BaseException | None) -> str:
    return type(exc).__name__ if not isinstance(exc, _ServerError) else str(exc)
