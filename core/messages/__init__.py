"""The sentences the worker itself says to a user — its own questions, not the model's answers —
one module per language with the same names."""

from __future__ import annotations

from types import ModuleType

from core.lang import is_korean
from core.messages import en, ko


def messages_for(text: str) -> ModuleType:
    """The messages in the language of the user's text."""
    return ko if is_korean(text) else en
