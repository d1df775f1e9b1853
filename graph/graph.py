"""The whole flow of one request:

    START → route_intent ‖ plan_chat ‖ prefetch_context (the chat plan, routines and profile:
            made and fetched while routing)
    route_intent ─CHAT_RESPONSE→ gather_context → respond_chat ‖ remember   (unusable plan → clarify ‖ remember)
                 ─GENERATE_ROUTINE / UPDATE_ROUTINE→ gather_context → generate_routine | update_routine ‖ remember
                 ─CLARIFY (or unsure)→ clarify ‖ remember

`‖`: the same LangGraph superstep, run concurrently; the next superstep starts when all of them have
finished, so gather_context finds the plan and the prefetched context in the state. The planner
needs the conversation, not the route: chat waits for max(route, plan) instead of route + plan;
on other routes the plan is dropped (its usage still counts). `remember` (durable facts of the
user's message → memory) runs beside the answer, and the runner publishes the result as soon as
the answering node is done, without waiting for it. A node that raises before the answer is done
cancels its siblings; a redelivery overwrites stored facts (keys come from the requestId).
"""

from __future__ import annotations

from typing import get_args

from langgraph.graph import END, START, StateGraph

from graph.context import Context
from graph.edges import AfterGather, AfterRoute, after_gather, after_route
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

ANSWER_NODE = "respond_chat"  # the only node whose tokens reach the user as token events


def build_graph(context_schema: type[Context] = Context) -> StateGraph:
    builder = StateGraph(State, context_schema=context_schema, input_schema=RequestInput)
    builder.add_node(route_intent)
    builder.add_node(prefetch_context)
    builder.add_node(plan_chat)
    builder.add_node(gather_context)
    builder.add_node(respond_chat)
    builder.add_node(generate_routine)
    builder.add_node(update_routine)
    builder.add_node(clarify)
    builder.add_node(remember)

    builder.add_edge(START, "route_intent")
    builder.add_edge(START, "plan_chat")
    builder.add_edge(START, "prefetch_context")
    # Their results wait in the state for gather_context (the next superstep at the earliest).
    builder.add_edge("plan_chat", END)
    builder.add_edge("prefetch_context", END)
    # The targets are listed so the graph picture (and LangGraph Studio) shows every branch.
    builder.add_conditional_edges("route_intent", after_route, list(get_args(AfterRoute)))
    builder.add_conditional_edges("gather_context", after_gather, list(get_args(AfterGather)))
    for last in ("respond_chat", "generate_routine", "update_routine", "clarify", "remember"):
        builder.add_edge(last, END)
    return builder


# Exported for langgraph.json; no checkpointer: `langgraph dev` supplies its own.
graph = build_graph().compile(name="reppy_worker")
