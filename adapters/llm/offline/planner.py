"""Offline chat planning: decide from the words of the message which context the answer needs."""

from __future__ import annotations

import re

from adapters.llm.offline.asks import read_injuries
from adapters.llm.offline.cues import EXERCISE, MUSCLE
from adapters.llm.offline.text import search_terms
from core.schemas import ChatPlan

ROUTINE_CUES = re.compile(
    r"오늘|내일|루틴|순서|차례|스케줄|일정|today|tomorrow|routine|my plan|schedule|session|next workout",
    re.IGNORECASE,
)
MEMORY_CUES = re.compile(r"기억|말했|얘기했|전에 말|remember|told you|i said|recall", re.IGNORECASE)
ADVICE_CUES = re.compile(
    r"단백질|식단|칼로리|먹어|먹을|먹는|영양|수면|잠|휴식|회복|근육통|protein|diet|calorie|eat|meal|nutrition|"
    r"sleep|rest day|recover|soreness|doms",
    re.IGNORECASE,
)
INJURY_CUES = re.compile(r"아파|아픈|통증|부상|다쳤|다친|pain|hurt|injur|sore", re.IGNORECASE)


def plan_chat(message: str) -> ChatPlan:
    # Only words that name an exercise or a muscle are looked up: "rest", "between" are not.
    terms = [t for t in search_terms(message) if EXERCISE.search(t) or MUSCLE.search(t)]
    if injuries := read_injuries([message]):
        # Pain first: the hurt area's exercises (to go light or swap), today's routine, memory.
        terms = list(dict.fromkeys([m for i in injuries for m in i.muscles] + terms))[:8]
        context = ["exercise_catalog", "active_routines", "user_memory"]
        return ChatPlan(action="SEARCH_EXERCISES", required_context=context, search_terms=terms, memory_query=message)
    if MEMORY_CUES.search(message):
        return ChatPlan(action="RECALL_MEMORY", required_context=["user_memory", "profile"], memory_query=message)
    if ADVICE_CUES.search(message) and not INJURY_CUES.search(message):
        return ChatPlan(action="GENERAL_ADVICE", required_context=["profile", "user_memory"], memory_query=message)
    if ROUTINE_CUES.search(message) and not terms:
        return ChatPlan(
            action="GET_ACTIVE_ROUTINES",
            required_context=["active_routines", "user_memory", "profile"],
            memory_query="부상, 통증, 컨디션, injury, pain",
        )
    if terms:
        context = ["exercise_catalog", "active_routines", "user_memory"]
        return ChatPlan(
            action="SEARCH_EXERCISES",
            required_context=context,
            search_terms=terms,
            memory_query=message if INJURY_CUES.search(message) else " ".join(terms),
        )
    return ChatPlan(action="GENERAL_ADVICE", required_context=["profile", "user_memory"], memory_query=message)
