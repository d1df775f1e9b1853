"""Shared fixtures. Everything runs offline: the embedded VM API, Qdrant in memory, the offline
model provider, and events collected in memory."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from adapters.llm.offline import OfflineProvider
from adapters.memory.embeddings import shared_embeddings
from adapters.memory.qdrant import QdrantMemory
from adapters.prompts import load_prompts
from adapters.vm_api.embedded import EmbeddedVMApi
from app.dependencies import build_dependencies
from core.settings import Settings
from graph.context import Context
from tests.emitters import CollectingEmitter

# Fixtures for every test that asks for them: the OCI stand-in (identity, standin, oci_config_file)
# and the worker's JSON logs (json_log).
pytest_plugins = ["tests.oci_fixtures", "tests.log_fixtures"]

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_finish(session) -> None:
    """Run every test on asyncio's own event loop, as the Function image does (it has no uvloop).
    Importing fdk's fixtures (test_func, test_duplicates) imports its HTTP server module, which
    installs uvloop's loop policy for the whole process when uvloop is importable — and the dev
    extra brings uvloop (docs/deploy.md). Tests starting the `fdk` script get it in their own process."""
    asyncio.set_event_loop_policy(None)


@pytest.fixture(autouse=True)
def _no_frozen_objects_between_tests():
    """A Function instance freezes the collector after its warm-up (app/dependencies.py); in the
    test process that would keep every later test's leftovers from being collected."""
    yield
    if gc.get_freeze_count():
        gc.unfreeze()


DEMO_USER = "user-67890"
OTHER_USER = "user-12345"

# Tests must not pick up a developer's keys or endpoints.
for _name in (
    "GOOGLE_API_KEY",
    "LLM_PROVIDER",
    "GEMINI_BASE_URL",
    "VM_INTERNAL_BASE_URL",
    "VM_INTERNAL_TOKEN",
    "QDRANT_URL",
    "QDRANT_API_KEY",
    "QDRANT_PATH",
    "OCI_STREAM_ID",
    "OCI_RESULT_QUEUE_ID",
    "PROMPTS_DIR",
    "OCI_AUTH",
    "OCI_CONFIG_FILE",
    "OCI_CONFIG_PROFILE",
    "OCI_REGION",
    "OCI_STREAM_ENDPOINT",
    "OCI_QUEUE_ENDPOINT",
    "OCI_RESOURCE_PRINCIPAL_VERSION",
    "LOG_FORMAT",
    "LOG_USER_HASH_KEY",
    "OCI_MONITORING_COMPARTMENT_ID",
    "OCI_MONITORING_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OCI_QUEUE_ADMIN_ENDPOINT",
    "OCI_SECRETS_ENDPOINT",
    "GOOGLE_API_KEY_SECRET_OCID",
    "VM_INTERNAL_TOKEN_SECRET_OCID",
    "QDRANT_API_KEY_SECRET_OCID",
    "ALLOW_EMBEDDED_DEFAULTS",
    "DEADLINE_MIN_START_S",
):
    os.environ.pop(_name, None)


def request(
    content: str | list[dict[str, str]],
    *,
    request_id: str = "req-test-1",
    user_id: str = DEMO_USER,
    stream: bool = True,
) -> dict[str, Any]:
    history = [{"role": "user", "content": content}] if isinstance(content, str) else content
    return {
        "requestId": request_id,
        "userId": user_id,
        "conversation_history": history,
        "stream": stream,
        "metadata": {},
    }


def stable(value: Any) -> Any:
    """The same value with run-dependent numbers masked for snapshots: latencies and timestamps
    vary per run, and similarity scores are rounded (native float maths differs a little per CPU)."""
    if isinstance(value, dict):
        return {
            k: ("<varies>" if k in ("latency_ms", "created_at", "updated_at", "ts") else stable(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [stable(v) for v in value]
    if isinstance(value, float):
        return round(value, 2)
    return value


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(_env_file=None, QDRANT_PATH=":memory:", PROMPTS_DIR=REPO / "prompts")


@pytest.fixture(scope="session")
def prompts(settings):
    return load_prompts(settings.prompts_dir())


@pytest.fixture(scope="session")
def embeddings():
    return shared_embeddings()


@pytest.fixture(scope="session")
def llm(prompts, embeddings) -> OfflineProvider:
    provider = OfflineProvider(prompts, embeddings)
    provider.warm_up()
    return provider


@pytest.fixture
def vm() -> EmbeddedVMApi:
    return EmbeddedVMApi()


@pytest.fixture
def vm_stub():
    """The embedded VM API served over HTTP on 127.0.0.1 (standins/vm.py), stopped after the test."""
    from standins.vm import running_stub

    with running_stub() as server:
        yield server


@pytest.fixture
async def memory(embeddings):
    store = QdrantMemory(collection="user_memory_test", path=":memory:", min_score=0.8, embeddings=embeddings)
    yield store
    await store.aclose()


@pytest.fixture
def context(llm, vm, memory, settings) -> Context:
    return Context(
        llm=llm,
        vm=vm,
        memory=memory,
        min_confidence=settings.ROUTER_MIN_CONFIDENCE,
        catalog_max_searches=settings.CATALOG_MAX_SEARCHES,
        memory_top_k=settings.MEMORY_TOP_K,
    )


@pytest.fixture
def runtime(context) -> Runtime[Context]:
    return Runtime(context=context)


@pytest.fixture
def events() -> CollectingEmitter:
    return CollectingEmitter()


@pytest.fixture
def deps(settings, llm, vm, memory, events):
    return build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)


@pytest.fixture
def gemini():
    """The Gemini stand-in on 127.0.0.1 (standins/gemini.py), stopped after the test. The planner
    runs beside the router, and the remember step beside the answer: their calls take only replies
    made by plan() and memories() (in no fixed order with the router's and the answer's), else
    planner_by_default's."""
    from standins.gemini import GeminiStandIn
    from tests.gemini_support import KEY, planner_by_default

    with GeminiStandIn(api_key=KEY, reserved={"ChatPlan", "MemoryNotes"}, responder=planner_by_default) as server:
        yield server


@pytest.fixture
async def gemini_deps(gemini, vm, memory, events):
    """make(**settings overrides) → Dependencies with the real GeminiProvider from the settings."""
    from tests.gemini_support import gemini_settings

    made = []

    def make(**overrides: Any):
        deps = build_dependencies(
            gemini_settings(gemini.base_url, **overrides), vm=vm, memory=memory, tokens=events, results=events
        )
        made.append(deps)
        return deps

    yield make
    for deps in made:
        await deps.llm.aclose()
