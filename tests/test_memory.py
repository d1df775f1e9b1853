"""User memory in Qdrant, through the real qdrant-client: local mode, and QDRANT_URL against the
REST stand-in on 127.0.0.1 (standins/qdrant.py) — isolation between users, idempotent writes,
ranking, the collection's model record, the local-mode lock."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
from langchain_core.embeddings import Embeddings

from adapters.memory.collection import USER_KEY
from adapters.memory.embeddings import DIMENSION, MODEL_NAME
from adapters.memory.qdrant import QdrantMemory
from core.errors import MemoryUnavailable
from standins.qdrant import running_qdrant
from tests.conftest import REPO

API_KEY = "qdrant-test-key-123"
COLLECTION = "user_memory"

# The client warns that an API key travels over plain http: true, and fine on 127.0.0.1.
pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")


class Clock:
    def __init__(self, now: float = 1_790_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["local", "server"])
def backend(request, embeddings, tmp_path):
    """(make, server): make(**options) -> QdrantMemory on this backend; server is the stand-in, or
    None in local mode. Tests close what they make (each test has its own event loop)."""

    def make_with(server):
        def make(**options) -> QdrantMemory:
            options = {"collection": COLLECTION, "embeddings": embeddings, **options}
            if server is None:
                return QdrantMemory(path=str(tmp_path), **options)  # one instance open at a time
            return QdrantMemory(url=server.url, api_key=API_KEY, **options)

        return make

    if request.param == "local":
        yield make_with(None), None
    else:
        with running_qdrant(api_key=API_KEY) as server:
            yield make_with(server), server


# Two users with near-identical memories, in Korean and English; one fact is word for word the same.
ALEX = "user-67890"
MINJI = "user-12345"
MEMORIES = {
    ALEX: ["지난주에 왼쪽 무릎을 다쳤어요", "I hurt my left knee last week", "I want to bench 100 kg"],
    MINJI: ["지난주에 오른쪽 무릎을 다쳤어요", "I hurt my right knee last week", "I want to bench 100 kg"],
}
QUERIES = [
    "무릎 부상",
    "knee injury",
    "지난주에 왼쪽 무릎을 다쳤어요",
    "I hurt my right knee last week",
    "bench press goal",
    "오늘 운동 뭐 해야 돼?",
]


@pytest.mark.reliability
async def test_users_never_see_each_others_memories(backend):
    make, server = backend
    memory = make(min_score=0.0)
    try:
        for user, texts in MEMORIES.items():
            await memory.add(user, [(f"req-{user}:{n}", t) for n, t in enumerate(texts)])
        for user, texts in MEMORIES.items():
            for query in QUERIES:
                found = [m["text"] for m in await memory.search(user, query, 50)]
                assert sorted(found) == sorted(texts), (user, query)  # all of theirs, none of the other's
    finally:
        await memory.aclose()
    if server is not None:  # and on the wire: every search filtered, every point stamped, key sent
        queries = server.calls_to("POST", r"/collections/user_memory/points/query")
        assert len(queries) == len(MEMORIES) * len(QUERIES)
        for call in queries:
            [condition] = call.body["filter"]["must"]
            assert condition["key"] == USER_KEY and condition["match"]["value"] in MEMORIES
        for call in server.calls_to("PUT", r"/collections/user_memory/points"):
            owners = {p["payload"]["metadata"]["user_id"] for p in call.body["points"]}
            assert len(owners) == 1 and owners <= set(MEMORIES)
        assert all(call.api_key == API_KEY for call in server.calls if call.path != "/")


async def test_search_keeps_the_top_k_above_the_threshold_newest_first_on_ties(backend):
    make, _ = backend
    clock = Clock()
    open_ = make(min_score=0.0, clock=clock)
    try:
        await open_.add(ALEX, [("r1:0", "I hurt my left knee last week"), ("r1:1", "I love cycling")])
        clock.now += 3600
        await open_.add(ALEX, [("r2:0", "I hurt my left knee last week"), ("r2:1", "I train at home")])
        ranked = await open_.search(ALEX, "left knee injury", 10)
        texts = [m["text"] for m in ranked]
        assert texts[:2] == ["I hurt my left knee last week"] * 2
        assert ranked[0]["score"] == ranked[1]["score"]
        assert ranked[0]["created_at"] > ranked[1]["created_at"]  # the newer one first
        assert ranked[0]["created_at"].endswith("Z") and ranked[0]["created_at"][:4].isdigit()
        assert [m["score"] for m in ranked] == sorted((m["score"] for m in ranked), reverse=True)
        assert len(await open_.search(ALEX, "left knee injury", 3)) == 3
    finally:
        await open_.aclose()

    strict = make(min_score=ranked[1]["score"] - 0.0001)
    try:
        above = await strict.search(ALEX, "left knee injury", 10)
        assert [m["text"] for m in above] == ["I hurt my left knee last week"] * 2
    finally:
        await strict.aclose()


async def test_writes_with_the_same_key_overwrite(backend):
    make, server = backend
    memory = make(min_score=0.0)
    try:
        items = [("req-redelivered:0", "왼쪽 무릎을 다쳤어요"), ("req-redelivered:1", "주 3회 운동해요")]
        for _ in range(3):
            await memory.add(ALEX, items)
        await memory.add(MINJI, items)  # the same request id under another user is another memory
        assert len(await memory.search(ALEX, "무릎", 50)) == 2
        assert len(await memory.search(MINJI, "무릎", 50)) == 2
    finally:
        await memory.aclose()
    if server is not None:
        assert server.engine.count(COLLECTION, exact=True).count == 4


async def test_collection_is_made_once_with_its_model_and_a_tenant_index():
    with running_qdrant(api_key=API_KEY) as server:
        for _ in range(2):  # a second worker instance finds it ready
            memory = QdrantMemory(collection=COLLECTION, url=server.url, api_key=API_KEY)
            await memory.search(ALEX, "무릎", 5)
            await memory.aclose()
        [create] = server.calls_to("PUT", r"/collections/user_memory")
        assert create.body["vectors"] == {"size": DIMENSION, "distance": "Cosine"}
        assert create.body["metadata"] == {"embedding_model": MODEL_NAME, "embedding_dimension": DIMENSION}
        [index] = server.calls_to("PUT", r"/collections/user_memory/index")
        assert index.body["field_name"] == USER_KEY
        assert index.body["field_schema"]["type"] == "keyword" and index.body["field_schema"]["is_tenant"]


class OtherModel(Embeddings):
    """Some other embedding model, deterministic and tiny."""

    def __init__(self, name: str = "some-other-model", dimension: int = DIMENSION):
        self.model_name, self.dimension = name, dimension

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text):
        digest = hashlib.sha256(text.encode()).digest()
        return [digest[i % len(digest)] / 255 + 0.01 for i in range(self.dimension)]


@pytest.mark.parametrize(
    "other, why",
    [
        (OtherModel(), "was built with embeddings 'multilingual-e5-small"),
        (OtherModel("tiny", 8), f"holds {DIMENSION}-d vectors; this worker's embeddings are 8-d"),
    ],
)
async def test_a_collection_of_another_model_fails_clearly(tmp_path, embeddings, other, why):
    first = QdrantMemory(collection=COLLECTION, path=str(tmp_path), embeddings=embeddings)
    await first.add(ALEX, [("r:0", "I hurt my left knee last week")])
    await first.aclose()
    second = QdrantMemory(collection=COLLECTION, path=str(tmp_path), embeddings=other)
    try:
        for _ in range(2):  # and stays failed, without garbage results in between
            with pytest.raises(MemoryUnavailable, match=why) as info:
                await second.search(ALEX, "knee", 5)
            assert "QDRANT_COLLECTION_MEMORY" in info.value.message and not info.value.retryable
    finally:
        await second.aclose()


async def test_model_mismatch_over_http_is_checked_once(embeddings):
    with running_qdrant() as server:
        made = QdrantMemory(collection=COLLECTION, url=server.url, embeddings=embeddings)
        await made.add(ALEX, [("r:0", "I hurt my left knee last week")])
        await made.aclose()
        other = QdrantMemory(collection=COLLECTION, url=server.url, embeddings=OtherModel())
        with pytest.raises(MemoryUnavailable, match="some-other-model"):
            await other.search(ALEX, "knee", 5)
        calls = len(server.calls)
        with pytest.raises(MemoryUnavailable, match="some-other-model"):
            await other.add(ALEX, [("r:1", "x")])
        assert len(server.calls) == calls  # known broken: no more traffic, no writes
        await other.aclose()


async def test_a_collection_without_a_model_record_is_adopted(embeddings):
    from qdrant_client import QdrantClient, models

    with running_qdrant() as server:
        raw = QdrantClient(url=server.url, check_compatibility=False)
        raw.create_collection(
            COLLECTION, vectors_config=models.VectorParams(size=DIMENSION, distance=models.Distance.COSINE)
        )
        memory = QdrantMemory(collection=COLLECTION, url=server.url, embeddings=embeddings)
        await memory.add(ALEX, [("r:0", "I train at home")])
        await memory.aclose()
        assert raw.get_collection(COLLECTION).config.metadata == {
            "embedding_model": MODEL_NAME,
            "embedding_dimension": DIMENSION,
        }
        raw.close()


async def test_wrong_api_key_is_typed_and_never_echoed(embeddings, caplog):
    with running_qdrant(api_key=API_KEY) as server:
        memory = QdrantMemory(collection=COLLECTION, url=server.url, api_key="wrong-key-456", embeddings=embeddings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(MemoryUnavailable, match="HTTP 401") as info:
                await memory.search(ALEX, "knee", 5)
        await memory.aclose()
    assert "wrong-key-456" not in info.value.message and "wrong-key-456" not in caplog.text


async def test_local_memories_survive_a_restart(tmp_path, embeddings):
    memory = QdrantMemory(collection=COLLECTION, path=str(tmp_path), embeddings=embeddings, min_score=0.0)
    await memory.add(ALEX, [("r:0", "I hurt my left knee last week")])
    await memory.aclose()
    reopened = QdrantMemory(collection=COLLECTION, path=str(tmp_path), embeddings=embeddings, min_score=0.0)
    try:
        assert [m["text"] for m in await reopened.search(ALEX, "knee", 5)] == ["I hurt my left knee last week"]
    finally:
        await reopened.aclose()


async def test_local_mode_takes_concurrent_requests(tmp_path, embeddings):
    memory = QdrantMemory(collection=COLLECTION, path=str(tmp_path), embeddings=embeddings, min_score=0.0)
    try:
        writes = [memory.add(ALEX, [(f"req-{n}:0", f"fact number {n}")]) for n in range(8)]
        reads = [memory.search(ALEX, "fact", 50) for _ in range(8)]
        await asyncio.gather(*writes, *reads)
        assert len(await memory.search(ALEX, "fact", 50)) == 8
    finally:
        await memory.aclose()


def test_a_second_process_on_local_storage_is_told_to_use_qdrant_url(tmp_path, embeddings):
    holder = QdrantMemory(collection=COLLECTION, path=str(tmp_path), embeddings=embeddings)
    holder.warm_up()  # this process now holds the folder's lock
    script = textwrap.dedent(f"""
        import asyncio
        from adapters.memory.qdrant import QdrantMemory
        from core.errors import MemoryUnavailable
        memory = QdrantMemory(collection="{COLLECTION}", path={str(tmp_path)!r})
        try:
            asyncio.run(memory.search("user-1", "knee", 3))
        except MemoryUnavailable as exc:
            print(exc.code, exc.message)
    """)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env={k: v for k, v in os.environ.items() if not k.startswith("QDRANT")},
        )
    finally:
        asyncio.run(holder.aclose())
    assert done.stdout.startswith("MEMORY_UNAVAILABLE"), done.stderr
    assert "in use by another process" in done.stdout and "QDRANT_URL" in done.stdout
    assert "Traceback" not in done.stderr


def test_default_local_storage_is_under_the_user_cache_dir(monkeypatch, tmp_path):
    from platformdirs import user_cache_dir

    from core.settings import Settings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = Settings(_env_file=None)
    assert settings.QDRANT_URL is None and settings.QDRANT_PATH is None
    assert settings.qdrant_path().startswith(user_cache_dir("reppy-worker"))
    assert settings.qdrant_path().startswith(str(tmp_path))


async def test_qdrant_url_from_settings_reaches_the_server(embeddings, monkeypatch):
    from app.dependencies import build_dependencies
    from core.settings import Settings

    with running_qdrant(api_key=API_KEY) as server:
        settings = Settings(
            _env_file=None,
            QDRANT_URL=server.url,
            QDRANT_API_KEY=API_KEY,
            QDRANT_COLLECTION_MEMORY="memories_from_settings",
            PROMPTS_DIR=REPO / "prompts",
        )
        deps = build_dependencies(settings, llm=object(), vm=object(), tokens=object(), results=object())
        await deps.memory.add(ALEX, [("r:0", "I train at home")])
        assert [m["text"] for m in await deps.memory.search(ALEX, "home training", 5)] == ["I train at home"]
        await deps.memory.aclose()
        assert server.calls_to("PUT", r"/collections/memories_from_settings/points")
