"""Events as JSON lines (the wire shape, one event per line): used when no OCI ids are set."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from core.contracts import ResultEvent, TokenEvent


class JsonLinesEmitter:
    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._lock = threading.Lock()  # whole lines even when requests run concurrently

    async def emit_token(self, event: TokenEvent) -> None:
        self._write(event.model_dump_json())

    async def flush(self, request_id: str) -> None:
        with self._lock:
            (self._stream or sys.stdout).flush()

    def take_lost(self, request_id: str) -> int:
        return 0

    async def emit_result(self, event: ResultEvent) -> None:
        self._write(event.model_dump_json())

    def _write(self, line: str) -> None:
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(line + "\n")
            stream.flush()
