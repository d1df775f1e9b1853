"""User memory in Qdrant through langchain-qdrant's QdrantVectorStore.

QDRANT_URL set → a Qdrant server (QDRANT_API_KEY if it needs one); unset → local mode, a folder on
disk (QDRANT_PATH, default under the user cache dir) or ":memory:". Local mode holds a file lock: it
serves one process (the CLI, dev, tests); several worker instances need a server.

Isolation: every point is stamped with the request's userId, every search is filtered on it, and
each hit is checked once more on the way out — one user's memories never reach another's request.
Point ids come from (userId, key) — the key from the requestId — so a redelivered request
overwrites its own memories instead of adding copies.

A fact's lifecycle (docs/memory.md): added; updated in place (same id, new text, `updated_at`);
retired (`retired_at`, kept for audit, never recalled); forgotten (deleted with all of its user's
points). Each user keeps at most `max_per_user` active facts — beyond that the ones least recently
said or recalled are retired — and as many retired ones, beyond which the longest retired are
deleted, so nobody's memory grows without bound.

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

from adapters.memory.base import MemoryChanges
from adapters.memory.collection import USER_KEY, ensure_collection
from core.errors import MemoryUnavailable, WorkerError

LOCAL_LOCK_HINT = (
    "local mode serves one process at a time; set QDRANT_URL to a Qdrant server to run several worker processes"
)
# Local mode runs one call at a time anyway; a server takes several (the embedding stays one at a time).
LOCAL_THREADS = 1
SERVER_THREADS = 4
RETIRED_KEY = "metadata.retired_at"
SCROLL_PAGE = 256


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
        max_per_user: int = 500,
    ):
        self._collection = collection
        self._url, self._api_key, self._path = url, api_key, path
        self._min_score = min_score
        self._embeddings = embeddings
        self._timeout_s = timeout_s
        self._clock = clock
        self._max_per_user = max_per_user
        self._store = None
        self._unusable: WorkerError | None = None  # a failure that retrying cannot fix
        self._open_lock = threading.Lock()
        # The local engine is plain Python over SQLite: one call at a time. A server needs no lock.
        self._call_lock = threading.Lock() if url is None else contextlib.nullcontext()
        self._threads = LOCAL_THREADS if url is None else SERVER_THREADS
        self._executor: ThreadPoolExecutor | None = None  # started on first use

    async def search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        """This user's active memories closest to `query`: at most k, each scoring at least
        min_score, best first, newest first among equal scores; {id, text, score, created_at,
        updated_at} (ISO 8601, UTC). Retired facts are never recalled."""
        return await self._in_thread(self._search, _checked(user_id), query, k)

    async def nearest(self, user_id: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        """This user's active memories nearest to any of `texts`, whatever their score (the
        candidates a new fact may repeat, refine or contradict): at most k, best first."""
        if not texts:
            return []
        return await self._in_thread(self._nearest, _checked(user_id), texts, k)

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        """Store (key, text) pairs for this user; the same key overwrites, never duplicates."""
        if items:
            await self.apply(user_id, MemoryChanges(add=items))

    async def apply(self, user_id: str, changes: MemoryChanges) -> None:
        """One consolidated write for this user: add (key, text) facts, rewrite (id, text) ones in
        place, retire ids, mark ids as recalled now; then keep the user within the cap. Ids of
        other users' points are never touched: every selector carries the user filter."""
        if changes:
            await self._in_thread(self._apply, _checked(user_id), changes)

    async def export(self, user_id: str) -> list[dict[str, Any]]:
        """Everything stored for this user, active and retired, oldest first."""
        return await self._in_thread(self._export, _checked(user_id))

    async def forget(self, user_id: str) -> int:
        """Delete every point of this user; returns how many there were. Nobody else's are touched."""
        return await self._in_thread(self._forget, _checked(user_id))

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
        store = self._vector_store()
        try:
            with self._call_lock:
                hits = store.similarity_search_with_score(
                    query, k=k, filter=_active(user_id), score_threshold=self._min_score
                )
        except Exception as exc:  # the client's errors vary by transport
            raise MemoryUnavailable(f"user memory search failed ({_describe(exc)})") from None
        found = [
            _memory(doc.metadata, doc.page_content, round(float(score), 4))
            for doc, score in hits
            if doc.metadata.get("user_id") == user_id  # the filter did this; never trust one line
        ]
        found.sort(key=lambda m: (-m["score"], _newest_first(m["updated_at"])))
        return found

    def _nearest(self, user_id: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        store = self._vector_store()
        best: dict[str, dict[str, Any]] = {}
        try:
            for text in texts:
                with self._call_lock:
                    hits = store.similarity_search_with_score(text, k=k, filter=_active(user_id))
                for doc, score in hits:
                    if doc.metadata.get("user_id") != user_id:
                        continue
                    found = _memory(doc.metadata, doc.page_content, round(float(score), 4))
                    if found["id"] not in best or best[found["id"]]["score"] < found["score"]:
                        best[found["id"]] = found
        except Exception as exc:
            raise MemoryUnavailable(f"user memory search failed ({_describe(exc)})") from None
        return sorted(best.values(), key=lambda m: -m["score"])[:k]

    def _apply(self, user_id: str, changes: MemoryChanges) -> None:
        store = self._vector_store()
        now_ms = int(self._clock() * 1000)
        try:
            texts, metadatas, ids = [], [], []
            for key, text in changes.add:
                texts.append(text)
                metadatas.append({"user_id": user_id, "key": key, "created_at": now_ms, "updated_at": now_ms})
                ids.append(point_id(user_id, key))
            if changes.update:
                current = {
                    str(p.id): p.payload.get("metadata") or {} for p in self._points(user_id, list(changes.update))
                }
                for memory_id, text in changes.update.items():
                    if memory_id in current:  # only this user's, and only points that still exist
                        texts.append(text)
                        metadatas.append({**current[memory_id], "user_id": user_id, "updated_at": now_ms})
                        ids.append(memory_id)
            if texts:
                with self._call_lock:
                    store.add_texts(texts, metadatas=metadatas, ids=ids)
            if changes.retire:
                self._set(user_id, changes.retire, {"retired_at": now_ms, "retired_why": changes.why})
            if changes.recalled:
                self._set(user_id, changes.recalled, {"recalled_at": now_ms})
            if changes.add:
                self._keep_within_cap(user_id, now_ms)
        except MemoryUnavailable:
            raise
        except Exception as exc:
            raise MemoryUnavailable(f"user memory write failed ({_describe(exc)})") from None

    def _keep_within_cap(self, user_id: str, now_ms: int) -> None:
        """Past the cap, retire the active facts least recently said or recalled, and delete the
        longest retired beyond as many retired ones — down to a tenth below the cap, so the scan
        that picks them runs once per many writes, not on every one."""
        client = self._vector_store().client
        with self._call_lock:
            active = client.count(self._collection, count_filter=_active(user_id), exact=True).count
        if active <= self._max_per_user:
            return
        room = self._max_per_user - self._max_per_user // 10
        points = self._scroll(user_id, _only(user_id))
        live = sorted(
            (m for m in points if not m.get("retired_at")),
            key=lambda m: (max(m.get("updated_at") or m.get("created_at") or 0, m.get("recalled_at") or 0), m["id"]),
        )
        stale = live[: len(live) - room]
        self._set(user_id, [m["id"] for m in stale], {"retired_at": now_ms, "retired_why": "over the per-user cap"})
        retired = [m for m in points if m.get("retired_at")] + [{**m, "retired_at": now_ms} for m in stale]
        if len(retired) > self._max_per_user:
            retired.sort(key=lambda m: (m["retired_at"], m["id"]))
            oldest = [m["id"] for m in retired[: len(retired) - room]]
            with self._call_lock:
                client.delete(self._collection, points_selector=_selector(user_id, oldest))

    def _set(self, user_id: str, ids: list[str], fields: dict[str, Any]) -> None:
        with self._call_lock:
            self._vector_store().client.set_payload(
                self._collection, payload=fields, points=_selector(user_id, ids), key="metadata"
            )

    def _points(self, user_id: str, ids: list[str]) -> list[Any]:
        with self._call_lock:
            points, _ = self._vector_store().client.scroll(
                self._collection, scroll_filter=_selector(user_id, ids).filter, limit=len(ids), with_payload=True
            )
        return points

    def _scroll(self, user_id: str, scroll_filter: Any) -> list[dict[str, Any]]:
        """Every point matching the filter (payload only), as {id, **metadata, text}."""
        client = self._vector_store().client
        found, offset = [], None
        while True:
            with self._call_lock:
                points, offset = client.scroll(
                    self._collection, scroll_filter=scroll_filter, limit=SCROLL_PAGE, offset=offset, with_payload=True
                )
            for point in points:
                metadata = point.payload.get("metadata") or {}
                if metadata.get("user_id") == user_id:
                    found.append({**metadata, "id": str(point.id), "text": point.payload.get("page_content", "")})
            if offset is None:
                return found

    def _export(self, user_id: str) -> list[dict[str, Any]]:
        self._vector_store()
        try:
            points = self._scroll(user_id, _only(user_id))
        except Exception as exc:
            raise MemoryUnavailable(f"user memory export failed ({_describe(exc)})") from None
        points.sort(key=lambda m: (m.get("created_at") or 0, m["id"]))
        return [
            {
                "id": m["id"],
                "text": m["text"],
                "created_at": _iso(m.get("created_at") or 0),
                "updated_at": _iso(m.get("updated_at") or m.get("created_at") or 0),
                "recalled_at": _iso(m.get("recalled_at") or 0),
                "retired_at": _iso(m.get("retired_at") or 0),
                "retired_why": m.get("retired_why"),
                "source": m.get("key"),
            }
            for m in points
        ]

    def _forget(self, user_id: str) -> int:
        from qdrant_client import models

        client = self._vector_store().client
        try:
            with self._call_lock:
                stored = client.count(self._collection, count_filter=_only(user_id), exact=True).count
                client.delete(self._collection, points_selector=models.FilterSelector(filter=_only(user_id)))
                left = client.count(self._collection, count_filter=_only(user_id), exact=True).count
        except Exception as exc:
            raise MemoryUnavailable(f"user memory deletion failed ({_describe(exc)})") from None
        if left:
            raise MemoryUnavailable(f"user memory deletion left {left} point(s); run it again")
        return stored

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


def _only(user_id: str, *, retired: bool | None = None):
    """Points of this user: all of them, only the active (retired=False) or only the retired."""
    from qdrant_client import models

    mine = models.FieldCondition(key=USER_KEY, match=models.MatchValue(value=user_id))
    # Points written before retirement existed carry no retired_at: active, as the range misses them.
    was_retired = models.FieldCondition(key=RETIRED_KEY, range=models.Range(gt=0))
    if retired is None:
        return models.Filter(must=[mine])
    if retired:
        return models.Filter(must=[mine, was_retired])
    return models.Filter(must=[mine], must_not=[was_retired])


def _active(user_id: str):
    return _only(user_id, retired=False)


def _selector(user_id: str, ids: list[str]):
    """These ids, and only where they belong to this user."""
    from qdrant_client import models

    return models.FilterSelector(
        filter=models.Filter(must=[*_only(user_id).must, models.HasIdCondition(has_id=list(ids))])
    )


def _memory(metadata: dict[str, Any], text: str, score: float) -> dict[str, Any]:
    created = metadata.get("created_at") or 0
    return {
        "id": str(metadata.get("_id")),
        "text": text,
        "score": score,
        "created_at": _iso(created),
        "updated_at": _iso(metadata.get("updated_at") or created),
    }


def _newest_first(iso: str | None) -> float:
    """A sort key that puts the newest first (negated epoch seconds)."""
    return -datetime.fromisoformat(iso).timestamp() if iso else 0.0


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
