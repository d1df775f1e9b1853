"""The offline router reads the conversation: what an assistant turn offered, how a short reply
answers it, and which exercise names a reply refers to. Trained once, deterministically."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.llm.offline import cues
from adapters.llm.offline.dialogue import implied_intent
from adapters.llm.offline.router import IntentRouter

SWAP_OFFER = "그러면 푸쉬데이의 바벨 벤치프레스를 덤벨 벤치프레스로 바꿔 볼까요?"
NEW_OFFER = "주 4회 상하체 분할로 새 프로그램을 짜 드릴까요?"
EXPLAIN_OFFER = "벤치프레스 호흡법을 더 자세히 설명해 드릴까요?"
CHOICE_KO = "새 루틴을 만들까요, 아니면 지금 루틴을 바꿀까요?"
CHOICE_EN = "Should I create a new routine, or change your current one?"


def convo(*turns: str) -> list[dict[str, str]]:
    """Alternating turns ending with the user: the last one is the user's."""
    roles = ["user", "assistant"] if len(turns) % 2 else ["assistant", "user"]
    return [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]


@pytest.mark.parametrize(
    "turn, action",
    [
        (SWAP_OFFER, "change"),
        (NEW_OFFER, "create"),
        (EXPLAIN_OFFER, "explain"),
        ("스탠딩 카프 레이즈를 빼면 10분 줄어요. 빼 드릴까요?", "change"),
        ("지금 루틴 대신 아예 새 PPL 프로그램을 만들어 드릴 수도 있어요.", "create"),  # "대신" is not the offer
        ("Want me to replace deadlifts with rack pulls on your pull day?", "change"),
        ("I can put together a brand-new 6-week plan for you. Interested?", "create"),
        ("Would you like tips on bracing for heavy squats?", "explain"),
        ("오늘은 Push Day A 차례예요!", None),  # information, no offer
        (CHOICE_KO, "choice"),
        (CHOICE_EN, "choice"),
    ],
)
def test_offer_of_reads_what_the_assistant_proposed(turn, action):
    assert cues.offer_of(turn).action == action


@pytest.mark.parametrize(
    "reply, offer, intent",
    [
        ("응 그걸로 해줘", SWAP_OFFER, "UPDATE_ROUTINE"),
        ("응 그걸로 해줘", NEW_OFFER, "GENERATE_ROUTINE"),
        ("응 그걸로 해줘", EXPLAIN_OFFER, "CHAT_RESPONSE"),
        ("yes please", "Want me to swap your curls for hammer curls?", "UPDATE_ROUTINE"),
        ("yes please", "Shall I build you a fresh 3-day program?", "GENERATE_ROUTINE"),
        ("첫 번째", CHOICE_KO, "GENERATE_ROUTINE"),
        ("두 번째", CHOICE_KO, "UPDATE_ROUTINE"),
        ("the second one", CHOICE_EN, "UPDATE_ROUTINE"),
        ("brand new", CHOICE_EN, "GENERATE_ROUTINE"),
        ("지금 거 손봐줘", CHOICE_KO, "UPDATE_ROUTINE"),
        ("응", CHOICE_KO, "CLARIFY"),  # "yes" to "create or change?" answers nothing
        ("잘 모르겠어", CHOICE_KO, "CLARIFY"),
        ("그럼 초보는?", "보통 3–5세트, 세트당 3–6회가 좋아요.", "CHAT_RESPONSE"),
    ],
)
def test_history_gives_a_dependent_reply_its_intent(reply, offer, intent):
    assert implied_intent(convo(offer, reply)) == intent


@pytest.mark.parametrize(
    "conversation",
    [
        convo("응 그걸로 해줘"),  # no history
        convo(SWAP_OFFER, "새 4주 근비대 프로그램 만들어줘"),  # says what it wants on its own
        convo(SWAP_OFFER, "아니 괜찮아"),  # declined
    ],
)
def test_history_does_not_decide_for_self_contained_or_declining_replies(conversation):
    assert implied_intent(conversation) is None


@pytest.mark.parametrize(
    "offer, reply, intent",
    [
        (SWAP_OFFER, "ㅇㅇ", "UPDATE_ROUTINE"),
        (NEW_OFFER, "ㅇㅇ", "GENERATE_ROUTINE"),
        (EXPLAIN_OFFER, "ㅇㅇ", "CHAT_RESPONSE"),
        ("Would you like me to drop the leg curls from Leg Day A?", "yeah sure", "UPDATE_ROUTINE"),
        ("I can design you a new 8-week strength program. Want that?", "yeah sure", "GENERATE_ROUTINE"),
    ],
)
def test_the_same_reply_routes_by_what_came_before(llm, offer, reply, intent):
    decision = llm._router.route(convo("어깨가 좀 아파", offer, reply))
    assert decision.intent == intent and decision.confidence >= 0.55
    alone = llm._router.route(convo(reply))  # alone, it means nothing: the graph asks
    assert alone.intent == "CLARIFY" or alone.confidence < 0.55


def test_a_dependent_reply_looks_up_the_exercises_the_offer_named(llm):
    decision = llm._router.route(convo("벤치할 때 어깨가 아파", SWAP_OFFER, "응 그걸로 바꿔줘"))
    assert decision.intent == "UPDATE_ROUTINE"
    assert {"바벨 벤치프레스", "덤벨 벤치프레스"} <= set(decision.search_terms)
    assert "그걸" not in decision.search_terms


class CountingEmbeddings:
    """The real e5 embeddings, counting how many texts each call embeds."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[int] = []

    def embed_queries(self, texts):
        self.calls.append(len(texts))
        return self.inner.embed_queries(texts)


def test_trained_once_per_process_and_deterministic(prompts, embeddings):
    examples = prompts.routing_examples()
    counting = CountingEmbeddings(embeddings)
    first, second = IntentRouter(examples, counting), IntentRouter(examples, embeddings)
    conversation = convo(CHOICE_KO, "뒤에 걸로 할게")
    decisions = [first.route(conversation) for _ in range(3)]
    assert counting.calls == [len(examples), 1, 1, 1]  # the examples once, then one message per request
    assert decisions[0] == decisions[1] == decisions[2] == second.route(conversation)
    width = first._trained()._mean.shape[0]
    probe = np.linspace(-1, 1, width)[None, :]
    assert np.array_equal(first._trained().predict_proba(probe), second._trained().predict_proba(probe))
