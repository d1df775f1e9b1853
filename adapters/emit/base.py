from __future__ import annotations

from typing import Protocol

from core.contracts import ResultEvent, TokenEvent


class TokenEmitter(Protocol):
    async def emit_token(self, event: TokenEvent) -> None: ...

    async def flush(self, request_id: str) -> None:
        """Deliver every token of this request that is still buffered."""

    def take_lost(self, request_id: str) -> int:
        """How many of this request's token events could not be delivered (then forgets them)."""


class ResultEmitter(Protocol):
    async def emit_result(self, event: ResultEvent) -> None:
        """Publish the one result of a request; raise if it could not be published."""
