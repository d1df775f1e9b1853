"""The routing eval: its labelled set, its arithmetic, the route_intent rules it reuses, the CLI, and
the accuracy the offline router must keep."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

import pytest

from adapters.llm.base import Generated
from app.evaluation import (
    DEFAULT_CASES,
    CaseResult,
    RoutingCase,
    evaluate_routing,
    format_report,
    load_cases,
    summarize,
)
from core.errors import LLMError, LLMMalformedOutput
from core.schemas import RouteDecision
from tests.conftest import REPO
from tests.test_cli import run_cli

HOLDOUT = REPO / "tests" / "eval" / "routing_holdout.yaml"
MIN_ACCURACY = 0.95


def normalised(text: str) -> str:
    """Case, width, spacing and punctuation do not make a message different."""
    text = unicodedata.normalize("NFKC", text).casefold()
    letters = re.sub(r"[\W_]+", "", text)
    return letters or "".join(sorted(set(text.split())))  # punctuation-only: its characters


def conversation_key(history, message: str) -> tuple[str, ...]:
    return (
        *tuple(normalised(t["content"] if isinstance(t, dict) else t.content) for t in history),
        normalised(message),
    )


@pytest.fixture(scope="module")
def cases():
    return load_cases(DEFAULT_CASES)


# --- the labelled set ---------------------------------------------------------------------------


def test_case_set_is_large_varied_and_multi_turn(cases):
    assert len(cases) >= 150
    assert Counter(c.expected for c in cases).keys() == {
        "CHAT_RESPONSE",
        "GENERATE_ROUTINE",
        "UPDATE_ROUTINE",
        "CLARIFY",
    }
    tags = Counter(t for c in cases for t in c.tags)
    assert all(tags[t] >= 5 for t in ("ko", "en", "mixed", "slang", "typo", "short")), tags
    multi = [c for c in cases if c.multi_turn]
    assert len(multi) >= 20
    # The history must matter: some identical replies expect different intents in different conversations.
    by_reply: dict[str, set[str]] = {}
    for c in multi:
        by_reply.setdefault(normalised(c.message), set()).add(c.expected)
    assert any(len(intents) > 1 for intents in by_reply.values())


@pytest.mark.parametrize("path", [DEFAULT_CASES, HOLDOUT], ids=["cases", "holdout"])
def test_eval_cases_are_disjoint_from_the_few_shot_examples(prompts, path):
    examples = prompts.routing_examples()
    example_messages = {normalised(e.message) for e in examples}
    example_conversations = {conversation_key(e.history, e.message) for e in examples}
    overlap = [
        c.id
        for c in load_cases(path)
        if normalised(c.message) in example_messages or conversation_key(c.history, c.message) in example_conversations
    ]
    assert overlap == []


def test_holdout_is_disjoint_from_the_main_set(cases):
    main = {normalised(c.message) for c in cases}
    assert [c.id for c in load_cases(HOLDOUT) if normalised(c.message) in main] == []


# --- what the offline router must reach -----------------------------------------------------------


async def test_offline_routing_accuracy(cases, llm, settings):
    report = await evaluate_routing(cases, llm, min_confidence=settings.ROUTER_MIN_CONFIDENCE)
    misrouted = "\n" + "\n".join(
        f"{m['id']} {m['message']!r}: {m['predicted']} ({m['confidence']})" for m in report.misrouted
    )
    assert report.accuracy >= MIN_ACCURACY, misrouted
    assert report.subsets["multi_turn"]["total"] >= 20
    assert report.subsets["multi_turn"]["accuracy"] >= MIN_ACCURACY, misrouted
    assert all(m["recall"] >= 0.9 for m in report.per_class.values()), report.per_class


# --- the harness itself -----------------------------------------------------------------------------


def result(case_id, expected, predicted, tags=(), history_turns=0):
    return CaseResult(
        id=case_id,
        message=case_id,
        history_turns=history_turns,
        tags=list(tags),
        expected=expected,
        predicted=predicted,
        proposed=predicted,
        confidence=0.9,
    )


def case(case_id, expected, history=()):
    return RoutingCase(id=case_id, message=case_id, expected=expected, history=list(history))


def test_summary_arithmetic():
    # 5 cases: CHAT 2/2 right, GENERATE 1 right + 1 routed to UPDATE, UPDATE 1 routed to CLARIFY.
    turn = {"role": "assistant", "content": "새 루틴을 만들까요?"}
    cases = [
        case("a", "CHAT_RESPONSE"),
        case("b", "CHAT_RESPONSE"),
        case("c", "GENERATE_ROUTINE", [turn]),
        case("d", "GENERATE_ROUTINE"),
        case("e", "UPDATE_ROUTINE", [turn]),
    ]
    results = [
        result("a", "CHAT_RESPONSE", "CHAT_RESPONSE", ["ko"]),
        result("b", "CHAT_RESPONSE", "CHAT_RESPONSE", ["en"]),
        result("c", "GENERATE_ROUTINE", "GENERATE_ROUTINE", ["ko"], 1),
        result("d", "GENERATE_ROUTINE", "UPDATE_ROUTINE", ["ko"]),
        result("e", "UPDATE_ROUTINE", "CLARIFY", ["en"], 1),
    ]
    report = summarize(results, cases, provider="t", cases_file="x", min_confidence=0.5, seconds=0)
    assert (report.total, report.correct, report.accuracy) == (5, 3, 0.6)
    assert report.subsets["multi_turn"] == {"total": 2, "correct": 1, "accuracy": 0.5}
    assert report.subsets["ko"] == {"total": 3, "correct": 2, "accuracy": 0.6667}
    assert report.per_class["GENERATE_ROUTINE"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "support": 2,
        "predicted": 1,
    }
    assert report.per_class["UPDATE_ROUTINE"]["precision"] == 0.0  # its one prediction was wrong
    assert report.per_class["CLARIFY"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 1}
    assert report.confusion["matrix"] == [[2, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert [m["id"] for m in report.misrouted] == ["d", "e"]
    text = format_report(report)
    assert "accuracy 0.600 (3/5)" in text and "d: 'd'" in text and "e: 'e' (+1 turns)" in text


class ScriptedRouter:
    """A provider whose route answers are fixed per message: the eval must apply the route_intent
    node's rules to them, not take them at face value."""

    name = "scripted"

    def __init__(self, answers):
        self.answers = answers
        self.seen: list[list[dict]] = []

    async def route(self, conversation):
        self.seen.append(conversation)
        answer = self.answers[conversation[-1]["content"]]
        if isinstance(answer, Exception):
            raise answer
        return Generated(RouteDecision(intent=answer[0], confidence=answer[1]))


async def test_eval_applies_the_route_intent_rules():
    router = ScriptedRouter(
        {
            "sure": ("UPDATE_ROUTINE", 0.9),
            "unsure": ("UPDATE_ROUTINE", 0.3),  # below min confidence → CLARIFY
            "garbled": LLMMalformedOutput("not JSON"),  # unparseable → CLARIFY
            "down": LLMError("model unavailable", retryable=True),  # counted as a wrong answer
        }
    )
    history = [{"role": "assistant", "content": "스쿼트를 5세트로 늘려 드릴까요?"}]
    cases = [
        RoutingCase(id=m, message=m, expected=e, history=history if m == "sure" else [])
        for m, e in [
            ("sure", "UPDATE_ROUTINE"),
            ("unsure", "CLARIFY"),
            ("garbled", "CLARIFY"),
            ("down", "CHAT_RESPONSE"),
        ]
    ]
    report = await evaluate_routing(cases, router, min_confidence=0.55)
    by_id = {c["id"]: c for c in report.cases}
    assert by_id["unsure"]["predicted"] == "CLARIFY" and by_id["unsure"]["proposed"] == "UPDATE_ROUTINE"
    assert by_id["garbled"]["predicted"] == "CLARIFY"
    assert by_id["down"]["predicted"] == "ERROR" and "model unavailable" in by_id["down"]["error"]
    assert report.correct == 3 and report.confusion["labels"][-1] == "ERROR"
    # The router saw the whole conversation, history first.
    assert next(c for c in router.seen if c[-1]["content"] == "sure") == [*history, {"role": "user", "content": "sure"}]


def test_bad_cases_file_names_the_case(tmp_path):
    path = tmp_path / "cases.yaml"
    path.write_text("cases:\n  - {id: x1, message: hi, expected: CHAT}\n", encoding="utf-8")
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"case x1: expected"):
        load_cases(path)


# --- the command ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_eval_command_prints_and_writes_the_report(tmp_path):
    cases_file = tmp_path / "cases.yaml"
    cases_file.write_text(
        "cases:\n"
        '  - {id: c1, message: "벤치프레스 그립 너비는 어느 정도가 좋아?", expected: CHAT_RESPONSE, tags: [ko]}\n'
        '  - {id: c2, message: "add two sets of dips to my push day", expected: UPDATE_ROUTINE, tags: [en]}\n'
        # Deliberately mislabelled: a plain question labelled as a new program.
        '  - {id: c3, message: "how do I keep my back flat when I row?", expected: GENERATE_ROUTINE}\n',
        encoding="utf-8",
    )
    report_path = tmp_path / "out" / "report.json"
    done = run_cli("eval", "routing", "--cases", str(cases_file), "--report", str(report_path))
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "accuracy 0.667 (2/3)" in out
    assert "confusion (rows expected, columns predicted)" in out and "misrouted: 1" in out
    assert "c3: 'how do I keep my back flat when I row?' expected GENERATE, got CHAT" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["provider"] == "offline" and report["total"] == 3
    assert [m["id"] for m in report["misrouted"]] == ["c3"]
    assert set(report["per_class"]) == {"CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"}
    failing = run_cli(
        "eval", "routing", "--cases", str(cases_file), "--report", str(report_path), "--fail-under", "0.9"
    )
    assert failing.returncode == 1 and b"below 0.9" in failing.stderr


@pytest.mark.integration
@pytest.mark.parametrize("args", [("eval", "routing", "--cases", "/nonexistent/cases.yaml"), ("eval", "typo-suite")])
def test_eval_command_rejects_unusable_arguments(args, tmp_path):
    done = run_cli(*args, "--report", str(tmp_path / "r.json"))
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr + done.stdout
