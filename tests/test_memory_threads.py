"""How user memory shares the process: its blocking work stays off the event loop's default executor
(LangChain parses every structured model answer through that one), the embedding model runs one
OpenMP thread, and repeated recall phrases are embedded once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

from adapters.memory.embeddings import QUERY_CACHE_SIZE, E5Embeddings
from adapters.memory.qdrant import QdrantMemory
from tests.conftest import DEMO_USER, REPO

DEFAULT_EXECUTOR_THREADS = min(32, (os.cpu_count() or 1) + 4)  # what asyncio.to_thread gets


class StuckEmbeddings:
    """An embedding model that hangs until released: a store busy with slow searches."""

    model_name = "stuck"
    dimension = 4

    def __init__(self) -> None:
        self.release = threading.Event()
        self.waiting = 0

    def embed_query(self, text: str) -> list[float]:
        self.waiting += 1
        self.release.wait(timeout=30)
        return [1.0, 0.0, 0.0, 0.0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


async def test_slow_memory_never_holds_up_the_default_executor():
    embeddings = StuckEmbeddings()
    memory = QdrantMemory(collection="threads", path=":memory:", embeddings=embeddings)
    searches = [asyncio.create_task(memory.search(DEMO_USER, f"q{n}", 3)) for n in range(DEFAULT_EXECUTOR_THREADS + 4)]
    try:
        for _ in range(200):  # bounded: until the store is busy
            if embeddings.waiting:
                break
            await asyncio.sleep(0.01)
        assert embeddings.waiting == 1  # local mode: one call at a time, the rest wait their turn
        # More searches are stuck than the default executor has threads, yet it still works:
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), timeout=5) == "free"
    finally:
        embeddings.release.set()
        await asyncio.wait_for(asyncio.gather(*searches), timeout=30)
        await memory.aclose()
    assert all(result == [] for result in (task.result() for task in searches))  # nothing stored


def test_a_repeated_query_is_embedded_once():
    embeddings = E5Embeddings()  # its own cache, not the session's shared model
    first = embeddings.embed_query("부상, 컨디션")
    first[0] = 42.0  # a caller changing its copy changes nothing cached
    again = embeddings.embed_query("부상, 컨디션")
    assert again != first and again == embeddings.embed_query("부상, 컨디션")
    assert list(embeddings._queries) == ["부상, 컨디션"]  # embedded once, then served from the cache
    assert len(again) == embeddings.dimension


def test_the_query_cache_is_bounded():
    embeddings = E5Embeddings()
    for n in range(QUERY_CACHE_SIZE):
        embeddings._queries[f"filler {n}"] = [0.0]  # as if embedded; only the size matters here
    embeddings.embed_query("one more")
    assert len(embeddings._queries) == QUERY_CACHE_SIZE
    assert "one more" in embeddings._queries and "filler 0" not in embeddings._queries


def test_the_embedding_model_runs_one_openmp_thread_unless_told_otherwise():
    probe = (
        "import os; from adapters.memory.embeddings import E5Embeddings; "
        "E5Embeddings().embed_query('x'); print(os.environ.get('OMP_NUM_THREADS'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    alone = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    told = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env={**env, "OMP_NUM_THREADS": "2"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (alone.stdout.strip(), told.stdout.strip()) == ("1", "2"), alone.stderr + told.stderr
