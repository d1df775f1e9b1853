"""A long conversation is trimmed before any model sees it: the newest turns that fit the budget
(`nodes/conversation.py`), the user's last message always among them."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.runner import handle
from core.contracts import MAX_BODY_BYTES
from core.contracts import MAX_TURNS as MAX_REQUEST_TURNS
from nodes.conversation import MAX_CHARS, MAX_TURNS, recent_turns
from standins.gemini import Reply
from tests.conftest import request
from tests.gemini_support import plan, route

pytestmark = pytest.mark.reliability

MARKER = re.compile(r"\[turn (\d+)\]")


def history(lengths: list[int]) -> list[dict[str, str]]:
    """Turns numbered in their content; roles alternate and the last one is the user's."""
    count = len(lengths)
    return [
        {"role": "user" if (count - 1 - i) % 2 == 0 else "assistant", "content": f"[turn {i}]" + "x" * length}
        for i, length in enumerate(lengths)
    ]


@hypothesis_settings(max_examples=300, deadline=None)
@given(lengths=st.lists(st.integers(0, 9_000), min_size=1, max_size=80))
def test_the_newest_turns_that_fit_are_kept(lengths):
    turns = history(lengths)
    kept = recent_turns({"conversation_history": turns})
    count = len(kept)
    assert 1 <= count <= MAX_TURNS
    # The user's last message is always there (its tail, if it alone is over the budget) ...
    assert kept[-1] == {"role": turns[-1]["role"], "content": turns[-1]["content"][-MAX_CHARS:]}
    # ... after the turns just before it, whole and in order: a suffix of the conversation.
    assert kept[:-1] == turns[len(turns) - count : -1]
    used = sum(len(t["content"]) for t in kept)
    assert used <= MAX_CHARS
    # And nothing newer was dropped for something older: the next older turn would not fit.
    if count < min(MAX_TURNS, len(turns)):
        assert used + len(turns[-count - 1]["content"]) > MAX_CHARS


async def test_a_2000_turn_conversation_reaches_the_model_trimmed(gemini, gemini_deps, events):
    turns = history([1_490] * MAX_REQUEST_TURNS)
    body = json.dumps(request(turns, request_id="req-long-history"), ensure_ascii=False).encode()
    assert len(body) < MAX_BODY_BYTES  # a legal request, as large as the contract allows in turns
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례예요."))

    await handle(body, gemini_deps())
    [result] = events.results
    assert result.status == "SUCCEEDED"
    # Router and planner side by side (in either order), then the answer.
    assert sorted(r.schema_title or "answer" for r in gemini.requests) == ["ChatPlan", "RouteDecision", "answer"]
    newest = MAX_REQUEST_TURNS - 1
    for sent in gemini.requests:
        seen = sorted(int(n) for n in MARKER.findall(sent.user_text))
        assert seen and seen[-1] == newest  # the user's last message is always there
        assert seen == list(range(seen[0], newest + 1))  # the newest ones, none skipped
        assert len(seen) <= MAX_TURNS and sum(len(turns[n]["content"]) for n in seen) <= MAX_CHARS
        assert len(sent.user_text) < 4 * MAX_CHARS  # the prompt stays small, however long the chat
