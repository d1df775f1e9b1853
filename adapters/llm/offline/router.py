"""Offline intent routing, trained at start-up on the labelled examples in
prompts/action_routing.yaml.

A conversation becomes one feature vector:
- the multilingual-e5 embedding of the last message (what it is about, in any language or typo),
- its similarity to the nearest examples of each intent,
- lexical cues of the last message (verbs of creating vs changing, question forms, numbers with
  units, yes/ok replies, …; see cues.py),
- the intent the history gives a reply that depends on it (an accepted offer, an answer to
  "create or change?", a follow-up question; see dialogue.py).
A small logistic regression (numpy) weighs them; its probability is the reported confidence, so a
message between two intents, or like nothing seen, reports a low one and the graph asks instead.
The examples are embedded and the model trained once per process (`warm_up`)."""

from __future__ import annotations

import threading

import numpy as np

from adapters.llm.offline import cues
from adapters.llm.offline.asks import read_ask
from adapters.llm.offline.classifier import SoftmaxRegression
from adapters.llm.offline.dialogue import implied_intent, previous_turn
from adapters.llm.offline.text import search_terms
from adapters.memory.embedding_cache import cached_query_vectors
from adapters.prompts import RoutingExample
from core.schemas import RouteDecision

INTENTS = ("CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY")
TOP_K = 3  # nearest examples per intent whose similarity is a feature
L2 = 0.005  # chosen by 5-fold cross-validation on the examples (0.002–0.01 are all close)
MAX_CONFIDENCE = 0.999
CUE_NAMES = tuple(cues.message_cues("x"))


class IntentRouter:
    def __init__(self, examples: list[RoutingExample], embeddings):
        self._examples = examples
        self._embeddings = embeddings
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None  # the examples' last messages, embedded
        self._labels = np.array([e.intent for e in examples])
        self._model: SoftmaxRegression | None = None

    def warm_up(self) -> None:
        self._trained()

    def route(self, conversation: list[dict[str, str]]) -> RouteDecision:
        model = self._trained()
        last = conversation[-1]["content"]
        vector = np.asarray(self._embeddings.embed_queries([last])[0])
        implied = implied_intent(conversation)
        features = self._features(vector, self._nearest(vector), last, implied)
        probabilities = model.predict_proba(features[None, :])[0]
        best = int(np.argmax(probabilities))
        intent = model.classes[best]
        # A learned probability is never certainty; rounding must not make it look like one.
        confidence = min(round(float(probabilities[best]), 3), MAX_CONFIDENCE)
        return RouteDecision(
            intent=intent,
            confidence=confidence,
            reason=_reason(intent, implied),
            search_terms=_terms(conversation, implied),
            asked=read_ask(conversation),
        )

    # --- training ------------------------------------------------------------------------------

    def _trained(self) -> SoftmaxRegression:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._train()
        return self._model

    def _train(self) -> SoftmaxRegression:
        texts = [e.message for e in self._examples]
        self._vectors = cached_query_vectors(self._embeddings, texts)
        similarity = self._vectors @ self._vectors.T
        rows = []
        for i, example in enumerate(self._examples):
            # Leave the example itself out of its own neighbours, or the similarity feature would
            # be a perfect (and useless) copy of the label.
            others = similarity[i].copy()
            others[i] = -np.inf
            conversation = [*(t for t in example.history), {"role": "user", "content": example.message}]
            rows.append(
                self._features(
                    self._vectors[i], self._per_intent(others), example.message, implied_intent(conversation)
                )
            )
        return SoftmaxRegression(l2=L2).fit(np.stack(rows), list(self._labels), list(INTENTS))

    # --- features ------------------------------------------------------------------------------

    def _nearest(self, vector: np.ndarray) -> np.ndarray:
        return self._per_intent(self._vectors @ vector)

    def _per_intent(self, similarity: np.ndarray) -> np.ndarray:
        return np.array([np.sort(similarity[self._labels == intent])[-TOP_K:].mean() for intent in INTENTS])

    @staticmethod
    def _features(vector: np.ndarray, nearest: np.ndarray, message: str, implied: str | None) -> np.ndarray:
        found = cues.message_cues(message)
        lexical = np.array([found[name] for name in CUE_NAMES])
        history = np.array([float(implied == intent) for intent in INTENTS])
        # "응 그래" with nothing before it to agree to: a reply to nothing.
        orphan = np.array([float(implied is None and cues.depends_on_history(message))])
        return np.concatenate([vector, nearest, lexical, history, orphan])


def _reason(intent: str, implied: str | None) -> str:
    if implied is not None and implied == intent:
        return "the last message read against the previous turn"
    return "the last message's words and its nearest labelled examples"


def _terms(conversation: list[dict[str, str]], implied: str | None) -> list[str]:
    """Exercise names to look up: the last message's, or — when it only answers the previous turn
    ("응 그걸로 바꿔줘") — the ones that turn proposed."""
    terms = search_terms(conversation[-1]["content"])
    assistant = previous_turn(conversation, "assistant")
    if implied is None or not assistant:
        return terms
    return list(dict.fromkeys(terms + search_terms(assistant)))[:8]
