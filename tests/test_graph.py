"""The graph's structure: one StateGraph, the four routes, no checkpointer baked in."""

from __future__ import annotations

import re

import pytest

from graph.edges import after_gather, after_plan, after_route
from graph.graph import ANSWER_NODE, graph
from tests.conftest import REPO


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
