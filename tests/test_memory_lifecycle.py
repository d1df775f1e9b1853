"""The lifecycle of a fact beyond one request: an operator exports or forgets everything of one user
(`reppy-worker memory export|forget`, local mode and a Qdrant server), and a user's memory stays
bounded however much they say."""

from __future__ import annotations

import json
import time
import zlib

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from adapters.memory.base import MemoryChanges
from adapters.memory.qdrant import QdrantMemory
from standins.qdrant import running_qdrant
from tests.conftest import DEMO_USER, OTHER_USER
from tests.test_cli import run_cli

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection"),
]
API_KEY = "lifecycle-qdrant-key"
COLLECTION = "user_memory"
THIRD_USER = "user-24680"
MEMORIES = {
    DEMO_USER: ["지난주에 왼쪽 무릎을 다쳤어요", "I train at home with dumbbells", "My goal is hypertrophy"],
    OTHER_USER: ["지난주에 오른쪽 무릎을 다쳤어요", "I train at home with dumbbells", "I hate running"],
    THIRD_USER: ["허리 디스크가 있어요"],
}
QUERIES = [
    "무릎 부상",
    "knee injury",
    "home training",
    "goal",
    "지난주에 왼쪽 무릎을 다쳤어요",
    "오늘 운동 뭐 해야 돼?",
]


@pytest.fixture(params=["local", "server"])
def store(request, tmp_path, embeddings):
    """(make, env): make() opens the store in this process; env points a `reppy-worker` process at
    the same one. Local mode serves one process at a time: close before running the CLI."""
    if request.param == "local":
        env = {"QDRANT_PATH": str(tmp_path / "qdrant")}
        yield (
            (
                lambda: QdrantMemory(
                    collection=COLLECTION, path=env["QDRANT_PATH"], embeddings=embeddings, min_score=0.0
                )
            ),
            env,
        )
    else:
        with running_qdrant(api_key=API_KEY) as server:
            env = {"QDRANT_URL": server.url, "QDRANT_API_KEY": API_KEY}
            yield (
                (
                    lambda: QdrantMemory(
                        collection=COLLECTION, url=server.url, api_key=API_KEY, embeddings=embeddings, min_score=0.0
                    )
                ),
                env,
            )


async def seeded(make) -> None:
    memory = make()
    for user, texts in MEMORIES.items():
        await memory.add(user, [(f"seed:{n}", text) for n, text in enumerate(texts)])
    knee = (await memory.search(DEMO_USER, "무릎", 1))[0]["id"]
    await memory.apply(DEMO_USER, MemoryChanges(retire=[knee]))  # a retired fact is the user's data too
    await memory.aclose()


async def test_export_then_forget_one_user_leaves_the_others_whole(store):
    make, env = store
    await seeded(make)
    memory = make()
    others_before = {user: await memory.export(user) for user in (OTHER_USER, THIRD_USER)}
    await memory.aclose()

    exported = run_cli("memory", "export", "--user", DEMO_USER, env=env)
    assert exported.returncode == 0, exported.stderr.decode()
    report = json.loads(exported.stdout)
    assert report["userId"] == DEMO_USER and report["count"] == 3
    assert sorted(m["text"] for m in report["memories"]) == sorted(MEMORIES[DEMO_USER])
    [retired] = [m for m in report["memories"] if m["retired_at"]]
    assert retired["text"] == "지난주에 왼쪽 무릎을 다쳤어요" and retired["retired_why"]
    assert all(m["created_at"].endswith("Z") for m in report["memories"])

    forgotten = run_cli("memory", "forget", "--user", DEMO_USER, env=env)
    assert forgotten.returncode == 0, forgotten.stderr.decode()
    assert json.loads(forgotten.stdout) == {"userId": DEMO_USER, "forgotten": 3}

    memory = make()
    try:
        for query in QUERIES:  # nothing of theirs is searchable, whatever is asked, at any score
            assert await memory.search(DEMO_USER, query, 50) == []
        assert await memory.nearest(DEMO_USER, QUERIES, 50) == []
        assert await memory.export(DEMO_USER) == []
        for user, before in others_before.items():  # and nobody else lost a thing
            assert await memory.export(user) == before
        assert len(await memory.search(OTHER_USER, "knee injury", 50)) == 3
        assert await memory.forget(DEMO_USER) == 0  # forgetting twice is fine
    finally:
        await memory.aclose()


def test_memory_command_errors_are_clear(tmp_path):
    with running_qdrant(api_key=API_KEY) as server:
        url = server.url
    gone = run_cli("memory", "export", "--user", DEMO_USER, env={"QDRANT_URL": url})
    assert gone.returncode == 1
    assert "MEMORY_UNAVAILABLE" in gone.stderr.decode() and "Traceback" not in gone.stderr.decode()
    no_user = run_cli("memory", "forget", env={"QDRANT_PATH": str(tmp_path)})
    assert no_user.returncode == 2 and "--user" in no_user.stderr.decode()


class Words(Embeddings):
    """A fast bag-of-words embedding (hashed words): enough to tell topics apart, so a thousand
    memories are written in a second rather than the shipped model's half a minute."""

    model_name, dimension = "bag-of-words (test)", 256

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text):
        vector = np.zeros(self.dimension)
        for word in text.lower().split():
            vector[zlib.crc32(word.encode()) % self.dimension] += 1.0
        vector[0] += 0.01  # never all zeros
        return (vector / np.linalg.norm(vector)).tolist()


TOPICS = ["knee pain when squatting", "goal to bench 100 kg", "train at home mornings", "hate running on treadmills"]


@pytest.mark.parametrize("backend", ["local", "server"])
async def test_a_thousand_requests_keep_memory_bounded_fast_and_on_topic(backend):
    """1,000 requests of one user, each saying one new fact and recalling the very first one,
    written through the adapter in batches of fifty (as `remember` writes, without the graph)."""
    cap, batch = 100, 50
    clock = Clock()
    with running_qdrant() as server:
        where = {"path": ":memory:"} if backend == "local" else {"url": server.url}
        memory = QdrantMemory(
            collection=COLLECTION, embeddings=Words(), min_score=0.0, clock=clock, max_per_user=cap, **where
        )
        try:
            await memory.add(DEMO_USER, [("first:0", "my left knee hurts since the marathon")])
            started = time.perf_counter()
            first = (await memory.search(DEMO_USER, "left knee", 1))[0]["id"]
            fresh = time.perf_counter() - started
            await memory.add(OTHER_USER, [("other:0", "my left knee hurts since the marathon")])
            started = time.perf_counter()
            for n in range(0, 1000, batch):
                clock.now += 3600
                facts = [(f"req-{i}:0", f"{TOPICS[i % len(TOPICS)]} note {i}") for i in range(n, n + batch)]
                await memory.apply(DEMO_USER, MemoryChanges(add=facts, recalled=[first]))
            writing = time.perf_counter() - started

            everything = await memory.export(DEMO_USER)
            active = [m for m in everything if not m["retired_at"]]
            assert cap - cap // 10 <= len(active) <= cap and len(everything) <= 2 * cap  # bounded
            assert first in {m["id"] for m in active}  # the oldest, yet recalled on every request
            newest = {f"{TOPICS[i % len(TOPICS)]} note {i}" for i in range(1000 - batch, 1000)}
            assert newest <= {m["text"] for m in active}
            # What was retired is what was said longest ago (and never recalled since); the facts
            # of one batch were said at the same moment, so the line falls inside a batch.
            kept = [int(m["text"].rsplit(" ", 1)[1]) for m in active if m["id"] != first]
            assert min(kept) >= 1000 - len(kept) - batch
            assert len(await memory.export(OTHER_USER)) == 1  # nobody else's memory was touched

            timings = []
            for topic in TOPICS:
                started = time.perf_counter()
                hits = await memory.search(DEMO_USER, topic, 5)
                timings.append(time.perf_counter() - started)
                assert len(hits) == 5 and all(h["text"].startswith(topic) for h in hits)  # on topic
            print(
                f"\n[{backend}] 1,000 facts in {writing:.2f} s; recall over {len(active)} active facts: "
                f"median {sorted(timings)[len(timings) // 2] * 1000:.1f} ms (over 1 fact: {fresh * 1000:.1f} ms)"
            )
        finally:
            await memory.aclose()


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now
