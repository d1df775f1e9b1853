"""What one OCI Function invocation carries: one request, or a Connector Hub batch of them.

A Connector Hub connector (Queue source → Functions target) invokes the function with a JSON array
of the queue's messages. An item may be the request object itself, a queue-message envelope
(`{"id": …, "content": "<request JSON>", …}`) whose `content` holds the request JSON as text or as
base64 of that text, or such a string on its own. All of these are accepted; a single object or
envelope without the array is too (a direct `fn invoke`).

Items are unwrapped, not validated: the runner validates each one, so a bad item becomes its own
INVALID outcome (with a FAILED result when its requestId is readable) and never spoils the batch.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

Delivery = bytes | str | dict


def split_deliveries(body: bytes) -> list[Delivery]:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8): the runner reports it as one bad request
        return [body]
    if isinstance(parsed, list):
        return [_unwrap(item) for item in parsed]
    return [_unwrap(parsed)]


def _unwrap(item: Any) -> Any:
    if isinstance(item, dict) and "content" in item and "requestId" not in item:
        item = item["content"]
    if isinstance(item, str):
        return _decode_text(item)
    return item


def _decode_text(text: str) -> str | bytes:
    """Request JSON as text, or base64 of it. A JSON object starts with "{", which base64 never
    contains, so the two cannot be confused."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return stripped
    try:
        return base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return text  # neither: left for the runner to reject with a readable message


def request_id_of(delivery: Delivery) -> str | None:
    """The requestId of a delivery when it can be read, for reporting; never raises."""
    from core.contracts import readable_request_id

    value: Any = delivery
    try:
        if isinstance(value, (bytes, str)):
            value = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return readable_request_id(value) if isinstance(value, dict) else None
