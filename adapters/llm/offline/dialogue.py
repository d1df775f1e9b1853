"""Reading a reply against the conversation before it. "응 그걸로 해줘" means what the coach just
offered; "the second one" picks from the question the coach asked; "그럼 초보는?" continues the
topic of the last answer. Only replies that depend on the history are read this way — a message
that says what it wants on its own is left to its own words."""

from __future__ import annotations

from adapters.llm.offline import cues

# The intent a reply implies when it accepts an offer of this kind.
# A reply this short to "create or change?" is an answer to that question.
CHOICE_REPLY_WORDS = 6
ACCEPTS = {"create": "GENERATE_ROUTINE", "change": "UPDATE_ROUTINE", "explain": "CHAT_RESPONSE"}


def implied_intent(conversation: list[dict[str, str]]) -> str | None:
    """The intent the history gives the last message, or None when the history does not decide
    (no history, a self-contained message, or nothing to tie it to)."""
    if len(conversation) < 2:
        return None
    reply = conversation[-1]["content"]
    assistant = previous_turn(conversation, "assistant")
    if assistant is None:
        return None
    offer = cues.offer_of(assistant)
    if offer.action == "choice" and len(cues.words(reply)) <= CHOICE_REPLY_WORDS:
        side = cues.picked(reply, offer)
        # "응" or "not sure" to "create or change?" answers nothing: ask again.
        return ACCEPTS[side] if side else "CLARIFY"
    if not cues.depends_on_history(reply):
        return None
    if offer.action in ACCEPTS:
        if cues.UNSURE.search(reply):
            return "CLARIFY"
        if cues.NEGATION.search(reply) and not cues.AFFIRM.search(reply):
            return None  # declined: whatever else the reply says decides
        if cues.QUESTION.search(reply) and not cues.AFFIRM.search(reply):
            return "CHAT_RESPONSE"  # a question about the offer, not an answer to it
        return ACCEPTS[offer.action]
    # The coach answered something: a short question continues that conversation.
    if cues.QUESTION.search(reply) or cues.FOLLOW_UP.search(reply):
        return "CHAT_RESPONSE"
    return None


def previous_turn(conversation: list[dict[str, str]], role: str) -> str | None:
    for turn in reversed(conversation[:-1]):
        if turn.get("role") == role:
            return turn.get("content") or ""
    return None
