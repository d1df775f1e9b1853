"""The invariant, under random combinations of faults and inputs (hypothesis): every delivered
request whose requestId can be read gets exactly one result event — after Connector Hub's
redelivery when the invocation answered 502 — with a valid status, and `error {code, message}` when
it FAILED. Token events are delivered at most once each, in `seq` order, and the ones the stream did
not take are counted in the result (`tokens_streamed` = delivered + `tokens_lost`).

One warm worker instance per example, built from the real clients — httpx to the VM stub, the
Gemini client to the Gemini stand-in, qdrant-client to the Qdrant stand-in, the oci SDK to the OCI
stand-in — each of which is told to fail, stall or answer garbage.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.emit.oci_clients import bounded_retry, oci_credentials, queue_client, stream_client
from adapters.emit.oci_queue import QueueResultEmitter
from adapters.emit.oci_stream import StreamTokenEmitter
from adapters.llm.gemini import GeminiConfig, GeminiProvider
from adapters.memory.embeddings import shared_embeddings
from adapters.memory.qdrant import QdrantMemory
from adapters.prompts import load_prompts
from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import Fault, VMStubServer
from app.dependencies import build_dependencies
from app.invocation import TakenRequests, UnpublishedResults, run_invocation
from standins.gemini import GeminiStandIn, Recorded, Reply
from standins.oci import OciStandIn
from standins.oci_identity import OciTestIdentity
from standins.qdrant import QdrantFault, running_qdrant
from tests.conftest import DEMO_USER, OTHER_USER
from tests.gemini_support import KEY, PROGRAM, ROUTINE_UPDATE, gemini_settings
from tests.oci_fixtures import QUEUE_ID, STREAM_ID
from tests.reliability.ledger import LEDGER

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection"),
]

VM_TOKEN = "invariant-vm-token"
VM_READ_TIMEOUT_S = 0.2
VM_STALL_S = 0.4
GEMINI_TIMEOUT_S = 0.3
GEMINI_STALL_S = 0.6
QDRANT_TIMEOUT_S = 0.5
QDRANT_STALL_S = 0.8
MAX_REDELIVERIES = 2

MESSAGES = {
    "chat": "오늘 운동 뭐 해야 돼?",
    "generate": "새 4주 근비대 프로그램 만들어줘",
    "update": "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘",
    "vague": "음…",
}
TAG = re.compile(r"\[kind=(\w+)\]")


# --- the model's side: normal answers per node, and the faults it can be told to play -------------

NODES = {
    "RouteDecision": "route",
    "ChatPlan": "plan",
    "Program": "generate",
    "RoutineUpdate": "update",
    "MemoryNotes": "remember",
    None: "answer",
}
ROUTES = {"chat": "CHAT_RESPONSE", "generate": "GENERATE_ROUTINE", "update": "UPDATE_ROUTINE", "vague": "CLARIFY"}
LLM_FAULTS = ["rate_limited_once", "unavailable", "blocked", "max_tokens", "malformed", "timeout", "cut"]


def normal_reply(node: str, kind: str) -> Reply:
    if node == "route":
        return Reply.json(
            {
                "intent": ROUTES[kind],
                "confidence": 0.93,
                "reason": "scripted",
                "search_terms": ["덤벨 벤치프레스"] if kind == "update" else [],
            }
        )
    if node == "plan":
        return Reply.json(
            {
                "action": "GET_ACTIVE_ROUTINES",
                "required_context": ["active_routines", "profile", "user_memory"],
                "search_terms": [],
                "memory_query": "injuries",
                "memories_to_save": ["I hurt my left knee last week"],
            }
        )
    if node == "generate":
        return Reply.json(PROGRAM)
    if node == "update":
        return Reply.json(ROUTINE_UPDATE)
    if node == "remember":
        return Reply.json({"memories_to_save": []})
    return Reply.answer("오늘은 Push Day A 차례예요. 벤치프레스부터 가볍게 시작하고 폼을 먼저 챙기세요.")


def fault_reply(fault: str, node: str, kind: str, nth: int) -> Reply | None:
    """The reply playing `fault` at this node (its nth call in the example); None: answer normally."""
    structured = node != "answer"
    if fault == "rate_limited_once":
        return Reply.rate_limited(retry_delay_s=0.01) if nth % 2 == 0 else None
    if fault == "unavailable":
        return Reply.error(503, "UNAVAILABLE")
    if fault == "blocked":
        return Reply.blocked("SAFETY")
    if fault == "max_tokens":
        return Reply.answer('{"intent": "CHAT_RE' if structured else "오늘은 Push", finish="MAX_TOKENS")
    if fault == "malformed":
        return Reply.answer("here you go: {not json") if structured else Reply.answer("오늘은", finish="OTHER")
    if fault == "timeout":
        return normal_reply(node, kind).stalled(GEMINI_STALL_S)
    if fault == "cut":
        return (
            Reply.answer("오늘은 Push Day A 차례예요", cut_after_chunks=1)
            if not structured
            else Reply.error(500, "INTERNAL")
        )
    raise AssertionError(fault)


class ModelScript:
    """The Gemini stand-in's responder for the current example."""

    def __init__(self) -> None:
        self.faults: dict[str, str] = {}
        self.calls: Counter = Counter()
        self.served = 0
        self._lock = threading.Lock()

    def reset(self, faults: dict[str, str]) -> None:
        with self._lock:
            self.faults, self.calls, self.served = dict(faults), Counter(), 0

    def __call__(self, recorded: Recorded) -> Reply:
        node = NODES.get(recorded.schema_title, "answer")
        found = TAG.search(recorded.user_text)
        kind = found.group(1) if found else "vague"
        with self._lock:
            nth = self.calls[node]
            self.calls[node] += 1
            fault = self.faults.get(node)
            reply = fault_reply(fault, node, kind, nth) if fault else None
            if reply is not None:
                self.served += 1
        return reply or normal_reply(node, kind)


# --- one warm instance on one event loop, for the whole module ------------------------------------


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    vm_stub: VMStubServer
    gemini: GeminiStandIn
    script: ModelScript
    qdrant: object
    oci: OciStandIn
    settings: object
    parts: dict = field(default_factory=dict)
    counter: itertools.count = field(default_factory=itertools.count)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    identity = OciTestIdentity.generate()
    script = ModelScript()
    vm_stub = VMStubServer("127.0.0.1", 0, VM_TOKEN)
    vm_stub.start_in_thread()
    oci = OciStandIn(identity.public_key).start()
    loop = asyncio.new_event_loop()
    with GeminiStandIn(api_key=KEY, responder=script) as gemini, running_qdrant() as qdrant:
        settings = gemini_settings(
            gemini.base_url,
            GEMINI_TIMEOUT_ROUTER_S=GEMINI_TIMEOUT_S,
            GEMINI_TIMEOUT_MAIN_S=GEMINI_TIMEOUT_S,
            GEMINI_MAX_RETRIES=1,
        )
        credentials = oci_credentials("config", config_file=str(identity.write_config(tmp_path_factory.mktemp("oci"))))
        world = World(loop, vm_stub, gemini, script, qdrant, oci, settings)
        world.parts = {
            "llm": GeminiProvider(load_prompts(settings.prompts_dir()), GeminiConfig.from_settings(settings)),
            "vm": HttpVMApi(vm_stub.base_url, VM_TOKEN, read_timeout=VM_READ_TIMEOUT_S, backoff_s=0.01),
            "memory": QdrantMemory(
                collection="user_memory",
                url=qdrant.url,
                embeddings=shared_embeddings(),
                timeout_s=QDRANT_TIMEOUT_S,
                min_score=0.0,
            ),
            "results": QueueResultEmitter(
                queue_client(credentials, oci.endpoint, timeout=(2.0, 2.0)),
                QUEUE_ID,
                retry_strategy=bounded_retry(0.3, base_sleep_s=0.02),
            ),
        }
        world.stream_client = stream_client(credentials, oci.endpoint, timeout=(2.0, 2.0))
        try:
            yield world
        finally:
            for name in ("llm", "vm", "memory"):
                loop.run_until_complete(world.parts[name].aclose())
            loop.close()
            oci.stop()
            vm_stub.stop()


# --- what hypothesis draws ------------------------------------------------------------------------

VALID = st.tuples(
    st.just("valid"), st.sampled_from(list(MESSAGES)), st.sampled_from([DEMO_USER, OTHER_USER]), st.booleans()
)
INVALID = st.tuples(st.just("invalid"), st.sampled_from(["no-history", "bad-userId", "not-json", "no-requestId"]))
DUPLICATE = st.tuples(st.just("dup"), st.integers(0, 4))
CLAIM_FAULTS = [
    Fault("status", status=503),
    Fault("status", status=401),
    Fault("stall", seconds=VM_STALL_S),
    Fault("drop"),
    Fault("bad_json"),
]
GET_FAULTS = [
    Fault("status", status=500),
    Fault("status", status=403),
    Fault("stall", seconds=VM_STALL_S),
    Fault("drop"),
    Fault("bad_json"),
]


@st.composite
def vm_faults(draw) -> dict[str, list[Fault]]:
    faults = {}
    for endpoint in draw(st.sets(st.sampled_from(["claim", "profile", "active-routines", "search"]), max_size=3)):
        choices = CLAIM_FAULTS if endpoint == "claim" else GET_FAULTS
        faults[endpoint] = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))
    return faults


SCENARIOS = st.fixed_dictionaries(
    {
        "deliveries": st.lists(st.one_of(VALID, VALID, INVALID, DUPLICATE), min_size=2, max_size=6),
        "vm": vm_faults(),
        "llm": st.dictionaries(st.sampled_from(sorted(set(NODES.values()))), st.sampled_from(LLM_FAULTS), max_size=2),
        "qdrant": st.sampled_from([None, "500", "stall"]),
        "stream": st.sampled_from([None, "outage", "entries"]),
        "queue": st.sampled_from([None, "transient", "permanent"]),
        "concurrency": st.sampled_from([1, 2]),
    }
)


def build_batch(prefix: str, deliveries: list[tuple]) -> tuple[list, set[str]]:
    """The invocation body's items, and the requestIds that can be read from them."""
    items: list = []
    readable: set[str] = set()
    for n, delivery in enumerate(deliveries):
        rid = f"{prefix}-{n}"
        if delivery[0] == "valid":
            _, kind, user, stream = delivery
            items.append(
                {
                    "requestId": rid,
                    "userId": user,
                    "stream": stream,
                    "conversation_history": [{"role": "user", "content": f"{MESSAGES[kind]} [kind={kind}]"}],
                }
            )
            readable.add(rid)
        elif delivery[0] == "invalid":
            bad = delivery[1]
            base = {"requestId": rid, "userId": DEMO_USER, "conversation_history": [{"role": "user", "content": "hi"}]}
            if bad == "no-history":
                items.append({**base, "conversation_history": []})
            elif bad == "bad-userId":
                items.append({**base, "userId": "../admin"})
            elif bad == "no-requestId":
                items.append({k: v for k, v in base.items() if k != "requestId"})
                continue
            else:
                items.append({"id": n, "content": "requestId=" + rid})  # not JSON
                continue
            readable.add(rid)
        elif items:  # a duplicate of an earlier item (the queue delivered it twice)
            items.append(items[delivery[1] % len(items)])
    return items, readable


def apply_faults(world: World, scenario: dict) -> None:
    for endpoint, faults in scenario["vm"].items():
        world.vm_stub.inject(endpoint, *faults)
    world.script.reset(scenario["llm"])
    if scenario["qdrant"] == "500":
        world.qdrant.fail_always(QdrantFault(status=500))
    elif scenario["qdrant"] == "stall":
        world.qdrant.fail_always(QdrantFault(status=None, stall_s=QDRANT_STALL_S))
    if scenario["stream"] == "outage":
        world.oci.fail_always("stream", 500)
    elif scenario["stream"] == "entries":
        for _ in range(2):  # the service rejects per partition (throttling): one partition's entries fail
            world.oci.fail_entries_next(lambda index, message: message.partition == "0")
    if scenario["queue"] == "transient":
        world.oci.fail_next("queue", 503)
    elif scenario["queue"] == "permanent":
        world.oci.fail_always("queue", 503)


def clear_faults(world: World) -> None:
    world.vm_stub.clear_faults()
    world.script.reset({})
    world.qdrant.clear_faults()
    world.oci.clear_faults()


@hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(scenario=SCENARIOS)
def test_every_readable_request_gets_exactly_one_valid_result(world, scenario):
    prefix = f"inv{next(world.counter)}"
    items, readable = build_batch(prefix, scenario["deliveries"])
    if not items:
        return
    body = json.dumps(items, ensure_ascii=False).encode()
    tokens = StreamTokenEmitter(
        world.stream_client,
        STREAM_ID,
        retry_strategy=bounded_retry(0.3, base_sleep_s=0.02),
        max_batch=8,
        round_pause_s=0.01,
        cooldown_s=0.2,
    )
    deps = build_dependencies(world.settings, tokens=tokens, **world.parts)
    kept, taken = UnpublishedResults(), TakenRequests()  # a fresh warm instance
    served_before = (
        world.vm_stub.faults_served,
        world.qdrant.faults_served,
        world.oci.entry_failures_served,
        len([c for c in world.oci.calls if c.status != 200]),
    )

    apply_faults(world, scenario)
    try:
        report = world.loop.run_until_complete(
            run_invocation(body, deps, concurrency=scenario["concurrency"], unpublished=kept, taken=taken)
        )
        for _ in range(MAX_REDELIVERIES):  # Connector Hub delivers a batch again after a 502
            if report.status_code == 200:
                break
            world.oci.fail_always("queue", None)  # the outage ends
            report = world.loop.run_until_complete(
                run_invocation(body, deps, concurrency=scenario["concurrency"], unpublished=kept, taken=taken)
            )
            LEDGER.duplicate(len(items))
    finally:
        served = (
            world.vm_stub.faults_served,
            world.qdrant.faults_served,
            world.oci.entry_failures_served,
            len([c for c in world.oci.calls if c.status != 200]),
        )
        LEDGER.fault(
            sum(after - before for before, after in zip(served_before, served, strict=False)) + world.script.served
        )
        clear_faults(world)
    LEDGER.duplicate(sum(1 for d in scenario["deliveries"] if d[0] == "dup"))

    assert report.status_code == 200, report.body()
    results = [e for e in world.oci.queue_events() if e["requestId"].startswith(prefix + "-")]
    LEDGER.one_result_each(readable, results)
    for result in results:
        assert result["status"] in ("SUCCEEDED", "FAILED", "CLARIFY"), result
        if result["status"] == "FAILED":
            assert result["final"] is None
            assert result["error"]["code"] and result["error"]["message"], result
            assert "Traceback" not in result["error"]["message"]
        else:
            assert result["error"] is None and result["final"], result
        delivered = [e["seq"] for e in world.oci.stream_events(result["requestId"])]
        assert delivered == sorted(set(delivered)), "each token event at most once, in seq order"
        meta = result["meta"]
        assert len(delivered) + meta.get("tokens_lost", 0) == meta.get("tokens_streamed", 0), meta
