"""An emitter for tests: events kept in memory, in order."""

from __future__ import annotations

from core.contracts import ResultEvent, TokenEvent


class CollectingEmitter:
    """Keeps events in memory, in order, for a test to inspect."""

    def __init__(self) -> None:
        self.tokens: list[TokenEvent] = []
        self.results: list[ResultEvent] = []

    async def emit_token(self, event: TokenEvent) -> None:
        self.tokens.append(event)

    async def flush(self, request_id: str) -> None:
        return None

    def take_lost(self, request_id: str) -> int:
        return 0

    async def emit_result(self, event: ResultEvent) -> None:
        self.results.append(event)
