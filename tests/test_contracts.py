"""Wire contracts: field names exactly as the product spec writes them; a tolerant reader that rejects only
what makes a request unanswerable or unsafe, with readable messages."""

from __future__ import annotations

import json
import logging

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
        (with_(userId=-5), "userId"),  # "-5" is not an id
        (with_(userId=True), "userId"),  # a JSON boolean is not an integer id
        (with_(userId=1.5), "userId"),
        (with_(userId=None), "userId"),
        (with_(stream="yes"), "stream"),
        (with_(stream=1), "stream"),
        (with_(metadata=["a"]), "metadata"),
        (with_(conversation_history=[{"role": "user", "content": 42}]), "content"),
        (with_(conversation_history=[{"role": "USER", "content": "hi"}]), "role"),
        (with_(conversation_history=[{"text": "hi"}]), "role"),
        (
            {k: v for k, v in SEED_EXAMPLE.items() if k != "conversation_history"} | {"conversationHistory": []},
            "conversation_history",
        ),
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


TURN = {"role": "user", "content": "오늘 운동 뭐 해야 돼?"}


@pytest.mark.parametrize(
    "raw, read_as",
    [
        (with_(createdAt="2026-11-26T02:00:00Z"), {}),
        (with_(conversation_history=[{**TURN, "timestamp": 1703123456789, "id": 7}]), {}),
        (with_(metadata=None), {"metadata": {}}),
        (with_(stream=None), {"stream": True}),
        ({k: v for k, v in SEED_EXAMPLE.items() if k not in ("stream", "metadata")}, {}),
        (with_(userId=67890), {"userId": "67890"}),
        (with_(requestId=9007199254740993), {"requestId": "9007199254740993"}),  # a Long, beyond float precision
        (with_(requestId=0, userId=0), {"requestId": "0", "userId": "0"}),
        (with_(metadata={"locale": "ko-KR", "client": {"app": "ios", "version": "3.1.0"}}), {}),
        (with_(conversation_history=[{"role": "system", "content": "be brief"}, TURN]), {}),
        (with_(**{"x" * 500: 1, "traceId": None, "tags": ["a"]}), {}),
    ],
    ids=[
        "extra-top-level-field",
        "extra-turn-fields",
        "metadata-null",
        "stream-null",
        "stream-and-metadata-absent",
        "integer-userId",
        "integer-requestId-long",
        "zero-ids",
        "metadata-of-any-shape",
        "system-turn-first",
        "odd-unknown-fields",
    ],
)
def test_odd_but_answerable_requests_are_read(raw, read_as):
    request = parse_request(raw).model_dump()
    expected = {**SEED_EXAMPLE, "requestId": "req-12345", **read_as}
    if "conversation_history" in raw:
        expected["conversation_history"] = [
            {"role": t["role"], "content": t["content"]} for t in raw["conversation_history"]
        ]
    for key in ("stream", "metadata"):
        if key not in read_as and raw.get(key) is not None:
            expected[key] = raw[key]
    assert request == expected


def test_ignored_field_names_are_logged_at_debug_without_values(caplog):
    caplog.set_level(logging.DEBUG, logger="reppy.contracts")
    raw = with_(
        createdAt="secret-2026", conversation_history=[{**TURN, "timestamp": "private-value"}], **{"k\x1b[31m": "v"}
    )
    parse_request(raw)
    (record,) = [r for r in caplog.records if r.name == "reppy.contracts"]
    assert record.levelno == logging.DEBUG
    message = record.getMessage()
    assert "createdAt" in message and "conversation_history.timestamp" in message
    assert "secret-2026" not in message and "private-value" not in message
    assert "\x1b" not in message and message.isprintable()


def test_integer_request_id_is_reported_on_a_rejection():
    with pytest.raises(InvalidRequest) as info:
        parse_request(with_(requestId=12345, conversation_history=[]))
    assert info.value.request_id == "12345"


def test_unusable_request_id_is_not_reported():
    with pytest.raises(InvalidRequest) as info:
        parse_request(with_(requestId="../../etc", userId=None))
    assert info.value.request_id is None
