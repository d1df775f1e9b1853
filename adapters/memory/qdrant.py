"""User memory in Qdrant through langchain-qdrant's QdrantVectorStore.

QDRANT_URL set → a Qdrant server; unset → local mode (a path on disk, or ":memory:"). Local mode
holds a file lock, so it serves one process (CLI, dev, tests); several function instances need a
server. Every search is filtered, and every point stamped, with the request's userId.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

from worker.errors import MemoryUnavailable

USER_KEY = "metadata.user_id"


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
    ):
        self._collection = collection
        self._url, self._api_key, self._path = url, api_key, path
        self._min_score = min_score
        self._embeddings = embeddings
        self._store = None
        self._init_lock = threading.Lock()

    async def search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._search, user_id, query, k)

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        if items:
            await asyncio.to_thread(self._add, user_id, items)

    async def aclose(self) -> None:
        if self._store is not None:
            await asyncio.to_thread(self._store.client.close)
            self._store = None

    def warm_up(self) -> None:
        """Open the store (and load the embedding model) ahead of the first request."""
        self._vector_store()

    def _search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        from qdrant_client import models

        store = self._vector_store()
        user_filter = models.Filter(
            must=[models.FieldCondition(key=USER_KEY, match=models.MatchValue(value=user_id))]
        )
        try:
            hits = store.similarity_search_with_score(
                query, k=k, filter=user_filter, score_threshold=self._min_score
            )
        except Exception as exc:  # the store's own errors vary by transport
            raise MemoryUnavailable(f"user memory search failed ({type(exc).__name__})") from None
        found = [
            {
                "text": doc.page_content,
                "score": round(float(score), 4),
                "created_at": doc.metadata.get("created_at"),
            }
            for doc, score in hits
            if doc.metadata.get("user_id") == user_id  # the filter already did this; never trust one line
        ]
        found.sort(key=lambda m: (-m["score"], -(m["created_at"] or 0)))
        return found

    def _add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        store = self._vector_store()
        now = int(time.time())
        try:
            store.add_texts(
                [text for _, text in items],
                metadatas=[{"user_id": user_id, "created_at": now} for _ in items],
                ids=[str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user_id}/{pid}")) for pid, _ in items],
            )
        except Exception as exc:
            raise MemoryUnavailable(f"user memory write failed ({type(exc).__name__})") from None

    def _vector_store(self):
        if self._store is None:
            with self._init_lock:
                if self._store is None:
                    self._store = self._open()
        return self._store

    def _open(self):
        from langchain_qdrant import QdrantVectorStore
        from qdrant_client import QdrantClient, models

        from adapters.memory.embeddings import shared_embeddings

        embeddings = self._embeddings or shared_embeddings()
        try:
            if self._url:
                client = QdrantClient(url=self._url, api_key=self._api_key)
            else:
                client = QdrantClient(location=":memory:") if self._path == ":memory:" else QdrantClient(path=self._path)
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise MemoryUnavailable(
                    f"Qdrant local storage {self._path} is in use by another process; local mode "
                    "serves one process at a time: set QDRANT_URL to a Qdrant server for concurrency"
                ) from None
            raise
        try:
            if not client.collection_exists(self._collection):
                client.create_collection(
                    self._collection,
                    vectors_config=models.VectorParams(
                        size=embeddings.dimension, distance=models.Distance.COSINE
                    ),
                )
                if self._url:  # local mode ignores payload indexes (and warns about them)
                    client.create_payload_index(
                        self._collection, USER_KEY, field_schema=models.PayloadSchemaType.KEYWORD
                    )
        except Exception as exc:
            raise MemoryUnavailable(f"Qdrant is unreachable ({type(exc).__name__})") from None
        return QdrantVectorStore(client=client, collection_name=self._collection, embedding=embeddings)
