"""The whole flow of one request:

    route_intent ─CHAT_RESPONSE→ plan_chat → gather_context → respond_chat
                 ─GENERATE_ROUTINE / UPDATE_ROUTINE→ gather_context → generate_routine | update_routine
                 ─CLARIFY (or unsure)→ clarify            plan_chat ─unusable plan→ clarify
    respond_chat | generate_routine | update_routine | clarify → remember (durable facts → memory)

A failing node raises, so remember only runs after an answer was made.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graph.context import Context
from graph.edges import after_gather, after_plan, after_route
from graph.state import RequestInput, State
from nodes.clarify import clarify
from nodes.gather_context import gather_context
from nodes.generate_routine import generate_routine
from nodes.plan_chat import plan_chat
from nodes.remember import remember
from nodes.respond_chat import respond_chat
from nodes.route_intent import route_intent
from nodes.update_routine import update_routine

ANSWER_NODE = "respond_chat"  # the only node whose tokens reach the user as token events


def build_graph() -> StateGraph:
    builder = StateGraph(State, context_schema=Context, input_schema=RequestInput)
    builder.add_node(route_intent)
    builder.add_node(plan_chat)
    builder.add_node(gather_context)
    builder.add_node(respond_chat)
    builder.add_node(generate_routine)
    builder.add_node(update_routine)
    builder.add_node(clarify)
    builder.add_node(remember)

    builder.add_edge(START, "route_intent")
    builder.add_conditional_edges("route_intent", after_route)
    builder.add_conditional_edges("plan_chat", after_plan)
    builder.add_conditional_edges("gather_context", after_gather)
    for answered in ("respond_chat", "generate_routine", "update_routine", "clarify"):
        builder.add_edge(answered, "remember")
    builder.add_edge("remember", END)
    return builder


# Exported for langgraph.json; no checkpointer: `langgraph dev` supplies its own.
graph = build_graph().compile(name="reppy_worker")
