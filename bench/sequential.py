"""The baseline the bench compares chat with, in the same run: the seed's order, the planner after
the router (route → plan → gather → answer), built from the very same nodes. Only the bench uses it."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graph.context import Context
from graph.edges import after_gather, after_route
from graph.state import RequestInput, State
from nodes.clarify import clarify
from nodes.gather_context import gather_context
from nodes.generate_routine import generate_routine
from nodes.plan_chat import plan_chat
from nodes.prefetch_context import prefetch_context
from nodes.remember import remember
from nodes.respond_chat import respond_chat
from nodes.route_intent import route_intent
from nodes.update_routine import update_routine


def _plan_after_route(state: State) -> list[str]:
    return ["plan_chat"] if state["route"]["intent"] == "CHAT_RESPONSE" else after_route(state)


def sequential_graph():
    builder = StateGraph(State, context_schema=Context, input_schema=RequestInput)
    for node in (route_intent, prefetch_context, plan_chat, gather_context, respond_chat):
        builder.add_node(node)
    for node in (generate_routine, update_routine, clarify, remember):
        builder.add_node(node)
    builder.add_edge(START, "route_intent")
    builder.add_edge(START, "prefetch_context")
    builder.add_edge("prefetch_context", END)
    builder.add_conditional_edges("route_intent", _plan_after_route)
    builder.add_edge("plan_chat", "gather_context")
    builder.add_conditional_edges("gather_context", after_gather)
    for last in ("respond_chat", "generate_routine", "update_routine", "clarify", "remember"):
        builder.add_edge(last, END)
    return builder.compile(name="reppy_worker_sequential")
