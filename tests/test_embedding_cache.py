from __future__ import annotations

import numpy as np
import pytest

from adapters.memory.embedding_cache import cached_query_vectors


class Counting:
    """The real embeddings, counting how often the model is asked."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.model_name = inner.model_name

    def embed_queries(self, texts):
        self.calls += 1
        return self.inner.embed_queries(texts)


def test_second_start_reads_the_vectors_the_model_made(tmp_path, embeddings):
    texts = ["오늘 운동 뭐 해야 돼?", "make me a new 5-day split"]
    counting = Counting(embeddings)
    first = cached_query_vectors(counting, texts, tmp_path)
    second = cached_query_vectors(counting, texts, tmp_path)
    assert counting.calls == 1
    np.testing.assert_allclose(second, first)
    np.testing.assert_allclose(first, np.asarray(embeddings.embed_queries(texts)), atol=1e-6)


def test_other_texts_are_another_entry(tmp_path, embeddings):
    counting = Counting(embeddings)
    cached_query_vectors(counting, ["a"], tmp_path)
    cached_query_vectors(counting, ["b"], tmp_path)
    assert counting.calls == 2 and len(list(tmp_path.glob("queries-*.npy"))) == 2


def test_a_broken_or_unwritable_cache_only_costs_time(tmp_path, embeddings):
    counting = Counting(embeddings)
    cached_query_vectors(counting, ["a"], tmp_path)
    [entry] = tmp_path.glob("queries-*.npy")
    entry.write_bytes(b"not an array")
    assert cached_query_vectors(counting, ["a"], tmp_path).shape == (1, 384)
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    assert cached_query_vectors(counting, ["a"], blocked / "sub").shape == (1, 384)
    assert counting.calls == 3


@pytest.mark.parametrize("texts", [["x"], ["x", "y", "z"]])
def test_embeddings_without_a_model_name_are_not_cached(tmp_path, texts, embeddings):
    class Anonymous:
        def embed_queries(self, texts):
            return embeddings.embed_queries(texts)

    assert cached_query_vectors(Anonymous(), texts, tmp_path).shape == (len(texts), 384)
    assert not list(tmp_path.iterdir())
