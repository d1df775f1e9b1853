"""Wire contracts: field names exactly as the product spec writes them; strict, readable validation."""

from __future__ import annotations

import json

import pytest

from core.contracts import ResultEvent, TokenEvent, parse_request
from core.errors import InvalidRequest

SEED_EXAMPLE = {
    "requestId": "req-12345",
    "userId": "user-67890",
    "conversation_history": [{"role": "user", "content": "오늘 운동 뭐 해야 돼?"}],
    "stream": True,
    "metadata": {},
}


def test_seed_example_parses_from_bytes_str_and_dict():
    for raw in (SEED_EXAMPLE, json.dumps(SEED_EXAMPLE), json.dumps(SEED_EXAMPLE).encode()):
        request = parse_request(raw)
        assert request.model_dump() == SEED_EXAMPLE


def test_event_field_names_are_the_seeds():
    token = TokenEvent(requestId="r", seq=1, delta="안녕", ts=1703123456789)
    assert list(json.loads(token.model_dump_json())) == ["requestId", "seq", "delta", "ts"]
    result = ResultEvent(
        requestId="r",
        status="SUCCEEDED",
        final={"reply": "x"},
        meta={"intent": "CHAT_RESPONSE", "action": "GET_ACTIVE_ROUTINES", "confidence": 0.95},
    )
    body = json.loads(result.model_dump_json())
    assert list(body) == ["requestId", "status", "final", "error", "usage", "meta"]
    assert body["meta"] == {"intent": "CHAT_RESPONSE", "action": "GET_ACTIVE_ROUTINES", "confidence": 0.95}


def test_token_seq_starts_at_one():
    with pytest.raises(ValueError):
        TokenEvent(requestId="r", seq=0, delta="x", ts=1)


def with_(**changes):
    return {**SEED_EXAMPLE, **changes}


@pytest.mark.reliability
@pytest.mark.parametrize(
    "raw, field",
    [
        (with_(conversation_history=[]), "conversation_history"),
        ({k: v for k, v in SEED_EXAMPLE.items() if k != "userId"}, "userId"),
        (with_(conversation_history=[{"role": "robot", "content": "hi"}]), "role"),
        (with_(conversation_history=[{"role": "user", "content": "x" * 8001}]), "content"),
        (with_(conversation_history=[{"role": "user", "content": "   "}]), "blank"),
        (with_(conversation_history=[{"role": "user", "content": "a\x00b"}]), "control characters"),
        (
            with_(conversation_history=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]),
            "last conversation_history turn",
        ),
        (with_(userId="../admin"), "userId"),
        (with_(userId="a/b"), "userId"),
        (with_(userId="%2e%2e/x"), "userId"),
        (with_(userId=""), "userId"),
        (with_(userId=12345), "userId"),
        (with_(stream="yes"), "stream"),
        (with_(extra_field=1), "extra_field"),
        (with_(metadata={"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}), "nested"),
        (with_(metadata={"blob": "x" * 20000}), "larger"),
    ],
)
def test_invalid_requests_name_the_problem(raw, field):
    with pytest.raises(InvalidRequest) as info:
        parse_request(raw)
    assert field in info.value.message
    assert info.value.request_id == "req-12345"
    assert "input_value" not in info.value.message  # never echo (possibly private) input back


@pytest.mark.reliability
@pytest.mark.parametrize(
    "raw, message",
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b"", "not valid JSON"),
    ],
)
def test_unreadable_bodies(raw, message):
    with pytest.raises(InvalidRequest, match=message) as info:
        parse_request(raw)
    assert info.value.request_id is None


def test_unusable_request_id_is_not_reported():
    with pytest.raises(InvalidRequest) as info:
        parse_request(with_(requestId="../../etc", userId=None))
    assert info.value.request_id is None
