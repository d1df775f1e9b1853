"""Offline chat answers: templates filled from the context that was actually gathered. Different
routines, memories, catalog hits or profiles give different answers; missing context is said."""

from __future__ import annotations

import re
from typing import Any

from adapters.llm.context_view import (
    exercise_name,
    last_performed,
    plan_line,
    todays_routine,
)
from adapters.llm.memory_age import said_ago, said_at
from adapters.llm.offline.asks import read_injuries
from adapters.llm.offline.text import fold
from core.catalog import loaded_muscles
from core.lang import is_korean
from core.names import MUSCLE_NAMES, muscle_name
from core.schemas import ChatPlan

GOAL_ADVICE = {
    "HYPERTROPHY": (
        "근비대가 목표라면 주요 운동은 8–12회 범위에서 세트당 1–3회 여유를 남기고, 세트 사이 60–90초 쉬어 주세요.",
        "For hypertrophy, keep main lifts in the 8–12 rep range, 1–3 reps short of failure, resting 60–90 s.",
    ),
    "STRENGTH": (
        "근력이 목표라면 주요 운동은 3–6회로 무겁게, 세트 사이 2–3분 충분히 쉬어 주세요.",
        "For strength, work heavy in the 3–6 rep range and rest 2–3 minutes between sets.",
    ),
    "FAT_LOSS": (
        "체지방 감량이 목표라면 10–15회 범위로 쉬는 시간을 짧게(45–60초) 가져가고, 식단 관리가 가장 중요해요.",
        "For fat loss, use 10–15 reps with short rests (45–60 s); your diet matters most.",
    ),
    "GENERAL_FITNESS": (
        "전반적인 체력이 목표라면 주 2–3회 전신 운동을 꾸준히 하는 게 가장 효과적이에요.",
        "For general fitness, two or three full-body sessions a week, done consistently, work best.",
    ),
}
# Topic answers for general questions, matched on the user's words.
TOPICS = [
    (
        r"쉬는\s*시간|휴식\s*시간|세트\s*사이|rest\s*between|between\s*sets|how\s*long.*rest",
        (
            "세트 사이 휴식은 무거운 복합 운동 2–3분, 보조 운동 60–90초가 기본이에요.",
            "Rest 2–3 minutes between sets of heavy compound lifts and 60–90 seconds for accessories.",
        ),
    ),
    (
        r"워밍업|웜업|준비\s*운동|warm[\s-]*up",
        (
            "워밍업은 5분 가볍게 몸을 데운 뒤, 첫 운동을 빈 봉이나 가벼운 무게로 2–3세트 올려 가며 하세요.",
            "Warm up with five easy minutes of movement, then two or three lighter ramp-up sets of your first lift.",
        ),
    ),
    (
        r"단백질|protein",
        (
            "단백질은 체중 1kg당 하루 1.6–2.2g을 3–4끼에 나눠 드세요.",
            "Aim for 1.6–2.2 g of protein per kg of body weight a day, split over 3–4 meals.",
        ),
    ),
    (
        r"식단|칼로리|다이어트|diet|calorie|meal",
        (
            "식단은 목표에 맞는 총 칼로리가 먼저예요. 감량이면 하루 300–500kcal 적게, 증량이면 200–300kcal 많이 드세요.",
            "Total calories come first: eat 300–500 kcal below maintenance to lose fat, 200–300 above to gain.",
        ),
    ),
    (
        r"수면|잠|sleep",
        (
            "회복에는 하루 7–9시간 수면이 가장 확실한 방법이에요.",
            "Seven to nine hours of sleep is the most reliable recovery tool you have.",
        ),
    ),
    (
        r"근육통|회복|휴식|soreness|doms|recover|rest day",
        (
            "근육통이 심한 부위는 하루 이틀 쉬고, 다른 부위를 가볍게 운동하거나 걷기로 혈류를 늘려 주세요.",
            "Let very sore muscles rest a day or two; train other parts lightly or walk to keep blood flowing.",
        ),
    ),
]
LEVEL_NAMES = {
    "BEGINNER": ("초급", "beginner"),
    "INTERMEDIATE": ("중급", "intermediate"),
    "ADVANCED": ("상급", "advanced"),
}
# The source each kind of answer is built on (and says so itself when it is missing).
ANSWERED_BY = {
    "GET_ACTIVE_ROUTINES": "active_routines",
    "SEARCH_EXERCISES": "exercise_catalog",
    "RECALL_MEMORY": "user_memory",
    "GENERAL_ADVICE": None,
}
SOURCE_NAMES = {
    "active_routines": ("루틴", "your routines"),
    "user_memory": ("이전 대화 기록", "what you told me before"),
    "exercise_catalog": ("운동 카탈로그", "the exercise catalog"),
    "profile": ("프로필", "your profile"),
}


def write_answer(conversation: list[dict[str, str]], plan: ChatPlan, context: dict[str, Any]) -> str:
    message = conversation[-1]["content"]
    ko = is_korean(message)
    writer = {
        "GET_ACTIVE_ROUTINES": _today,
        "SEARCH_EXERCISES": _exercises,
        "RECALL_MEMORY": _recall,
        "GENERAL_ADVICE": _advice,
    }[plan.action]
    memories = context.get("user_memory") or []
    injuries = read_injuries([message, *(m["text"] for m in memories if plan.action != "RECALL_MEMORY")])
    # Pain first: safety, and why, before anything else the answer says.
    parts = [_safety(ko, injuries, context)] if injuries else []
    if not (plan.action == "SEARCH_EXERCISES" and read_injuries([message])):  # the safety part answers it
        parts.append(writer(ko, plan, context, message))
    if plan.action != "GENERAL_ADVICE":
        parts += _topics(message, ko)
    if memories and plan.action != "RECALL_MEMORY":
        note, ago = memories[0]["text"], _ago(memories[0], ko)
        parts.append(
            f'참고로 {ago or "전에"} "{note}"라고 하셨죠. 통증이 있으면 무게를 낮추고 무리하지 마세요.'
            if ko
            else f'Keep in mind you told me{" " + ago if ago else ""}: "{note}". '
            "If it hurts, go lighter and don't push through pain."
        )
    # Sources this answer's own first line already said it could not load are not repeated.
    missing = [s for s in context.get("degraded") or [] if s in SOURCE_NAMES and s != ANSWERED_BY[plan.action]]
    if missing:
        names = ", ".join(SOURCE_NAMES[s][0 if ko else 1] for s in missing)
        parts.append(
            f"({names} 정보를 지금 불러오지 못해서 그 부분은 반영하지 못했어요.)"
            if ko
            else f"(I couldn't load {names} just now, so this answer leaves it out.)"
        )
    return "\n\n".join(p for p in parts if p)


def _topics(message: str, ko: bool) -> list[str]:
    return [lines[0 if ko else 1] for pattern, lines in TOPICS if re.search(pattern, message, re.IGNORECASE)]


def _safety(ko: bool, injuries: list, context: dict[str, Any]) -> str:
    """Why pain changes today's plan, what to leave out or lighten, what to do instead, when to stop."""
    hurt = {m for i in injuries for m in i.muscles}
    areas = ", ".join(dict.fromkeys(i.area for i in injuries))
    on_area = [i for i in context.get("exercise_catalog") or [] if loaded_muscles(i) & hurt]
    today = todays_routine(context.get("active_routines") or []) or {}
    loaded = {i["exercise_code"] for i in on_area}
    risky = [p for p in today.get("plans", []) if p["exercise_code"] in loaded]
    risky = risky or [i for i in on_area if i.get("equipment") == "BARBELL"][:3]
    shown = {p["exercise_code"] for p in risky}
    lighter = [
        exercise_name(i, ko) for i in on_area if i.get("equipment") != "BARBELL" and i["exercise_code"] not in shown
    ]
    risky, lighter = [exercise_name(p, ko) for p in risky], lighter[:2]
    if ko:
        lines = [f"{areas} 통증이 있다면 안전이 먼저예요. 아픈 부위에 무게를 실으면 부상이 더 심해질 수 있거든요."]
        if risky:
            lines.append(f"• {', '.join(risky)}: 오늘은 빼거나 평소의 절반 이하 무게로, 통증 없는 범위에서만 하세요.")
        if lighter:
            lines.append(f"• 통증이 없을 때만, 가벼운 무게로: {', '.join(lighter)}.")
        lines.append(
            "• 날카로운 통증이 느껴지면 바로 멈추고, 며칠 넘게 계속되면 전문의나 물리치료사에게 진료를 받아 보세요."
        )
    else:
        lines = [f"With pain in your {areas}, safety comes first: loading a hurt area can make the injury worse."]
        if risky:
            lines.append(f"• {', '.join(risky)}: skip them today or use half your usual weight, pain-free range only.")
        if lighter:
            lines.append(f"• Only if pain-free, lighter options: {', '.join(lighter)}.")
        lines.append("• Stop at any sharp pain, and see a doctor or physiotherapist if it lasts more than a few days.")
    return "\n".join(lines)


def _greeting(ko: bool, context: dict[str, Any]) -> str:
    name = (context.get("profile") or {}).get("username")
    if not name:
        return ""
    return f"{name}님, " if ko else f"{name}, "


def _today(ko: bool, plan: ChatPlan, context: dict[str, Any], message: str) -> str:
    routines = context.get("active_routines") or []
    if "active_routines" in (context.get("degraded") or []):
        return (
            "지금 루틴 정보를 불러오지 못했어요. 잠시 후 다시 물어봐 주세요."
            if ko
            else "I couldn't load your routines right now. Please ask me again in a moment."
        )
    today = todays_routine(routines)
    if today is None:
        return (
            '아직 활성화된 루틴이 없어요. "새 루틴 만들어줘"라고 말씀하시면 목표에 맞춰 짜 드릴게요.'
            if ko
            else 'You have no active routine yet. Say "make me a new routine" and I\'ll build one for your goal.'
        )
    lines = [f"{i}. {plan_line(p, ko)}" for i, p in enumerate(today.get("plans", []), 1)]
    previous = last_performed(routines)
    if ko:
        head = f"{_greeting(ko, context)}오늘은 {today['routine_name']} 차례예요!"
        if previous and previous is not today:
            head += f" 지난번에 {previous['routine_name']}({previous['last_performed_at']})를 하셨거든요."
        tail = (
            f"{exercise_name(today['plans'][0], ko)}부터 가벼운 무게로 워밍업 2세트 하고 시작해 볼까요?"
            if today.get("plans")
            else ""
        )
    else:
        head = f"{_greeting(ko, context)}today is {today['routine_name']}!"
        if previous and previous is not today:
            head += f" Last time you did {previous['routine_name']} ({previous['last_performed_at']})."
        tail = (
            f"Start with two light warm-up sets of {exercise_name(today['plans'][0], ko)}."
            if today.get("plans")
            else ""
        )
    return "\n".join([head, *lines, tail]).strip()


def _exercises(ko: bool, plan: ChatPlan, context: dict[str, Any], message: str) -> str:
    catalog = context.get("exercise_catalog") or []
    if "exercise_catalog" in (context.get("degraded") or []):
        return (
            "지금 운동 카탈로그를 불러오지 못해서 운동 정보를 확인할 수 없어요. 잠시 후 다시 물어봐 주세요."
            if ko
            else "I couldn't load the exercise catalog just now, so I can't look that exercise up. Please ask again in a moment."
        )
    if not catalog:
        terms = ", ".join(plan.search_terms)
        return (
            f"'{terms}'에 해당하는 운동을 카탈로그에서 찾지 못했어요. 운동 이름을 조금 다르게 말씀해 주시겠어요?"
            if ko
            else f"I couldn't find '{terms}' in the exercise catalog. Could you name the exercise differently?"
        )
    in_routines = {p["exercise_code"]: (r, p) for r in context.get("active_routines") or [] for p in r.get("plans", [])}
    lines = []
    for item in _best_matches(plan.search_terms, catalog):
        muscle = muscle_name(item.get("main_muscle_code"), ko) if item.get("main_muscle_code") else None
        equipment = str(item.get("equipment") or "").lower()
        if ko:
            shown, english = exercise_name(item, ko), item.get("name_en")
            line = f"• {shown}" + (f"({english})" if english and english != shown else "")
            line += f" — {muscle} 운동" if muscle else ""
            line += f", 장비: {equipment}." if equipment else "."
        else:
            line = f"• {exercise_name(item, ko)}" + (f" — a {muscle} exercise" if muscle else "")
            line += f", equipment: {equipment}." if equipment else "."
        if item["exercise_code"] in in_routines:
            routine, p = in_routines[item["exercise_code"]]
            line += (
                f" 지금 {routine['routine_name']}에 {plan_line(p, ko)}로 들어 있어요."
                if ko
                else f" It is in your {routine['routine_name']} as {plan_line(p, ko)}."
            )
        lines.append(line)
    head = "찾아본 운동이에요:" if ko else "Here is what I found:"
    if not any(_rank(t, item)[0] < 2 for t in plan.search_terms for item in catalog):
        terms = ", ".join(plan.search_terms)
        head = (
            f"'{terms}'은(는) 카탈로그에 없어요. 가장 비슷한 운동이에요:"
            if ko
            else f"'{terms}' is not in the exercise catalog; the closest ones are:"
        )
    tip = (
        "자세가 무너지기 전까지만 반복하고, 무게보다 가동 범위를 먼저 챙기세요."
        if ko
        else "Stop each set before your form breaks down, and own the full range of motion before adding weight."
    )
    return "\n".join([head, *lines, tip])


def _best_matches(terms: list[str], catalog: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """Catalog items in the order the user named them: exact names first, then the most words shared."""
    return sorted(catalog, key=lambda item: min(((_rank(t, item), p) for p, t in enumerate(terms)), default=0))[:limit]


def _rank(term: str, item: dict[str, Any]) -> tuple[int, int]:
    """(0: the term names the item, 1: it is part of a name or names its muscle, 2: neither;
    minus the words of the term found in its names)."""
    names = [fold(str(item.get(k, ""))) for k in ("name_ko", "name_en", "exercise_code")]
    names += [fold(a) for a in item.get("aliases", [])]
    muscle = item.get("main_muscle_code") or ""
    shared = -sum(any(fold(w) in n for n in names) for w in term.split())
    forms = {fold(term)} | ({fold(term)[:-1]} if term.isascii() and term.endswith("s") else set())  # "squats"
    muscles = (fold(muscle), *MUSCLE_NAMES.get(muscle, ()))
    rank = min(0 if f in names else 1 if any(f in n for n in names) or f in muscles else 2 for f in forms)
    return rank, shared


def _recall(ko: bool, plan: ChatPlan, context: dict[str, Any], message: str) -> str:
    memories = context.get("user_memory") or []
    if "user_memory" in (context.get("degraded") or []):
        return (
            "지금 이전 대화 기록을 불러오지 못했어요. 잠시 후 다시 물어봐 주세요."
            if ko
            else "I couldn't load what you told me before just now. Please ask again in a moment."
        )
    if not memories:
        return (
            "아직 기억해 둔 내용이 없어요. 부상이나 목표를 말씀해 주시면 다음 답변부터 반영할게요."
            if ko
            else "I don't have anything saved about you yet. Tell me about injuries or goals and I'll use them next time."
        )
    head = "전에 말씀해 주신 내용이에요:" if ko else "Here is what you told me before:"
    lines = [(m["text"], said_ago(said_at(m), ko)) for m in memories]
    return "\n".join([head, *(f"• {text} ({ago})" if ago else f"• {text}" for text, ago in lines)])


def _ago(memory: dict[str, Any], ko: bool) -> str | None:
    """ "3주 전에" / "3 weeks ago": when the fact was said, for the sentence that quotes it."""
    ago = said_ago(said_at(memory), ko)
    return f"{ago}에" if ko and ago and ago.endswith("전") else ago


def _advice(ko: bool, plan: ChatPlan, context: dict[str, Any], message: str) -> str:
    topics = _topics(message, ko)
    profile = context.get("profile") or {}
    goal = profile.get("goal") or "GENERAL_FITNESS"
    advice = GOAL_ADVICE.get(goal, GOAL_ADVICE["GENERAL_FITNESS"])[0 if ko else 1]
    level = LEVEL_NAMES.get(profile.get("experience_level", ""))
    days = profile.get("training_days_per_week")
    if ko:
        who = f"{_greeting(ko, context)}{level[0]} 단계" if level else _greeting(ko, context).rstrip(", ")
        extra = f", 주 {days}회 운동 기준으로" if days else ""
        return "\n".join([*topics, f"{who}{extra} 말씀드리면: {advice}".strip()])
    who = f"{_greeting(ko, context)}at the {level[1]} level" if level else _greeting(ko, context).rstrip(", ")
    extra = f" training {days} days a week" if days else ""
    return "\n".join([*topics, f"{who}{extra}: {advice}".strip()])
