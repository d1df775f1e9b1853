"""A request cancelled after its claim still gets exactly one result: cancelled while claiming,
while the graph runs or streams, while its tokens are flushed, with its whole invocation, or with
the process itself (SIGTERM to the real fdk server)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from adapters.emit.oci_clients import bounded_retry, oci_credentials, stream_client
from adapters.emit.oci_stream import StreamTokenEmitter
from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import Fault, VMStubServer
from app.dependencies import build_dependencies
from app.invocation import TakenRequests, UnpublishedResults, run_invocation
from app.runner import handle
from standins.gemini import Latency, Reply
from standins.vm import TOKEN
from tests.conftest import REPO, request
from tests.emitters import CollectingEmitter
from tests.gemini_support import CHAT_MESSAGE, plan, route
from tests.oci_fixtures import STREAM_ID, oci_environment
from tests.processes import clean_env, running_function, stop

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

CHAT = "오늘 운동 뭐 해야 돼?"


async def eventually(condition, timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def cancel(task: asyncio.Task) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.fixture
async def patient_vm(vm_stub):
    """An HTTP VM client that waits longer than the stub's stalls: the request is still under way
    when it is cancelled."""
    api = HttpVMApi(vm_stub.base_url, TOKEN, read_timeout=10.0)
    yield api
    await api.aclose()


def claimed(stub, request_id: str) -> list[bool]:
    return [answer for rid, answer in stub.claims if rid == request_id]


async def test_cancelled_while_claiming(vm_stub, patient_vm, settings, llm, memory, events, ledger):
    deps = build_dependencies(settings, llm=llm, vm=patient_vm, memory=memory, tokens=events, results=events)
    vm_stub.inject("claim", Fault("stall", seconds=0.5))  # the VM records the claim, late
    ledger.fault()
    task = asyncio.create_task(handle(request(CHAT, request_id="req-cancel-claim"), deps))
    # The graph's reads start beside the claim: wait for the claim itself.
    await eventually(lambda: ("POST", "/internal/idempotency/claim") in vm_stub.calls, what="the claim to reach the VM")
    await cancel(task)
    [result] = events.results
    assert (result.status, result.error.code, result.error.retryable) == ("FAILED", "CANCELLED", True)

    # The VM did record the claim: the redelivery is skipped, the CANCELLED result was the answer.
    await eventually(lambda: claimed(vm_stub, "req-cancel-claim"), what="the stalled claim to be applied")
    again = await handle(request(CHAT, request_id="req-cancel-claim"), deps)
    ledger.duplicate()
    assert again.status == "SKIPPED"
    ledger.one_result_each(["req-cancel-claim"], events.results)


async def test_cancelled_while_streaming(gemini, gemini_deps, events, ledger):
    gemini.latency = Latency(ttft_s=0.0, tokens_per_s=20.0)  # a slow answer, word by word
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer(" ".join(["벤치프레스는"] * 40)))
    task = asyncio.create_task(handle(request(CHAT_MESSAGE, request_id="req-cancel-stream"), gemini_deps()))
    await eventually(lambda: len(events.tokens) >= 2, what="the first tokens")
    await cancel(task)
    ledger.fault()
    [result] = events.results
    assert (result.status, result.error.code) == ("FAILED", "CANCELLED") and result.final is None
    streamed = len(events.tokens)
    assert result.meta.tokens_streamed == streamed and result.meta.intent == "CHAT_RESPONSE"
    assert result.error.message.endswith(f"(after {streamed} tokens were streamed)")
    assert [t.seq for t in events.tokens] == list(range(1, streamed + 1))
    ledger.one_result_each(["req-cancel-stream"], events.results)


async def test_cancelled_while_flushing_tokens_publishes_the_answer(
    settings, llm, vm, memory, standin, oci_config_file, ledger
):
    credentials = oci_credentials("config", config_file=str(oci_config_file))
    # Nothing leaves before the flush (long linger, big batches): the flush is the one stream call.
    tokens = StreamTokenEmitter(
        stream_client(credentials, standin.endpoint, timeout=(2.0, 5.0)),
        STREAM_ID,
        retry_strategy=bounded_retry(1.0, base_sleep_s=0.01),
        linger_s=30,
        max_batch=1000,
    )
    results = CollectingEmitter()
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=tokens, results=results)
    standin.stall_next("stream", 1.5)
    ledger.fault()
    task = asyncio.create_task(handle(request(CHAT, request_id="req-cancel-flush"), deps))
    await eventually(lambda: standin.stalls_started == 1, what="the flush to reach the stream")
    await cancel(task)
    [result] = results.results
    assert result.status == "SUCCEEDED" and result.final["reply"]  # the answer was made: it goes out
    ledger.one_result_each(["req-cancel-flush"], results.results)


async def test_a_cancelled_invocation_answers_what_it_claimed_and_leaves_the_rest(
    vm_stub, patient_vm, settings, llm, memory, events, ledger
):
    deps = build_dependencies(settings, llm=llm, vm=patient_vm, memory=memory, tokens=events, results=events)
    ids = ["req-inv-1", "req-inv-2", "req-inv-3"]
    body = json.dumps([request(CHAT, request_id=rid) for rid in ids], ensure_ascii=False).encode()
    kept, taken = UnpublishedResults(), TakenRequests()
    vm_stub.inject("active-routines", Fault("stall", seconds=3.0))  # the first request hangs on the VM
    ledger.fault()
    invocation = asyncio.create_task(run_invocation(body, deps, concurrency=1, unpublished=kept, taken=taken))
    await eventually(
        lambda: vm_stub.claims and any(p.endswith("/active-routines") for _, p in vm_stub.calls),
        what="the first request to be claimed and to wait on the VM",
    )
    await cancel(invocation)
    [result] = events.results
    assert (result.requestId, result.error.code) == ("req-inv-1", "CANCELLED")
    assert [rid for rid, _ in vm_stub.claims] == ["req-inv-1"]  # the others were never claimed

    # Connector Hub delivers the batch again: the cancelled one is answered already, the rest run.
    report = await run_invocation(body, deps, concurrency=1, unpublished=kept, taken=taken)
    ledger.duplicate(len(ids))
    assert [o["status"] for o in report.outcomes] == ["SKIPPED", "SUCCEEDED", "SUCCEEDED"]
    ledger.one_result_each(ids, events.results)


# --- the process: SIGTERM to the fdk server ----------------------------------------------------


def test_sigterm_publishes_cancelled_results_for_claimed_requests(identity, standin, tmp_path, ledger):
    vm = VMStubServer("127.0.0.1", 0, "sigterm-vm-token")
    vm.inject("active-routines", Fault("stall", seconds=30.0))  # the first request waits on the VM
    vm.start_in_thread()
    answer: dict = {}
    try:
        with running_function(
            tmp_path,
            BATCH_CONCURRENCY="1",
            VM_INTERNAL_BASE_URL=vm.base_url,
            VM_INTERNAL_TOKEN="sigterm-vm-token",
            VM_TIMEOUT_READ_S="60",
            **oci_environment(identity.write_config(tmp_path), standin.endpoint),
            OCI_PUBLISH_RETRY_S="2",
        ) as function:
            # One request the VM keeps waiting, then one that waits its turn (one at a time).
            batch = [request(CHAT, request_id="req-term-slow"), request(CHAT, request_id="req-term-next")]

            def call() -> None:
                transport = httpx.HTTPTransport(uds=str(function.socket))
                with httpx.Client(transport=transport, timeout=60) as client:
                    try:
                        answer["response"] = client.post(
                            "http://function/call",
                            content=json.dumps(batch).encode(),
                            headers={"Fn-Call-Id": "call-sigterm", "Fn-Deadline": "2099-01-01T00:00:00Z"},
                        )
                    except httpx.HTTPError as exc:
                        answer["error"] = exc

            caller = threading.Thread(target=call, daemon=True)
            caller.start()
            for _ in range(600):  # bounded: until the first request is claimed and waiting on the VM
                if vm.claims and any(path.endswith("/active-routines") for _, path in vm.calls):
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the slow request never reached the VM:\n" + function.log.read_text()[-3000:])

            os.kill(function.process.pid, signal.SIGTERM)
            ledger.fault()
            function.process.wait(timeout=20)
            caller.join(timeout=20)
    finally:
        vm.stop()

    results = standin.queue_events()
    [result] = results
    assert (result["requestId"], result["status"], result["error"]["code"]) == ("req-term-slow", "FAILED", "CANCELLED")
    # The request waiting its turn was never claimed: a redelivery runs it as new.
    assert [rid for rid, _ in vm.claims] == ["req-term-slow"]
    assert "response" not in answer or answer["response"].status_code != 200  # the call did not succeed
    ledger.one_result_each(["req-term-slow"], results)


def test_ctrl_c_on_the_cli_prints_the_cancelled_result(ledger):
    vm = VMStubServer("127.0.0.1", 0, "cli-vm-token")
    vm.inject("active-routines", Fault("stall", seconds=30.0))
    vm.start_in_thread()
    env = clean_env(VM_INTERNAL_TOKEN="cli-vm-token", QDRANT_PATH=":memory:")
    body = json.dumps(request(CHAT, request_id="req-ctrl-c"), ensure_ascii=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--vm-url", vm.base_url, "-j", body],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):  # bounded: until the request is claimed and waiting on the VM
            if (
                vm.claims and any(path.endswith("/active-routines") for _, path in vm.calls)
            ) or process.poll() is not None:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        ledger.fault()
        stdout, stderr = process.communicate(timeout=30)
    finally:
        stop(process, grace_s=0)
        vm.stop()
    result = json.loads(stdout.decode().splitlines()[-1])
    assert (result["requestId"], result["status"], result["error"]["code"]) == ("req-ctrl-c", "FAILED", "CANCELLED")
    assert process.returncode == 130
    assert "Traceback" not in stderr.decode() and "interrupted" in stderr.decode()
    ledger.one_result_each(["req-ctrl-c"], [result])
