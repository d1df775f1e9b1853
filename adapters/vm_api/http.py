"""VM Internal API over HTTP (httpx), for VM_INTERNAL_BASE_URL. One pooled client per process.

Retry policy: GETs are retried with backoff on connection errors, timeouts and 5xx (they are
read-only). The claim is retried only when the request provably never left this process
(connect errors); after that a lost answer could mean the claim was taken by us, so it is reported
as VM_UNAVAILABLE instead of being retried into a false "already claimed" that would drop the request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from adapters.vm_api.base import default_profile
from worker.errors import VMAuthError, VMUnavailable

GET_ATTEMPTS = 3
CLAIM_ATTEMPTS = 3


class _Retryable(Exception):
    """A 5xx answer, worth another try for an idempotent call."""

    def __init__(self, status: int):
        super().__init__(f"VM API answered {status}")
        self.status = status


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (_Retryable, httpx.TransportError))


def _not_sent(exc: BaseException) -> bool:
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))


class HttpVMApi:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_s: float = 0.2,
    ):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )
        self._backoff_s = backoff_s

    async def claim(self, request_id: str) -> bool:
        body = await self._call("POST", "idempotency/claim", json={"requestId": request_id},
                                retry_on=_not_sent, attempts=CLAIM_ATTEMPTS)
        claimed = body.get("claimed") if isinstance(body, dict) else None
        if not isinstance(claimed, bool):
            raise VMUnavailable("VM API claim answer has no boolean 'claimed'")
        return claimed

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        body = await self._get(f"users/{_segment(user_id)}/profile", missing_ok=True)
        if body is None:
            return default_profile()
        if not isinstance(body, dict):
            raise VMUnavailable("VM API profile answer is not an object")
        return body

    async def get_active_routines(self, user_id: str) -> list[dict[str, Any]]:
        body = await self._get(f"users/{_segment(user_id)}/active-routines")
        return _list_field(body, "routines")

    async def search_exercises(self, query: str) -> list[dict[str, Any]]:
        body = await self._get("exercises/search", params={"q": query})
        return _list_field(body, "items")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, *, params: dict | None = None, missing_ok: bool = False) -> Any:
        return await self._call("GET", path, params=params, missing_ok=missing_ok,
                                retry_on=_is_transient, attempts=GET_ATTEMPTS)

    async def _call(self, method: str, path: str, *, retry_on, attempts: int,
                    missing_ok: bool = False, **kwargs) -> Any:
        what = f"{method} /{path.split('?')[0]}"
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=self._backoff_s, max=2.0),
            retry=retry_if_exception(retry_on),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.request(method, path, **kwargs)
                    if response.status_code >= 500:
                        raise _Retryable(response.status_code)
        except _Retryable as exc:
            raise VMUnavailable(f"VM API {what} failed with HTTP {exc.status}") from None
        except httpx.TimeoutException:
            raise VMUnavailable(f"VM API {what} timed out") from None
        except httpx.TransportError as exc:
            raise VMUnavailable(f"VM API {what} is unreachable ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise VMAuthError(f"VM API rejected the worker's token ({response.status_code}) on {what}")
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise VMUnavailable(f"VM API {what} failed with HTTP {response.status_code}",
                                retryable=False)
        try:
            return response.json()
        except ValueError:
            raise VMUnavailable(f"VM API {what} returned invalid JSON") from None


def _segment(user_id: str) -> str:
    """One URL path segment: ids are validated upstream, and encoding here means even a value that
    slipped through can never climb out of /users/{userId}/."""
    return quote(user_id, safe="")


def _list_field(body: Any, field: str) -> list[dict[str, Any]]:
    items = body.get(field) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise VMUnavailable(f"VM API answer has no '{field}' list")
    return [item for item in items if isinstance(item, dict)]
