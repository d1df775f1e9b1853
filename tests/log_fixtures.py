"""The worker's JSON logging set up for a test (a pytest plugin: see tests/conftest.py)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from app.logs import configure_logging
from core.settings import Settings

HASH_KEY = "log-hash-key-for-tests-0001"


@contextlib.contextmanager
def logging_into_buffer(monkeypatch, settings: Settings) -> Iterator[io.StringIO]:
    """The worker's own logging set-up from `settings`, writing to a buffer; the root logger is
    restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(settings)
    try:
        yield buffer
    finally:
        logging.captureWarnings(False)
        root.handlers[:], root.level = saved


@pytest.fixture
def json_log(monkeypatch):
    """The worker's own logging set-up in JSON, writing to a buffer; the root logger is restored after."""
    settings = Settings(
        _env_file=None, LOG_FORMAT="json", LOG_LEVEL="DEBUG", LOG_USER_HASH_KEY=HASH_KEY, QDRANT_PATH=":memory:"
    )
    with logging_into_buffer(monkeypatch, settings) as buffer:

        def lines() -> list[dict]:
            return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

        yield lines
