"""The offline model provider: deterministic, no network, no key. It really routes (embeddings of
labelled examples), plans, and writes from the gathered context."""

from adapters.llm.offline.provider import OfflineProvider

__all__ = ["OfflineProvider"]
