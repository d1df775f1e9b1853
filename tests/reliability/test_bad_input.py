"""Bad input never crashes the worker: a curated corpus and hypothesis fuzzing through the runner
(and through an invocation body), each ending in a typed INVALID_REQUEST, a FAILED result when the
requestId can be read, nothing else reaching the VM, no traceback, and bounded memory."""

from __future__ import annotations

import asyncio
import json
import logging
import tracemalloc
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.vm_api.embedded import EmbeddedVMApi
from app.dependencies import build_dependencies
from app.invocation import run_invocation
from app.runner import handle
from core.contracts import MAX_BODY_BYTES
from tests.conftest import DEMO_USER
from tests.emitters import CollectingEmitter

pytestmark = pytest.mark.reliability

GOOD_TURN = {"role": "user", "content": "오늘 운동 뭐 해야 돼?"}
# Peak memory a rejected input may take: a fixed allowance plus a few times its own size.
MEMORY_ALLOWANCE_BYTES = 16 * 1024 * 1024
MEMORY_FACTOR = 4


def valid(request_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "userId": DEMO_USER,
        "conversation_history": [GOOD_TURN],
        "stream": True,
        "metadata": {},
        **changes,
    }


def without(request_id: str, field: str) -> dict[str, Any]:
    body = valid(request_id)
    del body[field]
    return body


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        value = {"n": value}
    return value


def turns(count: int) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(count - 1)] + [
        GOOD_TURN
    ]


@dataclass(frozen=True)
class Case:
    name: str
    raw: Any
    reported: str | None  # the requestId a FAILED result must carry; None: unreadable, no result


def case(name: str, raw: Any, *, readable: bool = True) -> Case:
    return Case(name, raw, f"bad-{name}" if readable else None)


def corpus() -> list[Case]:
    """Each dict case carries requestId `bad-<name>` when it is meant to be readable."""
    r = "bad-{}".format
    return [
        # wrong types (integer ids are read as their decimal strings: see ACCEPTED below)
        case("requestId-float", {**valid("x"), "requestId": 12345.5}, readable=False),
        case("requestId-bool", {**valid("x"), "requestId": True}, readable=False),
        case("requestId-null", {**valid("x"), "requestId": None}, readable=False),
        case("requestId-list", {**valid("x"), "requestId": ["bad-1"]}, readable=False),
        case("userId-negative-int", valid(r("userId-negative-int"), userId=-67890)),
        case("userId-list", valid(r("userId-list"), userId=["user-67890"])),
        case("history-string", valid(r("history-string"), conversation_history="오늘 운동 뭐 해야 돼?")),
        case("history-object", valid(r("history-object"), conversation_history={"role": "user", "content": "hi"})),
        case("turn-string", valid(r("turn-string"), conversation_history=["오늘 운동 뭐 해야 돼?"])),
        case("content-int", valid(r("content-int"), conversation_history=[{"role": "user", "content": 42}])),
        case("content-null", valid(r("content-null"), conversation_history=[{"role": "user", "content": None}])),
        case("stream-string", valid(r("stream-string"), stream="yes")),
        case("stream-int", valid(r("stream-int"), stream=1)),
        case("metadata-list", valid(r("metadata-list"), metadata=["a", "b"])),
        # missing fields
        case("no-requestId", without("x", "requestId"), readable=False),
        case("no-userId", without(r("no-userId"), "userId")),
        case("no-history", without(r("no-history"), "conversation_history")),
        case("empty-history", valid(r("empty-history"), conversation_history=[])),
        case("turn-without-role", valid(r("turn-without-role"), conversation_history=[{"content": "hi"}])),
        case("turn-without-content", valid(r("turn-without-content"), conversation_history=[{"role": "user"}])),
        # wrong values
        case("role-robot", valid(r("role-robot"), conversation_history=[{"role": "robot", "content": "hi"}])),
        case(
            "ends-with-assistant",
            valid(r("ends-with-assistant"), conversation_history=[GOOD_TURN, {"role": "assistant", "content": "네"}]),
        ),
        case("content-empty", valid(r("content-empty"), conversation_history=[{"role": "user", "content": ""}])),
        case("content-blank", valid(r("content-blank"), conversation_history=[{"role": "user", "content": " \n\t "}])),
        case("metadata-string", valid(r("metadata-string"), metadata="{}")),
        case(
            "lone-surrogate",
            valid(r("lone-surrogate"), conversation_history=[{"role": "user", "content": "hi \ud800 there"}]),
        ),
        # huge
        case(
            "content-100k", valid(r("content-100k"), conversation_history=[{"role": "user", "content": "가" * 100_000}])
        ),
        case("history-2001-turns", valid(r("history-2001-turns"), conversation_history=turns(2001))),
        case("history-5000-turns", valid(r("history-5000-turns"), conversation_history=turns(5000))),
        case("metadata-1mb", valid(r("metadata-1mb"), metadata={"blob": "x" * 1_000_000})),
        case(
            "body-over-the-cap",
            json.dumps(valid(r("body-over-the-cap"), metadata={"blob": "x" * MAX_BODY_BYTES})),
            readable=False,
        ),
        case(
            "number-5000-digits", '{"requestId": "bad-number", "metadata": {"n": ' + "1" * 5000 + "}}", readable=False
        ),
        # control characters and bytes
        case("content-nul", valid(r("content-nul"), conversation_history=[{"role": "user", "content": "a\x00b"}])),
        case(
            "content-ansi-escape",
            valid(r("content-ansi-escape"), conversation_history=[{"role": "user", "content": "\x1b[2J\x1b[31mhi"}]),
        ),
        case(
            "content-bell-backspace",
            valid(r("content-bell-backspace"), conversation_history=[{"role": "user", "content": "hi\x07\x08"}]),
        ),
        case("invalid-utf8-body", b"\xff\xfe\xfd not utf-8", readable=False),
        case(
            "invalid-utf8-in-content",
            b'{"requestId": "bad-invalid-utf8-in-content", "userId": "user-67890", '
            b'"conversation_history": [{"role": "user", "content": "\xc3\x28 \xff"}]}',
        ),
        case("not-json", b"requestId=bad-1&userId=x", readable=False),
        case("truncated-json", b'{"requestId": "bad-truncated", "userId": "user-6', readable=False),
        case("json-array", b'[{"requestId": "bad-in-array"}]', readable=False),
        case("json-null", b"null", readable=False),
        case("json-string", b'"just a string"', readable=False),
        case("empty-body", b"", readable=False),
        case("nested-100000-brackets", "[" * 100_000, readable=False),
        # nesting
        case("metadata-7-levels", valid(r("metadata-7-levels"), metadata=nested(7))),
        case("metadata-5000-levels", valid(r("metadata-5000-levels"), metadata=nested(5000))),
        case(
            "metadata-deep-json",
            '{"requestId": "bad-metadata-deep-json", "userId": "user-67890", '
            '"conversation_history": [{"role": "user", "content": "hi"}], "metadata": '
            + '{"n": ' * 500
            + "1"
            + "}" * 500
            + "}",
        ),
        # userId shapes that must never reach a URL path
        case("userId-dotdot-admin", valid(r("userId-dotdot-admin"), userId="../admin")),
        case("userId-encoded-dotdot", valid(r("userId-encoded-dotdot"), userId="%2e%2e/x")),
        case("userId-slash", valid(r("userId-slash"), userId="a/b")),
        case("userId-empty", valid(r("userId-empty"), userId="")),
        case("userId-10kb", valid(r("userId-10kb"), userId="u" * 10_240)),
        case("userId-newline", valid(r("userId-newline"), userId="user-1\nINFO forged log line")),
        case("userId-query", valid(r("userId-query"), userId="user-1?admin=true")),
        case("userId-hangul", valid(r("userId-hangul"), userId="사용자")),
        case("userId-backslash", valid(r("userId-backslash"), userId="..\\admin")),
        # requestIds that are unusable themselves
        case("requestId-traversal", {**valid("x"), "requestId": "../../etc/passwd"}, readable=False),
        case("requestId-10kb", {**valid("x"), "requestId": "r" * 10_240}, readable=False),
    ]


CORPUS = corpus()

# Once part of the corpus above, now answered: the product spec never forbids them (the tolerant reader).
ACCEPTED = {
    "requestId-int": {**valid("x"), "requestId": 12345},
    "userId-int": valid("ok-userId-int", userId=67890),
    "extra-field": valid("ok-extra-field", admin=True),
    "extra-field-huge-name": {**valid("ok-extra-field-huge-name"), "k\x1b[31m" + "x" * 10_000: 1},
}


def size_of(raw: Any) -> int:
    if isinstance(raw, (bytes, str)):
        return len(raw.encode() if isinstance(raw, str) else raw)
    return (
        len(json.dumps(raw, ensure_ascii=False, default=str).encode("utf-8", errors="replace"))
        if not _too_deep(raw)
        else 100_000
    )


def _too_deep(raw: Any) -> bool:
    try:
        json.dumps(raw)
    except (RecursionError, ValueError):
        return True
    return False


@pytest.fixture
def rejecting_deps(settings, llm, memory, http_vm):
    events = CollectingEmitter()
    return build_dependencies(settings, llm=llm, vm=http_vm, memory=memory, tokens=events, results=events), events


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 40 and len({c.name for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("bad", CORPUS, ids=[c.name for c in CORPUS])
async def test_bad_input_is_one_typed_failure(bad, rejecting_deps, vm_stub, caplog, ledger):
    deps, events = rejecting_deps
    caplog.set_level(logging.DEBUG)
    tracemalloc.start()
    try:
        outcome = await handle(bad.raw, deps)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ledger.bad_input()

    assert (outcome.status, outcome.error_code, outcome.request_id) == ("INVALID", "INVALID_REQUEST", bad.reported)
    assert events.tokens == []
    ledger.one_result_each([bad.reported] if bad.reported else [], events.results)
    for result in events.results:
        assert result.status == "FAILED" and result.final is None
        assert result.error.code == "INVALID_REQUEST" and not result.error.retryable
        message = result.error.message
        assert message.startswith(("invalid request", "request body")) and len(message) < 2_000
        assert message.isprintable(), "input control characters never reach the message"
    # Nothing but the claim (for a readable requestId) reached the VM: no user path, no search.
    assert vm_stub.calls == ([("POST", "/internal/idempotency/claim")] if bad.reported else [])
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged for bad input"
    assert "Traceback" not in caplog.text
    assert peak < MEMORY_ALLOWANCE_BYTES + MEMORY_FACTOR * size_of(bad.raw), f"peak {peak} bytes"


@pytest.mark.parametrize("name", list(ACCEPTED))
async def test_odd_but_answerable_input_is_answered(name, deps, events, caplog):
    caplog.set_level(logging.DEBUG)
    raw = ACCEPTED[name]
    outcome = await handle(raw, deps)
    assert outcome.status == "SUCCEEDED", outcome
    (result,) = events.results
    assert result.requestId == str(raw["requestId"]) and result.final["reply"]
    assert "x" * 100 not in caplog.text, "an unknown field's name is logged shortened"
    assert "\x1b" not in caplog.text


async def test_a_bad_batch_is_answered_item_by_item_and_never_retried(rejecting_deps, ledger):
    """The same corpus as one Connector Hub batch: every item its own INVALID outcome, HTTP 200
    (a redelivery cannot fix bad input), never UNPUBLISHED."""
    deps, events = rejecting_deps
    items = [
        c
        for c in CORPUS
        if isinstance(c.raw, dict) and c.reported and not _too_deep(c.raw) and size_of(c.raw) < 200_000
    ]
    batch = json.dumps([{"id": n, "content": json.dumps(c.raw, default=str)} for n, c in enumerate(items)])
    report = await run_invocation(batch.encode(), deps, concurrency=8)
    ledger.bad_input(len(items))
    assert report.status_code == 200
    assert {o["status"] for o in report.outcomes} == {"INVALID"}
    ledger.one_result_each([c.reported for c in items], events.results)


@pytest.mark.parametrize(
    "body",
    [
        b'{"requestId": "bad-number", "n": ' + b"9" * 5000 + b"}",
        b"\xff" * 64,
        b"[" * 100_000,
    ],
    ids=["number-5000-digits", "invalid-utf8", "deep-brackets"],
)
async def test_an_unreadable_invocation_body_is_invalid_not_unpublished(rejecting_deps, body, ledger):
    deps, events = rejecting_deps
    report = await run_invocation(body, deps)
    ledger.bad_input()
    assert report.status_code == 200, report.body()
    assert [o["status"] for o in report.outcomes] == ["INVALID"]
    assert events.results == []


# --- fuzzing ----------------------------------------------------------------------------------

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40))
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)
FIELDS = ["requestId", "userId", "conversation_history", "stream", "metadata"]


@st.composite
def mutated_requests(draw) -> dict[str, Any]:
    """A valid request with one to three fields broken: replaced by any JSON value, removed, or
    a turn broken; sometimes an unknown field added."""
    body = valid("fuzz-request", conversation_history=[GOOD_TURN])
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from([*FIELDS, "turn", "extra"]))
        action = draw(st.sampled_from(["replace", "remove"]))
        if field == "turn":
            turn = dict(GOOD_TURN)
            key = draw(st.sampled_from(["role", "content", "other"]))
            turn[key] = draw(JSON_VALUE)
            body["conversation_history"] = [turn]
        elif field == "extra":
            body[draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in FIELDS))] = draw(JSON_VALUE)
        elif action == "remove":
            body.pop(field, None)
        else:
            body[field] = draw(JSON_VALUE)
    return body


FUZZ = st.one_of(
    mutated_requests(),
    st.binary(max_size=512),
    st.text(max_size=512),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=FUZZ)
def test_fuzzed_input_never_crashes_and_is_answered_once(raw, settings, llm, memory, ledger):
    events = CollectingEmitter()
    deps = build_dependencies(settings, llm=llm, vm=EmbeddedVMApi(), memory=memory, tokens=events, results=events)
    outcome = asyncio.run(handle(raw, deps))  # must not raise, whatever came in

    if outcome.status == "INVALID":
        ledger.bad_input()
        assert outcome.error_code == "INVALID_REQUEST"
        for result in events.results:
            assert result.status == "FAILED" and result.error.code == "INVALID_REQUEST"
    else:  # the mutation happened to keep the request valid: it ran like any other
        assert outcome.status in ("SUCCEEDED", "CLARIFY", "FAILED")
    expected = [outcome.request_id] if outcome.request_id else []
    ledger.one_result_each(expected, events.results)
    assert all("Traceback" not in r.model_dump_json() for r in events.results)
