"""Duplicate deliveries never answer twice: the VM's claim store decides between instances, a warm
instance remembers what it took; and what happens when the claim's own answer is lost."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter, defaultdict

import pytest
from fdk import fixtures

import func
from adapters.emit.oci_clients import bounded_retry, oci_credentials, queue_client
from adapters.emit.oci_queue import QueueResultEmitter
from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import Fault
from app.dependencies import build_dependencies
from app.invocation import TakenRequests, UnpublishedResults, run_invocation
from app.runner import handle
from standins.vm import TOKEN
from tests.conftest import OTHER_USER, request
from tests.emitters import CollectingEmitter
from tests.oci_fixtures import QUEUE_ID
from tests.reliability.conftest import STALL_S

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

MESSAGES = [
    "오늘 운동 뭐 해야 돼?",
    "새 4주 근비대 프로그램 만들어줘",
    "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘",
    "음…",
    "What should I train today?",
]
INSTANCES = 4
REQUESTS = 50


def queue_results(credentials, standin):
    client = queue_client(credentials, standin.endpoint, timeout=(2.0, 5.0))
    return QueueResultEmitter(client, QUEUE_ID, retry_strategy=bounded_retry(2.0, base_sleep_s=0.02))


async def test_200_concurrent_deliveries_of_50_requests_give_50_results(
    vm_stub, settings, llm, memory, standin, oci_config_file, ledger
):
    """Four warm instances each get all 50 requests, shuffled, and run them all at once: only the
    VM's claim store stands between them and 200 answers."""
    ids = [f"req-dup-{n:02d}" for n in range(REQUESTS)]
    # Two users; Minji only chats (her routines have no push day to change).
    requests = {
        rid: request(
            MESSAGES[n % len(MESSAGES)],
            request_id=rid,
            user_id=OTHER_USER if n % 2 and n % len(MESSAGES) in (0, 3, 4) else "user-67890",
        )
        for n, rid in enumerate(ids)
    }
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    shuffle = random.Random(9)
    instances = []
    for _ in range(INSTANCES):
        vm = HttpVMApi(vm_stub.base_url, TOKEN, read_timeout=30)  # its own pool, as another process has
        tokens = CollectingEmitter()
        deps = build_dependencies(
            settings, llm=llm, vm=vm, memory=memory, tokens=tokens, results=queue_results(credentials, standin)
        )
        order = shuffle.sample(ids, len(ids))
        body = json.dumps([requests[rid] for rid in order], ensure_ascii=False).encode()
        instances.append((deps, tokens, body))
    try:
        reports = await asyncio.gather(
            *(run_invocation(body, deps, concurrency=REQUESTS) for deps, _, body in instances)
        )
    finally:
        for deps, _, _ in instances:
            await deps.vm.aclose()
    ledger.duplicate(INSTANCES * REQUESTS - REQUESTS)

    # Every delivery asked the VM; exactly one per requestId was told it owns the request.
    assert len(vm_stub.claims) == INSTANCES * REQUESTS
    assert Counter(rid for rid, won in vm_stub.claims if won) == Counter(ids)
    # One result per requestId on the queue, none twice, none missing.
    results = standin.queue_events()
    ledger.one_result_each(ids, results)
    answered = Counter(o["requestId"] for r in reports for o in r.outcomes if o["status"] != "SKIPPED")
    assert answered == Counter(ids) and all(r.status_code == 200 for r in reports)
    # Token events come from the one instance that ran the request, in order, making up its reply.
    by_id = {r["requestId"]: r for r in results}
    streamed = defaultdict(list)
    for index, (_, tokens, _) in enumerate(instances):
        for event in tokens.tokens:
            streamed[event.requestId].append((index, event))
    for rid, events in streamed.items():
        assert len({index for index, _ in events}) == 1, f"{rid} streamed by two instances"
        assert [e.seq for _, e in events] == list(range(1, len(events) + 1))
        assert "".join(e.delta for _, e in events) == by_id[rid]["final"]["reply"]
    assert {(r["status"], (r["error"] or {}).get("code")) for r in results} <= {("SUCCEEDED", None), ("CLARIFY", None)}


# --- the claim's outcome unknown ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, message",
    [
        (Fault("stall", seconds=STALL_S), "timed out"),  # sent, recorded late, the answer never waited for
        (Fault("drop"), "unreachable"),  # sent, recorded, the connection dropped
    ],
    ids=["timeout-after-sending", "dropped-after-recording"],
)
async def test_a_lost_claim_answer_is_one_failed_result_and_redeliveries_are_skipped(
    vm_stub, http_vm, settings, llm, memory, events, fault, message, ledger
):
    deps = build_dependencies(settings, llm=llm, vm=http_vm, memory=memory, tokens=events, results=events)
    vm_stub.inject("claim", fault)
    ledger.fault()
    first = await handle(request(MESSAGES[0], request_id="req-claim-lost"), deps)
    [result] = events.results
    assert (first.status, result.status, result.error.code, result.error.retryable) == (
        "FAILED",
        "FAILED",
        "VM_UNAVAILABLE",
        True,
    )
    assert message in result.error.message and vm_stub.calls.count(("POST", "/internal/idempotency/claim")) == 1

    # The VM did record that claim: a redelivery — to this instance or another — is skipped.
    for _ in range(200):  # bounded: the stalled claim is applied after STALL_S
        if vm_stub.claims:
            break
        await asyncio.sleep(0.02)
    assert vm_stub.claims == [("req-claim-lost", True)]
    other_instance = HttpVMApi(vm_stub.base_url, TOKEN)
    try:
        again = await handle(
            request(MESSAGES[0], request_id="req-claim-lost"),
            build_dependencies(settings, llm=llm, vm=other_instance, memory=memory, tokens=events, results=events),
        )
    finally:
        await other_instance.aclose()
    ledger.duplicate()
    assert again.status == "SKIPPED"
    ledger.one_result_each(["req-claim-lost"], events.results)


async def test_a_batch_redelivered_after_a_502_never_answers_a_lost_claim_twice(
    vm_stub, http_vm, settings, llm, memory, standin, oci_config_file, monkeypatch, ledger
):
    """The claim of A fails with a 5xx the VM never recorded (A is answered FAILED), B's result
    cannot be published (the invocation answers 502), and Connector Hub delivers [B, A] again to
    the same warm instance. B's kept result goes out; A must not run a second time."""
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    results = QueueResultEmitter(
        queue_client(credentials, standin.endpoint, timeout=(2.0, 5.0)),
        QUEUE_ID,
        retry_strategy=bounded_retry(0.5, base_sleep_s=0.02),
    )
    # One at a time; fdk's fixture gives the call 30 s, so A may start with less than the production minimum.
    one_at_a_time = settings.model_copy(update={"BATCH_CONCURRENCY": 1, "DEADLINE_MIN_START_S": 1.0})
    monkeypatch.setattr(
        func,
        "_deps",
        build_dependencies(
            one_at_a_time, llm=llm, vm=http_vm, memory=memory, tokens=CollectingEmitter(), results=results
        ),
    )
    monkeypatch.setattr(func, "_unpublished", None)  # a fresh warm instance
    monkeypatch.setattr(func, "_taken", None)
    batch = json.dumps(
        [request("음…", request_id="req-b"), request(MESSAGES[0], request_id="req-a")], ensure_ascii=False
    )
    standin.fail_next("queue", 400)  # B's result is refused
    # B claims normally (None: no fault), then A's claim fails with a 5xx the VM never recorded.
    vm_stub.inject("claim", None, Fault("status", status=503))
    ledger.fault(2)

    async def invoke() -> tuple[int, dict]:
        call = await fixtures.setup_fn_call(func.handler, content=batch, headers={"Fn-Call-Id": "call-dup"})
        body, status, _ = await call
        return status, json.loads(body)

    status, body = await invoke()
    assert status == 502
    assert [(o["requestId"], o["status"], o["error"]) for o in body["outcomes"]] == [
        ("req-b", "UNPUBLISHED", "RESULT_NOT_PUBLISHED"),
        ("req-a", "FAILED", "VM_UNAVAILABLE"),
    ]
    assert ("req-a", True) not in vm_stub.claims  # the VM never recorded A's claim

    status, body = await invoke()  # the redelivery
    ledger.duplicate(2)
    assert status == 200
    assert [(o["requestId"], o["status"], o.get("republished")) for o in body["outcomes"]] == [
        ("req-b", "CLARIFY", True),
        ("req-a", "SKIPPED", None),
    ]
    assert [rid for rid, _ in vm_stub.claims].count("req-a") == 0  # not even asked: this instance knew
    ledger.one_result_each(["req-a", "req-b"], standin.queue_events())


async def test_a_result_kept_for_a_lost_claim_never_follows_the_real_answer(
    vm_stub, http_vm, settings, llm, memory, standin, oci_config_file, ledger
):
    """A's claim fails with a 5xx the VM never recorded and its FAILED result cannot be published
    (kept). Redelivered twice over, A is claimed afresh and answered; the kept FAILED result is then
    stale and must never go out after the answer."""
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    results = QueueResultEmitter(
        queue_client(credentials, standin.endpoint, timeout=(2.0, 5.0)),
        QUEUE_ID,
        retry_strategy=bounded_retry(0.3, base_sleep_s=0.02),
    )
    deps = build_dependencies(settings, llm=llm, vm=http_vm, memory=memory, tokens=CollectingEmitter(), results=results)
    kept, taken = UnpublishedResults(), TakenRequests()
    a = request(MESSAGES[0], request_id="req-stale", stream=False)
    vm_stub.inject("claim", Fault("status", status=503))
    standin.fail_always("queue", 503)
    ledger.fault(2)
    first = await run_invocation(json.dumps([a]).encode(), deps, unpublished=kept, taken=taken)
    assert [(o["status"], o["error"]) for o in first.outcomes] == [("UNPUBLISHED", "RESULT_NOT_PUBLISHED")]

    standin.fail_always("queue", None)
    again = await run_invocation(json.dumps([a, a]).encode(), deps, concurrency=1, unpublished=kept, taken=taken)
    ledger.duplicate(2)
    assert [o["status"] for o in again.outcomes] == ["SUCCEEDED", "SKIPPED"]
    ledger.one_result_each(["req-stale"], standin.queue_events())
    assert len(kept) == 0
