"""A small multinomial logistic regression in numpy, trained at start-up on the labelled routing
examples. Deterministic: zero initial weights and full-batch gradient descent with a fixed number
of steps, so the same examples give the same model in every process."""

from __future__ import annotations

import numpy as np


class SoftmaxRegression:
    def __init__(self, l2: float = 1e-2, steps: int = 400, learning_rate: float = 0.5):
        self.l2 = l2
        self.steps = steps
        self.learning_rate = learning_rate
        self.classes: list[str] = []
        self._mean: np.ndarray | None = None
        self._scale: np.ndarray | None = None
        self._weights: np.ndarray | None = None
        self._bias: np.ndarray | None = None

    def fit(self, features: np.ndarray, labels: list[str], classes: list[str]) -> SoftmaxRegression:
        x = np.asarray(features, dtype=np.float64)
        self.classes = list(classes)
        # Standardise each feature so one L2 strength fits embeddings and binary cues alike;
        # a feature that never varies in training gets no weight rather than a division by zero.
        self._mean = x.mean(axis=0)
        spread = x.std(axis=0)
        self._scale = np.where(spread > 1e-9, spread, np.inf)
        z = (x - self._mean) / self._scale
        y = np.zeros((len(labels), len(classes)))
        y[np.arange(len(labels)), [self.classes.index(label) for label in labels]] = 1.0

        n, d = z.shape
        w = np.zeros((d, len(classes)))
        b = np.zeros(len(classes))
        velocity_w, velocity_b = np.zeros_like(w), np.zeros_like(b)
        momentum = 0.9
        for _ in range(self.steps):
            # Nesterov momentum: the gradient at the look-ahead point.
            look_w, look_b = w + momentum * velocity_w, b + momentum * velocity_b
            error = _softmax(z @ look_w + look_b) - y
            grad_w = z.T @ error / n + self.l2 * look_w
            grad_b = error.mean(axis=0)
            velocity_w = momentum * velocity_w - self.learning_rate * grad_w
            velocity_b = momentum * velocity_b - self.learning_rate * grad_b
            w, b = w + velocity_w, b + velocity_b
        self._weights, self._bias = w, b
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        if self._weights is None:
            raise RuntimeError("the classifier is not trained")
        z = (np.atleast_2d(np.asarray(features, dtype=np.float64)) - self._mean) / self._scale
        return _softmax(z @ self._weights + self._bias)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
