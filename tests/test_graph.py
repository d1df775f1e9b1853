"""The graph's structure: one StateGraph, the four routes, no checkpointer baked in."""

from __future__ import annotations

import pytest

from graph.edges import after_gather, after_plan, after_route
from graph.graph import ANSWER_NODE, graph


def test_graph_structure(snapshot):
    assert graph.get_graph().draw_mermaid() == snapshot


def test_graph_has_no_checkpointer():
    assert graph.checkpointer is None  # `langgraph dev` and the runner bring their own (or none)


@pytest.mark.parametrize("intent, node", [
    ("CHAT_RESPONSE", "plan_chat"), ("GENERATE_ROUTINE", "gather_context"),
    ("UPDATE_ROUTINE", "gather_context"), ("CLARIFY", "clarify"),
])
def test_after_route(intent, node):
    assert after_route({"route": {"intent": intent}}) == node


def test_after_plan():
    assert after_plan({"plan": {"action": "GENERAL_ADVICE"}}) == "gather_context"
    assert after_plan({"plan": None}) == "clarify"


@pytest.mark.parametrize("intent, node", [
    ("CHAT_RESPONSE", "respond_chat"), ("GENERATE_ROUTINE", "generate_routine"),
    ("UPDATE_ROUTINE", "update_routine"),
])
def test_after_gather(intent, node):
    assert after_gather({"route": {"intent": intent}}) == node


def test_answer_node_is_a_node():
    assert ANSWER_NODE in graph.get_graph().nodes
