"""The OCI emitters through the real `oci` clients and signers, against the local OCI stand-in."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.emit.oci_clients import bounded_retry, oci_credentials, queue_client, stream_client
from adapters.emit.oci_queue import QueueResultEmitter, ResultNotPublished
from adapters.emit.oci_stream import StreamTokenEmitter
from app.dependencies import build_dependencies
from app.runner import handle
from core.contracts import ResultEvent, TokenEvent
from core.errors import ConfigError
from standins.oci_identity import OciTestIdentity
from tests.conftest import request
from tests.oci_fixtures import QUEUE_ID, STREAM_ID, oci_environment

pytestmark = pytest.mark.integration
TIMEOUT = (2.0, 5.0)


def tokens(request_id: str, count: int, start: int = 1) -> list[TokenEvent]:
    return [
        TokenEvent(requestId=request_id, seq=i, delta=f"{request_id}:{i} ", ts=1_700_000_000_000 + i)
        for i in range(start, start + count)
    ]


@pytest.fixture
def credentials(oci_config_file):
    return oci_credentials("config", config_file=str(oci_config_file))


@pytest.fixture
def stream_emitter(credentials, standin):
    client = stream_client(credentials, standin.endpoint, timeout=TIMEOUT)
    return StreamTokenEmitter(
        client, STREAM_ID, retry_strategy=bounded_retry(3.0, base_sleep_s=0.02), max_batch=10, round_pause_s=0.01
    )


@pytest.fixture
def result_emitter(credentials, standin):
    client = queue_client(credentials, standin.endpoint, timeout=TIMEOUT)
    return QueueResultEmitter(client, QUEUE_ID, retry_strategy=bounded_retry(3.0, max_attempts=4, base_sleep_s=0.02))


def result_event(request_id="req-oci-1") -> ResultEvent:
    return ResultEvent(requestId=request_id, status="SUCCEEDED", final={"reply": "오늘은 Push Day A 차례예요!"})


# -- token events → OCI Streaming --------------------------------------------------------------


async def test_tokens_arrive_keyed_by_request_in_seq_order(stream_emitter, standin, identity):
    a, b = tokens("req-a", 23), tokens("req-b", 14)
    for event in [e for pair in zip(a, b, strict=False) for e in pair] + a[len(b) :]:  # two requests interleaved
        await stream_emitter.emit_token(event)
    await stream_emitter.flush("req-a")
    await stream_emitter.flush("req-b")

    for mine in (a, b):
        request_id = mine[0].requestId
        stored = [m for m in standin.stream if m.key == request_id]
        assert [m.event() for m in stored] == [e.model_dump() for e in mine]  # every field, in seq order
        assert len({m.partition for m in stored}) == 1  # one key, one partition
    calls = standin.calls_to("stream")
    assert all(c.status == 200 and c.key_id == identity.api_key_id for c in calls)  # signed, verified
    assert max(c.entries for c in calls) == 10 and len(calls) >= 4  # batched by max_batch
    assert stream_emitter.take_lost("req-a") == stream_emitter.take_lost("req-b") == 0


async def test_a_lone_token_leaves_after_the_linger_without_a_flush(stream_emitter, standin):
    await stream_emitter.emit_token(tokens("req-linger", 1)[0])
    assert not standin.stream  # batched, not sent per event
    for _ in range(200):  # bounded wait for the linger timer
        if standin.stream:
            break
        await asyncio.sleep(0.025)
    assert [m.event()["seq"] for m in standin.stream] == [1]


async def test_a_requests_first_token_skips_the_linger(credentials, standin):
    """The production setting (app/oci_emitters.py): the first token of each request goes out at
    once, the rest still batch. The linger here is far longer than the bounded waits below, so
    only an immediate send can have delivered anything."""
    client = stream_client(credentials, standin.endpoint, timeout=TIMEOUT)
    emitter = StreamTokenEmitter(client, STREAM_ID, linger_s=60, first_at_once=True)
    first, *rest = tokens("req-first", 4)
    await emitter.emit_token(first)
    for _ in range(200):  # bounded wait (5 s) for the background send
        if standin.stream:
            break
        await asyncio.sleep(0.025)
    for event in rest:
        await emitter.emit_token(event)
    await asyncio.sleep(0.2)
    assert [e["seq"] for e in standin.stream_events("req-first")] == [1]  # the others wait for company
    await emitter.emit_token(tokens("req-second", 1)[0])  # another request's first token: at once too
    await emitter.flush("req-second")
    assert [e["seq"] for e in standin.stream_events("req-first")] == [1, 2, 3, 4]
    assert [c.entries for c in standin.calls_to("stream")] == [1, 4]


async def test_entries_of_a_throttled_partition_are_sent_again_in_order(stream_emitter, standin):
    # The service rejects per partition, so one key's entries fail together and resend in order.
    standin.fail_entries_next(lambda index, message: message.key == "req-b")
    a, b = tokens("req-a", 4), tokens("req-b", 4)
    for event in a + b:
        await stream_emitter.emit_token(event)
    await stream_emitter.flush("req-b")
    assert [e["seq"] for e in standin.stream_events("req-a")] == [1, 2, 3, 4]
    assert [e["seq"] for e in standin.stream_events("req-b")] == [1, 2, 3, 4]
    assert [c.entries for c in standin.calls_to("stream")] == [8, 4]  # only the failed ones again
    assert stream_emitter.take_lost("req-b") == 0


async def test_scattered_entry_failures_still_deliver_each_event_once(stream_emitter, standin):
    standin.fail_entries_next(lambda index, message: index % 3 == 0)
    standin.fail_entries_next(lambda index, message: index == 0)  # the resend partly fails too
    sent = tokens("req-s", 10)
    for event in sent:
        await stream_emitter.emit_token(event)
    await stream_emitter.flush("req-s")
    stored = standin.stream_events("req-s")
    assert sorted(e["seq"] for e in stored) == list(range(1, 11))  # all, none twice; seq orders them
    assert [c.entries for c in standin.calls_to("stream")] == [10, 4, 1]


async def test_whole_call_errors_are_retried_by_the_sdk(stream_emitter, standin):
    standin.fail_next("stream", 500, 429)
    for event in tokens("req-r", 3):
        await stream_emitter.emit_token(event)
    await stream_emitter.flush("req-r")
    assert [e["seq"] for e in standin.stream_events("req-r")] == [1, 2, 3]
    assert [c.status for c in standin.calls_to("stream")] == [500, 429, 200]


@pytest.mark.reliability
async def test_stream_outage_loses_tokens_without_raising(stream_emitter, standin, caplog):
    standin.fail_always("stream", 503)
    for event in tokens("req-down", 12):
        await stream_emitter.emit_token(event)
    with caplog.at_level(logging.WARNING, logger="reppy.emit.stream"):
        await stream_emitter.flush("req-down")  # must not raise
    assert standin.stream == []
    assert stream_emitter.take_lost("req-down") == 12 and stream_emitter.take_lost("req-down") == 0
    assert stream_emitter.total_lost == 12
    assert "req-down" in caplog.text and "not delivered" in caplog.text
    # The first batch is tried max_attempts times; the second is dropped during the cool-down.
    assert len(standin.calls_to("stream")) == 5


async def test_stream_is_tried_again_after_the_cool_down(credentials, standin):
    client = stream_client(credentials, standin.endpoint, timeout=TIMEOUT)
    emitter = StreamTokenEmitter(
        client, STREAM_ID, retry_strategy=bounded_retry(1.0, max_attempts=2, base_sleep_s=0.01), cooldown_s=0.3
    )
    standin.fail_next("stream", 500, 500)
    await emitter.emit_token(tokens("req-cd", 1)[0])
    await emitter.flush("req-cd")
    await emitter.emit_token(tokens("req-cd", 1, start=2)[0])
    await emitter.flush("req-cd")  # within the cool-down: dropped without a call
    assert emitter.take_lost("req-cd") == 2 and len(standin.calls_to("stream")) == 2
    await asyncio.sleep(0.35)
    await emitter.emit_token(tokens("req-cd", 1, start=3)[0])
    await emitter.flush("req-cd")
    assert [e["seq"] for e in standin.stream_events("req-cd")] == [3]


@pytest.mark.reliability
async def test_partial_failures_that_never_clear_are_counted(stream_emitter, standin):
    for _ in range(3):
        standin.fail_entries_next(lambda index, message: message.key == "req-p")
    for event in tokens("req-p", 2) + tokens("req-q", 2):
        await stream_emitter.emit_token(event)
    await stream_emitter.flush("req-q")
    assert stream_emitter.take_lost("req-p") == 2 and stream_emitter.take_lost("req-q") == 0
    assert [e["seq"] for e in standin.stream_events("req-q")] == [1, 2]


# -- result events → OCI Queue -----------------------------------------------------------------


async def test_result_is_one_queue_message_with_the_result_json(result_emitter, standin, identity):
    event = result_event()
    await result_emitter.emit_result(event)
    [message] = standin.queue
    assert message.queue_id == QUEUE_ID
    assert ResultEvent.model_validate_json(message.content) == event
    assert "Push Day A" in message.content  # UTF-8 text, not escaped bytes
    assert standin.calls_to("queue")[0].key_id == identity.api_key_id


@pytest.mark.reliability
async def test_result_publishing_retries_throttling_and_5xx(result_emitter, standin):
    standin.fail_next("queue", 429, 500, 503)
    await result_emitter.emit_result(result_event())
    assert [c.status for c in standin.calls_to("queue")] == [429, 500, 503, 200]
    assert len(standin.queue) == 1


@pytest.mark.reliability
async def test_result_that_cannot_be_published_raises_after_bounded_retries(result_emitter, standin):
    standin.fail_always("queue", 500)
    with pytest.raises(ResultNotPublished) as raised:
        await result_emitter.emit_result(result_event("req-lost"))
    assert raised.value.code == "RESULT_NOT_PUBLISHED" and raised.value.retryable
    assert "req-lost" in raised.value.message and "500" in raised.value.message
    assert len(standin.calls_to("queue")) == 4  # max_attempts, then give up
    assert standin.queue == []


async def test_client_errors_are_not_retried(result_emitter, standin):
    standin.fail_next("queue", 400)
    with pytest.raises(ResultNotPublished):
        await result_emitter.emit_result(result_event())
    assert [c.status for c in standin.calls_to("queue")] == [400]


async def test_the_standin_refuses_a_request_signed_with_another_key(standin, tmp_path):
    stranger = OciTestIdentity.generate()  # same user/tenancy ids, different key
    credentials = oci_credentials("config", config_file=str(stranger.write_config(tmp_path)))
    emitter = QueueResultEmitter(queue_client(credentials, standin.endpoint, timeout=TIMEOUT), QUEUE_ID)
    with pytest.raises(ResultNotPublished, match="401"):
        await emitter.emit_result(result_event())
    assert standin.queue == [] and [c.status for c in standin.calls_to("queue")] == [401]


# -- authentication ----------------------------------------------------------------------------


async def test_resource_principal_signer_from_the_function_environment(identity, standin, tmp_path, monkeypatch):
    for name, value in identity.resource_principal_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    credentials = oci_credentials("resource_principal")
    assert credentials.config == {"region": "us-ashburn-1"}  # the region comes from the signer
    emitter = QueueResultEmitter(queue_client(credentials, standin.endpoint, timeout=TIMEOUT), QUEUE_ID)
    await emitter.emit_result(result_event())
    [call] = standin.calls_to("queue")
    assert call.status == 200 and call.key_id.startswith("ST$")  # a session-token signature, verified
    assert len(standin.queue) == 1


def test_resource_principal_outside_a_function_is_a_clear_config_error(monkeypatch):
    monkeypatch.delenv("OCI_RESOURCE_PRINCIPAL_VERSION", raising=False)
    with pytest.raises(ConfigError, match="OCI_AUTH=resource_principal works only inside an OCI Function"):
        oci_credentials("resource_principal")


def test_missing_config_file_is_a_clear_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"OCI_AUTH=config.*ConfigFileNotFound"):
        oci_credentials("config", config_file=str(tmp_path / "nope"))


def test_queue_without_endpoint_or_region_is_a_config_error(identity, tmp_path, monkeypatch):
    monkeypatch.delenv("OCI_REGION", raising=False)
    for name, value in identity.resource_principal_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OCI_RESOURCE_PRINCIPAL_REGION")
    with pytest.raises(ConfigError, match="OCI_QUEUE_ENDPOINT"):
        queue_client(oci_credentials("resource_principal"), None, timeout=TIMEOUT)


# -- composed: settings → dependencies → runner ------------------------------------------------


def oci_settings(settings, config_file, endpoint, **extra):
    return settings.model_copy(update={**oci_environment(config_file, endpoint), "OCI_PUBLISH_RETRY_S": 1.0, **extra})


async def test_runner_publishes_through_the_oci_emitters_built_from_settings(
    settings, llm, vm, memory, standin, oci_config_file
):
    deps = build_dependencies(oci_settings(settings, oci_config_file, standin.endpoint), llm=llm, vm=vm, memory=memory)
    assert type(deps.tokens).__name__ == "StreamTokenEmitter" and type(deps.results).__name__ == "QueueResultEmitter"
    outcome = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-oci-run"), deps)
    [result] = standin.queue_events()
    streamed = standin.stream_events("req-oci-run")
    assert outcome.status == result["status"] == "SUCCEEDED"
    assert [e["seq"] for e in streamed] == list(range(1, len(streamed) + 1)) and len(streamed) >= 2
    assert "".join(e["delta"] for e in streamed) == result["final"]["reply"]
    assert "tokens_lost" not in result["meta"]


@pytest.mark.reliability
async def test_stream_outage_never_costs_the_result(settings, llm, vm, memory, standin, oci_config_file):
    deps = build_dependencies(oci_settings(settings, oci_config_file, standin.endpoint), llm=llm, vm=vm, memory=memory)
    standin.fail_always("stream", 500)
    outcome = await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-oci-down"), deps)
    [result] = standin.queue_events()
    assert outcome.status == result["status"] == "SUCCEEDED" and result["final"]["reply"]
    assert result["meta"]["tokens_lost"] == result["meta"]["tokens_streamed"] == outcome.tokens >= 2


@pytest.mark.reliability
async def test_result_queue_outage_makes_handle_raise(settings, llm, vm, memory, standin, oci_config_file):
    deps = build_dependencies(oci_settings(settings, oci_config_file, standin.endpoint), llm=llm, vm=vm, memory=memory)
    standin.fail_always("queue", 503)
    with pytest.raises(ResultNotPublished):
        await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-oci-noq"), deps)


def test_only_the_configured_emitter_is_oci(settings, llm, vm, memory, standin, oci_config_file):
    tokens_only = oci_settings(settings, oci_config_file, standin.endpoint, OCI_RESULT_QUEUE_ID=None)
    deps = build_dependencies(tokens_only, llm=llm, vm=vm, memory=memory)
    assert type(deps.tokens).__name__ == "StreamTokenEmitter"
    assert type(deps.results).__name__ == "JsonLinesEmitter"


def test_stream_id_without_endpoint_is_a_config_error(settings, llm, vm, memory, oci_config_file):
    broken = settings.model_copy(
        update={"OCI_AUTH": "config", "OCI_CONFIG_FILE": str(oci_config_file), "OCI_STREAM_ID": STREAM_ID}
    )
    with pytest.raises(ConfigError, match="OCI_STREAM_ENDPOINT"):
        build_dependencies(broken, llm=llm, vm=vm, memory=memory)


def test_cli_publishes_through_oci_when_the_ids_are_set(standin, oci_config_file):
    from tests.test_cli import events, run_cli

    done = run_cli(
        "--example",
        env={
            "OCI_AUTH": "config",
            "OCI_CONFIG_FILE": str(oci_config_file),
            "OCI_STREAM_ID": STREAM_ID,
            "OCI_RESULT_QUEUE_ID": QUEUE_ID,
            "OCI_STREAM_ENDPOINT": standin.endpoint,
            "OCI_QUEUE_ENDPOINT": standin.endpoint,
        },
    )
    assert done.returncode == 0, done.stderr.decode()
    assert events(done.stdout) == []  # nothing printed: the events went to OCI
    [result] = standin.queue_events()
    streamed = standin.stream_events("req-12345")
    assert result["requestId"] == "req-12345" and result["status"] == "SUCCEEDED"
    assert "".join(e["delta"] for e in streamed) == result["final"]["reply"]
