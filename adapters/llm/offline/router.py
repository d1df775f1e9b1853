"""Offline intent routing: nearest labelled examples (prompts/action_routing.yaml) in the
multilingual-e5 embedding space. The confidence is a softmax over per-intent similarity, so a
message far from every example, or between two intents, reports a low confidence."""

from __future__ import annotations

import threading

import numpy as np

from adapters.llm.offline.text import search_terms
from adapters.prompts import RoutingExample
from worker.schemas import RouteDecision

INTENTS = ("CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY")
TOP_K = 3  # examples per intent that vote
TEMPERATURE = 0.01  # e5 similarities live in a narrow band (~0.8–0.95); this spreads them
CONTEXT_CHARS = 300


class EmbeddingRouter:
    def __init__(self, examples: list[RoutingExample], embeddings):
        self._examples = examples
        self._embeddings = embeddings
        self._matrix: np.ndarray | None = None
        self._labels = np.array([e.intent for e in examples])
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self._example_matrix()

    def route(self, conversation: list[dict[str, str]]) -> RouteDecision:
        last = conversation[-1]["content"]
        intent, confidence = self._classify(last)
        reason = "closest labelled examples to the last message"
        if len(conversation) > 1 and (intent == "CLARIFY" or confidence < 0.6):
            # A short reply ("응 그걸로 바꿔줘") means what the previous turn proposed.
            previous = conversation[-2]["content"][-CONTEXT_CHARS:]
            with_context, ctx_confidence = self._classify(f"{previous}\n{last}")
            if with_context != "CLARIFY" and ctx_confidence > confidence:
                intent, confidence = with_context, ctx_confidence
                reason = "last message read together with the previous turn"
        return RouteDecision(intent=intent, confidence=round(confidence, 3), reason=reason,
                             search_terms=search_terms(last))

    def _classify(self, text: str) -> tuple[str, float]:
        matrix = self._example_matrix()
        similarity = matrix @ np.asarray(self._embeddings.embed_queries([text])[0])
        scores = np.array(
            [np.sort(similarity[self._labels == intent])[-TOP_K:].mean() for intent in INTENTS]
        )
        weights = np.exp((scores - scores.max()) / TEMPERATURE)
        probabilities = weights / weights.sum()
        best = int(np.argmax(probabilities))
        return INTENTS[best], float(probabilities[best])

    def _example_matrix(self) -> np.ndarray:
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    texts = [_example_text(e) for e in self._examples]
                    self._matrix = np.asarray(self._embeddings.embed_queries(texts))
        return self._matrix


def _example_text(example: RoutingExample) -> str:
    if example.history:
        return f"{example.history[-1]['content'][-CONTEXT_CHARS:]}\n{example.message}"
    return example.message
