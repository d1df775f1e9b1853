"""The memory collection's lifecycle: created on first use, and checked on every start against the
embedding model that will read and write it.

Vectors from two embedding models are not comparable, yet a search over them still returns
confident-looking scores. So the collection records the model and dimension that built it (Qdrant
collection metadata) and a mismatch stops memory with a clear message instead of returning garbage.
"""

from __future__ import annotations

import logging
from typing import Any

from core.errors import MemoryUnavailable

log = logging.getLogger("reppy.memory")

USER_KEY = "metadata.user_id"  # where langchain-qdrant keeps our user id in each point's payload
MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"


def ensure_collection(client, name: str, *, model: str, dimension: int, server: bool) -> None:
    """Create `name` for this model, or check that the existing one was built with it. `server`:
    the user-id payload index is made only there (local mode ignores indexes, with a warning)."""
    from qdrant_client import models

    if not client.collection_exists(name):
        try:
            client.create_collection(
                name,
                vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE),
                metadata={MODEL_KEY: model, DIMENSION_KEY: dimension},
            )
            log.info("created memory collection %s (%s, %d-d)", name, model, dimension)
        except Exception:
            if not client.collection_exists(name):
                raise
            # Another worker instance created it between our check and our create: check theirs.
    info = client.get_collection(name)
    _check_vectors(name, info, dimension)
    _check_model(client, name, info, model, dimension)
    if server and USER_KEY not in (info.payload_schema or {}):
        # Every search filters on the user: a tenant index keeps that fast as users multiply.
        client.create_payload_index(
            name,
            USER_KEY,
            field_schema=models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
        )


def _check_vectors(name: str, info: Any, dimension: int) -> None:
    from qdrant_client import models

    vectors = info.config.params.vectors
    if not isinstance(vectors, models.VectorParams):
        raise _mismatch(name, "uses named vectors; the memory store expects one unnamed vector")
    if vectors.size != dimension:
        raise _mismatch(name, f"holds {vectors.size}-d vectors; this worker's embeddings are {dimension}-d")
    if vectors.distance != models.Distance.COSINE:
        raise _mismatch(name, f"uses {vectors.distance.value} distance; memory search needs Cosine")


def _check_model(client, name: str, info: Any, model: str, dimension: int) -> None:
    recorded = (info.config.metadata or {}).get(MODEL_KEY)
    if recorded == model:
        return
    if recorded is None:
        # Made before models were recorded (or by hand) with the right dimension: adopt it, loudly.
        log.warning("memory collection %s records no embedding model; recording %s", name, model)
        client.update_collection(name, metadata={MODEL_KEY: model, DIMENSION_KEY: dimension})
        return
    raise _mismatch(name, f"was built with embeddings {recorded!r}; this worker embeds with {model!r}")


def _mismatch(name: str, why: str) -> MemoryUnavailable:
    return MemoryUnavailable(
        f"Qdrant collection {name!r} {why}, so its memories cannot be searched. Point "
        "QDRANT_COLLECTION_MEMORY at a new collection (or re-embed the old one with this model).",
        retryable=False,
    )
