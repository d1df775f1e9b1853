"""The graph's structure: one StateGraph, the four routes, no checkpointer baked in."""

from __future__ import annotations

import re

import pytest

from graph.edges import after_gather, after_route
from graph.graph import ANSWER_NODE, graph
from tests.conftest import REPO, request


def test_graph_structure(snapshot):
    assert graph.get_graph().draw_mermaid() == snapshot


def test_graph_has_no_checkpointer():
    assert graph.checkpointer is None  # `langgraph dev` and the runner bring their own (or none)


@pytest.mark.parametrize(
    "intent, nodes",
    [
        ("CHAT_RESPONSE", ["gather_context"]),
        ("GENERATE_ROUTINE", ["gather_context"]),
        ("UPDATE_ROUTINE", ["gather_context"]),
        ("CLARIFY", ["clarify", "remember"]),
    ],
)
def test_after_route(intent, nodes):
    assert after_route({"route": {"intent": intent}}) == nodes


def test_an_unusable_chat_plan_asks_instead_of_answering():
    chat = {"intent": "CHAT_RESPONSE"}
    assert after_gather({"route": chat, "plan": None}) == ["clarify", "remember"]
    assert after_gather({"route": chat, "plan": {"action": "GENERAL_ADVICE"}}) == ["respond_chat", "remember"]


@pytest.mark.parametrize(
    "intent, node",
    [
        ("CHAT_RESPONSE", "respond_chat"),
        ("GENERATE_ROUTINE", "generate_routine"),
        ("UPDATE_ROUTINE", "update_routine"),
    ],
)
def test_after_gather_answers_and_remembers_side_by_side(intent, node):
    assert after_gather({"route": {"intent": intent}, "plan": {"action": "GENERAL_ADVICE"}}) == [node, "remember"]


async def supersteps(message: str, context) -> list[set[str]]:
    """The nodes of each superstep of a real run (offline provider), in order."""
    steps: dict[int, set[str]] = {}
    async for event in graph.astream(request(message), context=context, stream_mode="debug"):
        if event["type"] == "task":
            steps.setdefault(event["step"], set()).add(event["payload"]["name"])
    return [steps[step] for step in sorted(steps)]


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "오늘 운동 뭐 해야 돼?",
            [{"route_intent", "plan_chat", "prefetch_context"}, {"gather_context"}, {"respond_chat", "remember"}],
        ),
        (
            "새 4주 근비대 프로그램 만들어줘",
            [{"route_intent", "plan_chat", "prefetch_context"}, {"gather_context"}, {"generate_routine", "remember"}],
        ),
        (
            "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘",
            [{"route_intent", "plan_chat", "prefetch_context"}, {"gather_context"}, {"update_routine", "remember"}],
        ),
        ("음…", [{"route_intent", "plan_chat", "prefetch_context"}, {"clarify", "remember"}]),
    ],
)
async def test_plan_and_context_are_made_while_routing_and_memory_written_beside_the_answer(message, expected, context):
    """What keeps model calls and I/O off the critical path: plan_chat and prefetch_context run in
    route_intent's superstep, and remember in the answer's (a superstep's nodes run concurrently)."""
    assert await supersteps(message, context) == expected


def test_answer_node_is_a_node():
    assert ANSWER_NODE in graph.get_graph().nodes


def _readme_edges() -> set[tuple[str, str]]:
    """Edges of the first mermaid picture in README.md, with START/END as LangGraph names them."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)
    arrow = re.compile(r"^\s*(\w+)(?:\(\[[^\]]*\]\))?\s*(?:--\s[^>]*?\s-->|-->|-\.->)\s*(\w+)")
    names = {"START": "__start__", "END": "__end__"}
    edges = set()
    for line in block.splitlines():
        if match := arrow.match(line):
            source, target = match.groups()
            edges.add((names.get(source, source), names.get(target, target)))
    return edges


def test_readme_picture_matches_the_graph():
    actual = {(e.source, e.target) for e in graph.get_graph().edges}
    assert _readme_edges() == actual
