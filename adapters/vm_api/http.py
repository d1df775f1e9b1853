"""VM Internal API over HTTP (aiohttp), for VM_INTERNAL_BASE_URL. One pooled session per event loop.

Why aiohttp and not httpx: a batch of concurrent requests puts ~150 VM calls in flight at once, and
httpx's connection pool (httpcore 1.0) rescans every connection for every queued request — about
1 s of CPU for 150 concurrent GETs on the bench machine, against 0.02 s for aiohttp's (same stub,
same machine; bench/ and docs/performance.md). The worker already ships aiohttp: google-genai's
async client and the oci SDK use it.

Retry policy:
- GETs are read-only: retried with exponential backoff on connection errors, timeouts, dropped
  connections and 5xx answers (GET_ATTEMPTS in all). aiohttp itself sends an idempotent request
  once more at once when its connection drops (RFC 9112 §9.3.1), inside each attempt.
- The claim is not read-only: it is retried only when the request provably never left this process
  (the TCP connection could not be opened). Once the request may have reached the VM, a lost or
  failed answer is ambiguous — the VM may have recorded our claim — and retrying it would come back
  `claimed=false` and silently drop the request. So it is raised as VM_UNAVAILABLE (retryable) and
  the runner publishes a FAILED result: loud, never silent.
- 401/403 are VM_AUTH and never retried (another try with the same token cannot succeed); other
  4xx are not retried either. Unparseable or mis-shaped bodies are VM_UNAVAILABLE, not retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential
from yarl import URL

from adapters.tls import ca_context
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
MAX_CONNECTIONS = 100
KEEPALIVE_S = 5.0  # an idle pooled connection is closed after this (httpx's default too)

log = logging.getLogger("reppy.vm_api")
_ID_RE = re.compile(ID_PATTERN)


class _ServerError(Exception):
    """A 5xx answer: worth another try for a read-only call."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, (_ServerError, aiohttp.ClientError, TimeoutError))


def _never_sent(exc: BaseException) -> bool:
    # Only a failed connect (or no free pooled connection in time) proves no byte reached the VM.
    return isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError))


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
        self._headers = headers
        # The trailing slash makes relative paths land under the prefix (/internal/...).
        self._base_url = base_url.rstrip("/") + "/"
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
            # A pooled connection or a new one: waiting for a free one counts here too.
            connect=connect_timeout + read_timeout,
        )
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._backoff_s = backoff_s

    def _current_session(self) -> aiohttp.ClientSession:
        """The session of the running event loop (an aiohttp session belongs to one), opened on
        first use; a batch keeps up to MAX_CONNECTIONS connections alive for the next one."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._session_loop is not loop:
            # aiohttp alone trusts the system's CAs; the worker's clients trust the same set (adapters/tls.py).
            tls = ca_context() if self._base_url.startswith("https:") else True
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_S, ssl=tls)
            session = self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, connector=connector, raise_for_status=False
            )
            self._session_loop = loop
        return session

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
        session, self._session = self._session, None
        # A session opened on another (finished) loop cannot be closed from this one.
        if session is not None and not session.closed and self._session_loop is asyncio.get_running_loop():
            await session.close()

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
                    session = self._current_session()
                    # encoded=True: the path is sent as _segment() quoted it (yarl would unquote : and @).
                    url = URL(self._base_url + path, encoded=True)
                    async with session.request(method, url, **kwargs) as response:
                        status = response.status
                        if status >= 500:
                            raise _ServerError(status)
                        body = await response.read()  # inside the attempt: a cut-off body is retried
        except _ServerError as exc:
            raise VMUnavailable(f"VM API {endpoint} failed with HTTP {exc.status}") from None
        except TimeoutError:  # aiohttp's connect and read timeouts are TimeoutErrors
            raise VMUnavailable(f"VM API {endpoint} timed out") from None
        except aiohttp.ClientError as exc:
            raise VMUnavailable(f"VM API {endpoint} is unreachable ({_describe(exc)})") from None
        if status in (401, 403):
            raise VMAuthError(f"VM API rejected the worker's token (HTTP {status}) on {endpoint}")
        if status == 404 and missing_ok:
            return None
        if status >= 400:
            raise VMUnavailable(f"VM API {endpoint} failed with HTTP {status}", retryable=False)
        try:
            return json.loads(body)
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
