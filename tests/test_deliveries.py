"""Unwrapping an invocation body into deliveries: the shapes a direct call or Connector Hub sends."""

from __future__ import annotations

import base64
import json

import pytest

from app.deliveries import request_id_of, split_deliveries
from core.contracts import parse_request

REQUEST = {
    "requestId": "req-d-1",
    "userId": "user-67890",
    "conversation_history": [{"role": "user", "content": "오늘 운동 뭐 해야 돼?"}],
}
TEXT = json.dumps(REQUEST, ensure_ascii=False)
B64 = base64.b64encode(TEXT.encode()).decode()


@pytest.mark.parametrize(
    "body",
    [
        TEXT,  # a direct invoke
        json.dumps({"id": 7, "content": TEXT}),  # one envelope
        json.dumps({"id": 7, "content": B64}),  # one envelope, base64 content
        json.dumps({"id": 7, "content": REQUEST}),  # content already parsed
        json.dumps([REQUEST]),  # a batch of one
        json.dumps([B64]),  # a batch of base64 strings
        json.dumps([f"  {TEXT}\n"]),  # request JSON as a string
    ],
    ids=["object", "envelope", "envelope-b64", "envelope-object", "array", "array-b64", "array-text"],
)
def test_every_shape_yields_the_same_request(body):
    [delivery] = split_deliveries(body.encode())
    assert parse_request(delivery).model_dump() == parse_request(REQUEST).model_dump()
    assert request_id_of(delivery) == "req-d-1"


def test_a_request_that_has_a_content_field_is_not_taken_for_an_envelope():
    odd = {**REQUEST, "content": "x"}  # invalid request, but it must be reported as itself
    [delivery] = split_deliveries(json.dumps(odd).encode())
    assert delivery == odd


@pytest.mark.parametrize(
    "body, count",
    [
        (b"\xff\xfe not utf-8", 1),
        (b"not json", 1),
        (b"", 1),
        (b"[]", 0),
        (b'[1, null, "%%"]', 3),
    ],
)
def test_unusable_bodies_become_deliveries_the_runner_rejects(body, count):
    deliveries = split_deliveries(body)
    assert len(deliveries) == count
    assert all(request_id_of(d) is None for d in deliveries)
