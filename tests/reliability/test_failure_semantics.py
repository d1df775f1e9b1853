"""The rows of docs/failure-semantics.md that other test files do not already prove, each through
the real client against a stand-in on 127.0.0.1 and through the runner: every fault ends in exactly
one result event, with the status, code and meta the table promises."""

from __future__ import annotations

import logging
import socket

import pytest

from adapters.emit.oci_clients import bounded_retry, oci_credentials, queue_client
from adapters.emit.oci_queue import QueueResultEmitter, ResultNotPublished
from adapters.memory.qdrant import QdrantMemory
from adapters.vm_api.http import CLAIM_ATTEMPTS, GET_ATTEMPTS, HttpVMApi
from adapters.vm_api.stub_server import Fault
from app.dependencies import build_dependencies
from app.runner import handle
from standins.qdrant import QdrantFault, running_qdrant
from standins.vm import TOKEN, running_stub
from tests.conftest import request
from tests.oci_fixtures import QUEUE_ID
from tests.reliability.conftest import STALL_S

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection"),
]

CHAT = "오늘 운동 뭐 해야 돼?"
FACT_CHAT = "I hurt my left knee last week, what should I train today?"  # needs memory, states a fact
GENERATE = "새 4주 근비대 프로그램 만들어줘"
UPDATE = "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘"


def the_result(events, request_id: str, ledger):
    ledger.one_result_each([request_id], events.results)
    [result] = events.results
    assert "Traceback" not in result.model_dump_json()
    if result.status == "FAILED":
        assert result.final is None and result.error.code and result.error.message
    else:
        assert result.error is None and result.final
    return result


# --- VM API ---------------------------------------------------------------------------------------


async def test_vm_down_is_one_failed_result_after_the_claim_is_retried(settings, llm, memory, events, caplog, ledger):
    with running_stub(listen=False) as stub:  # the port is bound but nobody accepts: connection refused
        api = HttpVMApi(stub.base_url, TOKEN, backoff_s=0.01)
        deps = build_dependencies(settings, llm=llm, vm=api, memory=memory, tokens=events, results=events)
        try:
            with caplog.at_level(logging.WARNING, logger="reppy.vm_api"):
                outcome = await handle(request(CHAT, request_id="req-vm-down"), deps)
        finally:
            await api.aclose()
        assert stub.calls == []  # nothing ever reached it
    ledger.fault(CLAIM_ATTEMPTS)
    result = the_result(events, "req-vm-down", ledger)
    assert (outcome.status, result.error.code, result.error.retryable) == ("FAILED", "VM_UNAVAILABLE", True)
    assert "unreachable" in result.error.message
    # Retried, because a refused connection proves the claim never arrived (no claim can be lost).
    # (The graph's reads, made beside the claim, retry too: only the claim's are counted.)
    claim_retries = [r for r in caplog.records if "claim" in r.getMessage() and "retrying" in r.getMessage()]
    assert len(claim_retries) == CLAIM_ATTEMPTS - 1


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_token_at_the_claim_is_vm_auth(
    vm_stub, http_vm, settings, llm, memory, events, status, ledger
):
    deps = build_dependencies(settings, llm=llm, vm=http_vm, memory=memory, tokens=events, results=events)
    vm_stub.inject("claim", Fault("status", status=status))
    ledger.fault()
    await handle(request(CHAT, request_id=f"req-claim-{status}"), deps)
    result = the_result(events, f"req-claim-{status}", ledger)
    assert (result.error.code, result.error.retryable) == ("VM_AUTH", False)
    assert TOKEN not in result.model_dump_json()


# What a GET of active-routines that keeps failing does to each kind of request.
GET_FAULTS = {
    "5xx": [Fault("status", status=503)] * GET_ATTEMPTS,
    "slow-past-timeout": [Fault("stall", seconds=STALL_S)] * GET_ATTEMPTS,
    # aiohttp sends a GET once more at once on a dropped connection (RFC 9112), in each attempt.
    "down-mid-request": [Fault("drop")] * (2 * GET_ATTEMPTS),
    "401": [Fault("status", status=401)],
}


@pytest.mark.parametrize("fault", list(GET_FAULTS))
@pytest.mark.parametrize(
    "message, intent",
    [(CHAT, "CHAT_RESPONSE"), (GENERATE, "GENERATE_ROUTINE"), (UPDATE, "UPDATE_ROUTINE")],
    ids=["chat", "generate", "update"],
)
async def test_vm_failing_mid_request(vm_stub, http_vm, settings, llm, memory, events, fault, message, intent, ledger):
    deps = build_dependencies(settings, llm=llm, vm=http_vm, memory=memory, tokens=events, results=events)
    vm_stub.inject("active-routines", *GET_FAULTS[fault])
    ledger.fault(len(GET_FAULTS[fault]))
    request_id = f"req-get-{fault}-{intent.lower()}"
    await handle(request(message, request_id=request_id), deps)
    result = the_result(events, request_id, ledger)
    assert result.meta.intent == intent
    if intent == "CHAT_RESPONSE":  # optional context: answered without it, and said so
        assert result.status == "SUCCEEDED" and result.meta.degraded == ["active_routines"]
    elif fault == "401":  # a rejected token is configuration: typed as such, not retryable
        assert (result.status, result.error.code, result.error.retryable) == ("FAILED", "VM_AUTH", False)
    else:  # required context: a typed failure instead of a guess
        assert (result.status, result.error.code, result.error.retryable) == ("FAILED", "CONTEXT_MISSING", True)
        assert "active_routines" in result.error.message


# --- Qdrant (user memory) -------------------------------------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("how", ["unreachable", "500", "slow-past-timeout"])
@pytest.mark.parametrize(
    "message, intent", [(FACT_CHAT, "CHAT_RESPONSE"), (GENERATE, "GENERATE_ROUTINE")], ids=["chat", "generate"]
)
async def test_qdrant_failing_never_costs_the_answer(
    settings, llm, vm, embeddings, events, how, message, intent, ledger, caplog
):
    with running_qdrant() as qdrant:
        if how == "500":
            qdrant.fail_always(QdrantFault(status=500))
        elif how == "slow-past-timeout":
            qdrant.fail_always(QdrantFault(status=None, stall_s=2.5))
        url = closed_port_url() if how == "unreachable" else qdrant.url
        memory = QdrantMemory(
            collection="user_memory", url=url, embeddings=embeddings, timeout_s=1, min_score=settings.MEMORY_MIN_SCORE
        )
        deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)
        request_id = f"req-qdrant-{how}-{intent.lower()}"
        try:
            outcome = await handle(request(message, request_id=request_id), deps)
        finally:
            await memory.aclose()
        ledger.fault(max(qdrant.faults_served, 1))
    result = the_result(events, request_id, ledger)
    assert outcome.status == result.status == "SUCCEEDED" and result.meta.intent == intent
    assert result.meta.degraded == ["user_memory"]  # memory is never required: noted, not fatal
    if intent == "CHAT_RESPONSE":  # the fact could not be written either: logged after the result, not fatal
        assert "after the result: remembered {'saved': 0, 'error': 'MEMORY_UNAVAILABLE'}" in caplog.text


# --- OCI Queue (results) --------------------------------------------------------------------------


async def test_a_transient_result_queue_failure_is_retried_and_published_once(
    settings, llm, vm, memory, events, standin, oci_config_file, ledger
):
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    results = QueueResultEmitter(
        queue_client(credentials, standin.endpoint, timeout=(2.0, 5.0)),
        QUEUE_ID,
        retry_strategy=bounded_retry(3.0, base_sleep_s=0.02),
    )
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=results)
    standin.fail_next("queue", 503, 429, 500)
    ledger.fault(3)
    outcome = await handle(request(CHAT, request_id="req-queue-blip"), deps)
    assert outcome.status == "SUCCEEDED"
    assert [c.status for c in standin.calls_to("queue")] == [503, 429, 500, 200]
    [published] = standin.queue_events()
    assert published["status"] == "SUCCEEDED" and published["final"]["reply"]
    ledger.one_result_each(["req-queue-blip"], standin.queue_events())


async def test_results_go_out_as_soon_as_the_queue_is_back(
    settings, llm, vm, memory, events, standin, oci_config_file, ledger
):
    """A queue outage long enough for a dozen failed calls must not keep results back once it is
    over (the SDK's default circuit breaker would refuse every call for 30 s more)."""
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    results = QueueResultEmitter(
        queue_client(credentials, standin.endpoint, timeout=(2.0, 5.0)),
        QUEUE_ID,
        retry_strategy=bounded_retry(0.3, max_attempts=4, base_sleep_s=0.01),
    )
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=results)
    standin.fail_always("queue", 503)
    for n in range(3):
        with pytest.raises(ResultNotPublished):
            await handle(request("음…", request_id=f"req-outage-{n}"), deps)
    failed_calls = len(standin.calls_to("queue"))
    ledger.fault(failed_calls)
    assert failed_calls >= 10
    standin.fail_always("queue", None)  # the queue is back
    outcome = await handle(request("음…", request_id="req-after-outage"), deps)
    assert outcome.status == "CLARIFY"
    ledger.one_result_each(["req-after-outage"], standin.queue_events())
