"""Logging to stderr (stdout carries events), with secrets scrubbed from every record.

Two formats: `text` (one readable line, the CLI's default) and `json` (one object a line, the
default inside an OCI Function, where OCI Logging keeps its fields searchable). Either way every
line a request causes — the worker's own and the client libraries', Python warnings included —
carries that request's id: the runner binds it in a context variable (`bind_request`) and a
filter copies it onto each record. A user appears only as a keyed hash (`user_hash`), never as
the id itself."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from core.settings import Settings

# The fields of the request being handled; one dict per request, updated in place as they become
# known (the intent once routed), so every task of the request sees the same values.
_request_fields: ContextVar[dict[str, Any] | None] = ContextVar("reppy_request_fields", default=None)
# The request's telemetry (app.telemetry.Observation), read by the tracing of adapter calls.
_observation: ContextVar[Any] = ContextVar("reppy_observation", default=None)


def current_observation() -> Any:
    return _observation.get()


_hash_key: bytes = secrets.token_bytes(32)  # replaced by LOG_USER_HASH_KEY when it is set

# The fields of a JSON line, in order; `fields` given as `extra=` adds more (the request summary).
BASE_FIELDS = ("time", "level", "logger", "message", "requestId", "userHash", "node", "intent", "code", "latency_ms")


def user_hash(user_id: str | None, key: bytes | None = None) -> str | None:
    """A keyed hash of a user id: the same user gives the same value in every log line (for as long
    as the key stays the same), and nobody without the key can go back from it to the user."""
    if not user_id:
        return None
    return hmac.new(key or _hash_key, user_id.encode(), hashlib.sha256).hexdigest()[:16]


def hash_key(settings: Settings) -> bytes | None:
    """LOG_USER_HASH_KEY, or None when it is not set."""
    key = settings.LOG_USER_HASH_KEY
    return key.get_secret_value().encode() if key is not None and key.get_secret_value() else None


@contextlib.contextmanager
def bind_request(fields: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every record logged inside (by this task and the tasks it starts) carries `fields`."""
    token = _request_fields.set(fields)
    try:
        yield fields
    finally:
        _request_fields.reset(token)


def current_request() -> dict[str, Any] | None:
    return _request_fields.get()


def current_node() -> str | None:
    """The LangGraph node running in this task, if any (from LangChain's config context variable;
    nothing is imported for it when LangChain is not loaded)."""
    config_module = sys.modules.get("langchain_core.runnables.config")
    if config_module is None:
        return None
    config = config_module.var_child_runnable_config.get()
    return (config or {}).get("metadata", {}).get("langgraph_node")


class RequestContext(logging.Filter):
    """Copies the request's fields (and the current node) onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _request_fields.get()
        if fields:
            for key, value in fields.items():
                if getattr(record, key, None) is None:
                    setattr(record, key, value)
        if getattr(record, "node", None) is None:
            record.node = current_node()
        if getattr(record, "code", None) is None and record.exc_info and record.exc_info[1] is not None:
            record.code = getattr(record.exc_info[1], "code", None)  # a WorkerError names its failure
        return True


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            if any(s in message for s in self._secrets):
                record.msg, record.args = self.redact(message), None
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class TextFormatter(logging.Formatter):
    """The readable line, with the request id in front when there is one."""

    def __init__(self, redact: RedactSecrets):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(prefix)s%(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        request_id, node = getattr(record, "requestId", None), getattr(record, "node", None)
        record.prefix = f"[{request_id}{' ' + node if node else ''}] " if request_id else ""
        return self._redact.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: the base fields, then any `fields` given as `extra=`."""

    def __init__(self, redact: RedactSecrets):
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in BASE_FIELDS[4:]:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            line.update({k: v for k, v in extra.items() if v is not None})
        if record.exc_info:
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["stack"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = record.stack_info
        return self._redact.redact(json.dumps(line, ensure_ascii=False, default=str))


def in_function() -> bool:
    """Inside an OCI Function (fdk needs FN_LISTENER; the platform sets FN_FN_ID)."""
    return bool(os.environ.get("FN_FN_ID") or os.environ.get("FN_LISTENER"))


def log_format(settings: Settings) -> str:
    return settings.LOG_FORMAT or ("json" if in_function() else "text")


def configure_logging(settings: Settings) -> None:
    global _hash_key
    _hash_key = hash_key(settings) or _hash_key
    given = (settings.GOOGLE_API_KEY, settings.VM_INTERNAL_TOKEN, settings.QDRANT_API_KEY, settings.LOG_USER_HASH_KEY)
    secrets_in_use = [v.get_secret_value() for v in given if v is not None]
    if settings.OTEL_EXPORTER_OTLP_HEADERS is not None:  # each header's value, as given and decoded
        from urllib.parse import unquote

        for pair in settings.OTEL_EXPORTER_OTLP_HEADERS.get_secret_value().split(","):
            value = pair.partition("=")[2].strip()
            secrets_in_use += [value, unquote(value)]
    redact = RedactSecrets(secrets_in_use)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if log_format(settings) == "json" else TextFormatter(redact))
    handler.addFilter(redact)
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.LOG_LEVEL)
    # Client libraries' warnings.warn(...) become records too, so they carry the requestId.
    logging.captureWarnings(True)
    # Client libraries log every HTTP call at INFO; keep the worker's own lines readable.
    for noisy in ("httpx", "httpcore", "aiohttp", "urllib3", "google_genai"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
