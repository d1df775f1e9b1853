"""The slice of the conversation the models see: newest turns first, within a budget."""

from __future__ import annotations

from graph.state import State

MAX_TURNS = 12
MAX_CHARS = 6_000


def recent_turns(state: State) -> list[dict[str, str]]:
    """The newest turns that fit MAX_TURNS and MAX_CHARS (the last user message always does)."""
    kept: list[dict[str, str]] = []
    used = 0
    for turn in reversed(state["conversation_history"][-MAX_TURNS:]):
        content = turn["content"]
        if kept and used + len(content) > MAX_CHARS:
            break
        kept.append({"role": turn["role"], "content": content[-MAX_CHARS:]})
        used += len(content)
    return kept[::-1]


def last_message(state: State) -> str:
    return state["conversation_history"][-1]["content"]
