"""User memory in Qdrant through langchain-qdrant's QdrantVectorStore.

QDRANT_URL set → a Qdrant server (QDRANT_API_KEY if it needs one); unset → local mode, a folder on
disk (QDRANT_PATH, default under the user cache dir) or ":memory:". Local mode holds a file lock: it
serves one process (the CLI, dev, tests); several worker instances need a server.

Isolation: every point is stamped with the request's userId, every search is filtered on it, and
each hit is checked once more on the way out — one user's memories never reach another's request.
Point ids come from (userId, key) — the key from the requestId — so a redelivered request
overwrites its own memories instead of adding copies.

qdrant-client and the embedding model are blocking; every call runs on this store's own threads so
the event loop keeps streaming other requests' tokens meanwhile. Not on the loop's default executor
(asyncio.to_thread): LangChain hops through that one on every structured model call (output
parsing), and a burst of concurrent searches queued there — each waiting for the one embedding
model — would hold up every model call in the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from adapters.memory.collection import USER_KEY, ensure_collection
from core.errors import MemoryUnavailable, WorkerError

LOCAL_LOCK_HINT = (
    "local mode serves one process at a time; set QDRANT_URL to a Qdrant server to run several worker processes"
)
# Local mode runs one call at a time anyway; a server takes several (the embedding stays one at a time).
LOCAL_THREADS = 1
SERVER_THREADS = 4


class QdrantMemory:
    def __init__(
        self,
        *,
        collection: str,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = ":memory:",
        min_score: float = 0.0,
        embeddings=None,
        timeout_s: int = 5,
        clock: Callable[[], float] = time.time,
    ):
        self._collection = collection
        self._url, self._api_key, self._path = url, api_key, path
        self._min_score = min_score
        self._embeddings = embeddings
        self._timeout_s = timeout_s
        self._clock = clock
        self._store = None
        self._unusable: WorkerError | None = None  # a failure that retrying cannot fix
        self._open_lock = threading.Lock()
        # The local engine is plain Python over SQLite: one call at a time. A server needs no lock.
        self._call_lock = threading.Lock() if url is None else contextlib.nullcontext()
        self._threads = LOCAL_THREADS if url is None else SERVER_THREADS
        self._executor: ThreadPoolExecutor | None = None  # started on first use

    async def search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        """This user's memories closest to `query`: at most k, each scoring at least min_score,
        best first, newest first among equal scores; {text, score, created_at (ISO 8601, UTC)}."""
        return await self._in_thread(self._search, _checked(user_id), query, k)

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        """Store (key, text) pairs for this user; the same key overwrites, never duplicates."""
        if items:
            await self._in_thread(self._add, _checked(user_id), items)

    async def aclose(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            await self._in_thread(store.client.close)
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=False)  # idle by now; a later call starts a new one

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="reppy-memory")
        # In the caller's context (as asyncio.to_thread does): log lines keep the request's id.
        call = functools.partial(contextvars.copy_context().run, function, *args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def warm_up(self) -> None:
        """Open the store (and load the embedding model) ahead of the first request."""
        self._vector_store()

    def _search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        from qdrant_client import models

        store = self._vector_store()
        only_this_user = models.Filter(
            must=[models.FieldCondition(key=USER_KEY, match=models.MatchValue(value=user_id))]
        )
        try:
            with self._call_lock:
                hits = store.similarity_search_with_score(
                    query, k=k, filter=only_this_user, score_threshold=self._min_score
                )
        except Exception as exc:  # the client's errors vary by transport
            raise MemoryUnavailable(f"user memory search failed ({_describe(exc)})") from None
        found = [
            (round(float(score), 4), doc.metadata.get("created_at") or 0, doc.page_content)
            for doc, score in hits
            if doc.metadata.get("user_id") == user_id  # the filter did this; never trust one line
        ]
        found.sort(key=lambda hit: (-hit[0], -hit[1]))
        return [{"text": text, "score": score, "created_at": _iso(created_ms)} for score, created_ms, text in found]

    def _add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        store = self._vector_store()
        now_ms = int(self._clock() * 1000)
        try:
            with self._call_lock:
                store.add_texts(
                    [text for _, text in items],
                    metadatas=[{"user_id": user_id, "created_at": now_ms, "key": key} for key, _ in items],
                    ids=[point_id(user_id, key) for key, _ in items],
                )
        except Exception as exc:
            raise MemoryUnavailable(f"user memory write failed ({_describe(exc)})") from None

    def _vector_store(self):
        if self._store is None:
            with self._open_lock:
                if self._unusable is not None:
                    raise MemoryUnavailable(self._unusable.message, retryable=False)
                if self._store is None:
                    self._store = self._open()
        return self._store

    def _open(self):
        from langchain_qdrant import QdrantVectorStore

        from adapters.memory.embeddings import shared_embeddings

        client = self._client()  # first: a locked local folder fails before the model loads
        embeddings = self._embeddings or shared_embeddings()
        try:
            ensure_collection(
                client,
                self._collection,
                model=_model_name(embeddings),
                dimension=_dimension(embeddings),
                server=self._url is not None,
            )
        except MemoryUnavailable as exc:
            client.close()
            self._unusable = exc  # a collection built for another model stays that way
            raise
        except Exception as exc:
            client.close()
            raise MemoryUnavailable(f"Qdrant collection setup failed ({_describe(exc)})") from None
        # The collection was checked above (dimension, distance and model): no second check.
        return QdrantVectorStore(
            client=client, collection_name=self._collection, embedding=embeddings, validate_collection_config=False
        )

    def _client(self):
        from qdrant_client import QdrantClient

        if self._url:
            # No version check: it is a fire-and-forget thread per client that can only warn; what
            # must match (vector size, distance, embedding model) is checked in ensure_collection.
            return QdrantClient(
                url=self._url, api_key=self._api_key, timeout=self._timeout_s, check_compatibility=False
            )
        if self._path in (None, ":memory:"):
            return QdrantClient(location=":memory:")
        try:
            return QdrantClient(path=self._path)
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise MemoryUnavailable(
                    f"Qdrant local storage {self._path} is in use by another process: {LOCAL_LOCK_HINT}",
                    retryable=False,
                ) from None
            raise


def point_id(user_id: str, key: str) -> str:
    """A stable Qdrant point id (a UUID) for one memory of one user."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"reppy-memory/{user_id}/{key}"))


def _checked(user_id: str) -> str:
    # An empty id would match nobody on search but stamp an anonymous point on write.
    if not isinstance(user_id, str) or not user_id.strip():
        raise MemoryUnavailable("user memory needs a userId", retryable=False)
    return user_id


def _model_name(embeddings) -> str:
    return getattr(embeddings, "model_name", None) or type(embeddings).__name__


def _dimension(embeddings) -> int:
    return getattr(embeddings, "dimension", None) or len(embeddings.embed_query("dimension probe"))


def _describe(exc: Exception) -> str:
    """The failure's kind (and HTTP status), never its text: that may echo payloads or headers."""
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}, HTTP {status}" if status else type(exc).__name__


def _iso(epoch_ms: int) -> str | None:
    if not epoch_ms:
        return None
    if epoch_ms < 10**11:  # seconds, as points written by earlier builds carry
        epoch_ms *= 1000
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
