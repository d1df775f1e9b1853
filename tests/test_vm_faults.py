"""The HTTP VM API client when the VM misbehaves (scripted faults of the vm_stub on 127.0.0.1): what
is retried, what is not, and why a lost claim answer fails loudly instead of skipping silently."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.vm_api.http import CLAIM_ATTEMPTS, GET_ATTEMPTS, HttpVMApi
from adapters.vm_api.stub_server import Fault
from app.dependencies import build_dependencies
from app.runner import handle
from core.errors import VMAuthError, VMUnavailable
from standins.vm import TOKEN, running_stub
from tests.conftest import request

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

READ_TIMEOUT_S = 0.3
STALL_S = 1.0  # comfortably past the read timeout


@pytest.fixture
async def client(vm_stub):
    api = HttpVMApi(vm_stub.base_url, TOKEN, read_timeout=READ_TIMEOUT_S, backoff_s=0.01)
    yield api
    await api.aclose()


def calls_to(vm_stub, suffix: str) -> int:
    return sum(1 for _, path in vm_stub.calls if path.endswith(suffix))


# --- GETs: read-only, retried on transient failures ----------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=500),
        Fault("status", status=503),
        Fault("stall", seconds=STALL_S),
        Fault("drop"),
    ],
)
async def test_get_recovers_from_one_transient_fault(vm_stub, client, fault):
    vm_stub.inject("active-routines", fault)
    routines = await client.get_active_routines("user-67890")
    assert [r["routine_name"] for r in routines] == ["Push Day A", "Pull Day A", "Leg Day A"]
    assert calls_to(vm_stub, "/active-routines") == 2


@pytest.mark.parametrize(
    "fault, message",
    [
        (Fault("status", status=500), "HTTP 500"),
        (Fault("stall", seconds=STALL_S), "timed out"),
        (Fault("drop"), "unreachable"),
    ],
)
async def test_get_gives_up_after_its_attempts(vm_stub, client, fault, message):
    # A GET whose connection drops is sent once more at once by aiohttp itself (RFC 9112 §9.3.1:
    # an idempotent request may be retried on a lost connection), inside each of our attempts.
    sends = GET_ATTEMPTS * (2 if fault.kind == "drop" else 1)
    vm_stub.inject("search", *[fault] * sends)
    with pytest.raises(VMUnavailable, match=message) as info:
        await client.search_exercises("스쿼트")
    assert info.value.code == "VM_UNAVAILABLE" and info.value.retryable
    assert calls_to(vm_stub, "/exercises/search") == sends


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_never_retried(vm_stub, client, status):
    vm_stub.inject("profile", Fault("status", status=status))
    with pytest.raises(VMAuthError, match=str(status)) as info:
        await client.get_profile("user-67890")
    assert info.value.code == "VM_AUTH" and not info.value.retryable
    assert TOKEN not in info.value.message
    assert calls_to(vm_stub, "/profile") == 1


async def test_bad_json_is_typed_and_not_retried(vm_stub, client):
    vm_stub.inject("active-routines", Fault("bad_json"))
    with pytest.raises(VMUnavailable, match="invalid JSON"):
        await client.get_active_routines("user-67890")
    assert calls_to(vm_stub, "/active-routines") == 1


async def test_other_client_errors_are_not_retried(vm_stub, client):
    vm_stub.inject("active-routines", Fault("status", status=404))
    with pytest.raises(VMUnavailable, match="404") as info:
        await client.get_active_routines("user-67890")
    assert not info.value.retryable and calls_to(vm_stub, "/active-routines") == 1


# --- the claim: retried only when it provably never reached the VM ------------------------------


@pytest.mark.parametrize(
    "fault, message",
    [
        (Fault("drop"), "unreachable"),
        (Fault("stall", seconds=STALL_S), "timed out"),
        (Fault("status", status=500), "HTTP 500"),
        (Fault("status", status=503), "HTTP 503"),
    ],
)
async def test_claim_with_a_lost_answer_is_not_retried(vm_stub, client, fault, message):
    vm_stub.inject("claim", fault)
    with pytest.raises(VMUnavailable, match=message) as info:
        await client.claim("req-lost")
    assert info.value.retryable
    assert calls_to(vm_stub, "/idempotency/claim") == 1


async def test_a_retried_lost_claim_would_have_skipped_the_request(vm_stub, client):
    """Why the claim is not retried: the VM recorded the first attempt before the answer was lost,
    so any second attempt is told claimed=false — the request would be dropped without a word."""
    vm_stub.inject("claim", Fault("drop"))
    with pytest.raises(VMUnavailable):
        await client.claim("req-lost")
    assert await client.claim("req-lost") is False


async def test_claim_is_retried_when_the_connection_was_refused(caplog):
    with running_stub(listen=False) as vm_stub:  # port bound, not listening: connections are refused
        api = HttpVMApi(vm_stub.base_url, TOKEN, backoff_s=0.5)
        try:
            with caplog.at_level(logging.WARNING, logger="reppy.vm_api"):
                claim = asyncio.create_task(api.claim("req-refused"))
                # Open the door only after the first attempt was refused (bounded wait).
                for _ in range(500):
                    if any("attempt 1 failed" in r.getMessage() for r in caplog.records):
                        break
                    await asyncio.sleep(0.01)
                else:
                    pytest.fail("the first claim attempt was never refused")
                vm_stub.listen()
                vm_stub.start_in_thread()
                assert await asyncio.wait_for(claim, timeout=10) is True
        finally:
            await api.aclose()
        assert calls_to(vm_stub, "/idempotency/claim") == 1  # the refused attempt never arrived


async def test_claim_gives_up_after_its_attempts_when_nothing_listens(caplog):
    with running_stub(listen=False) as vm_stub:
        api = HttpVMApi(vm_stub.base_url, TOKEN, backoff_s=0.01)
        try:
            with (
                caplog.at_level(logging.WARNING, logger="reppy.vm_api"),
                pytest.raises(VMUnavailable, match="unreachable"),
            ):
                await api.claim("req-nobody-home")
        finally:
            await api.aclose()
    retries = [r for r in caplog.records if "idempotency/claim" in r.getMessage()]
    assert len(retries) == CLAIM_ATTEMPTS - 1


@pytest.mark.parametrize("body", [{"claimed": "false"}, {"claimed": 0}, {}, ["claimed"]])
async def test_claim_answer_must_be_a_real_boolean(vm_stub, client, body):
    vm_stub.inject("claim", Fault("body", body=body))
    with pytest.raises(VMUnavailable, match="idempotency/claim answered an unexpected shape"):
        await client.claim("req-odd")


# --- through the runner ---------------------------------------------------------------------------


async def test_lost_claim_answer_is_one_failed_result_never_a_silent_skip(
    vm_stub, client, settings, llm, memory, events
):
    deps = build_dependencies(settings, llm=llm, vm=client, memory=memory, tokens=events, results=events)
    vm_stub.inject("claim", Fault("drop"))
    first = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-lost-answer"), deps)
    assert first.status == "FAILED"
    [result] = events.results
    assert result.requestId == "req-lost-answer" and result.status == "FAILED"
    assert result.error.code == "VM_UNAVAILABLE" and result.error.retryable
    # The redelivery is skipped (the VM holds the claim); the FAILED result above was the one answer.
    again = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-lost-answer"), deps)
    assert again.status == "SKIPPED" and len(events.results) == 1


async def test_chat_degrades_when_a_get_keeps_failing(vm_stub, client, settings, llm, memory, events):
    deps = build_dependencies(settings, llm=llm, vm=client, memory=memory, tokens=events, results=events)
    vm_stub.inject("active-routines", *[Fault("status", status=502)] * GET_ATTEMPTS)
    outcome = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-degraded"), deps)
    [result] = events.results
    assert outcome.status == result.status == "SUCCEEDED"
    assert result.meta.degraded == ["active_routines"]
    assert "루틴 정보를 불러오지 못했어요" in result.final["reply"]


async def test_generate_without_its_baseline_fails_typed(vm_stub, client, settings, llm, memory, events):
    deps = build_dependencies(settings, llm=llm, vm=client, memory=memory, tokens=events, results=events)
    vm_stub.inject("profile", *[Fault("status", status=500)] * GET_ATTEMPTS)
    outcome = await handle(request("새 4주 근비대 프로그램 만들어줘", request_id="req-no-profile"), deps)
    [result] = events.results
    assert outcome.status == "FAILED" and result.final is None
    assert result.error.code == "CONTEXT_MISSING" and result.error.retryable
    assert "profile" in result.error.message and "HTTP 500" in result.error.message


async def test_update_with_a_rejected_token_fails_as_vm_auth(vm_stub, client, settings, llm, memory, events):
    deps = build_dependencies(settings, llm=llm, vm=client, memory=memory, tokens=events, results=events)
    vm_stub.inject("active-routines", Fault("status", status=403))
    await handle(request("푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘", request_id="req-403"), deps)
    [result] = events.results
    assert result.status == "FAILED" and result.meta.intent == "UPDATE_ROUTINE"
    assert result.error.code == "VM_AUTH" and not result.error.retryable  # a retry cannot fix a token
    assert TOKEN not in result.model_dump_json()
