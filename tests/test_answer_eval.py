"""`reppy-worker eval answers`: its cases load, its judge fails what it should, and the offline
provider passes one case of every category end to end (the CLI prints a rate per category)."""

from __future__ import annotations

import json

import pytest
import yaml

from adapters.vm_api.demo import demo_data
from app.answer_eval import DEFAULT_ANSWER_CASES, AnswerCase, judge, load_answer_cases
from app.evaluation import eval_command
from core.errors import ConfigError

CATALOG = demo_data()["exercises"]


def case(**expect) -> AnswerCase:
    return AnswerCase(id="t", category="c", message="m", expect=expect)


def program(*days: list[str], **fields) -> dict:
    """A result's `final` holding a program of these days' exercise codes."""
    routines = [
        {"routine_name": f"D{n}", "routine_order": n, "plans": [{"exercise_code": c} for c in codes]}
        for n, codes in enumerate(days, 1)
    ]
    return {"program": {"days_per_week": len(days), "routines": routines, **fields}}


def result(final: dict, intent: str = "GENERATE_ROUTINE", status: str = "SUCCEEDED") -> dict:
    return {"status": status, "final": final, "meta": {"intent": intent}}


def test_the_case_set_covers_every_category_in_both_languages():
    cases = load_answer_cases(DEFAULT_ANSWER_CASES)
    categories = {c.category for c in cases}
    assert categories >= {
        "pain_chat",
        "pain_program",
        "general_advice",
        "catalog_miss",
        "constraints",
        "confirmation",
        "move",
        "unitless_number",
    }
    for category in categories:
        assert {"ko", "en"} & {t for c in cases if c.category == category for t in c.tags} == {"ko", "en"}, category


def test_a_broken_cases_file_is_a_config_error(tmp_path):
    path = tmp_path / "cases.yaml"
    path.write_text("cases:\n  - {id: a, category: x, message: hi, expect: {colour: red}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cases file"):
        load_answer_cases(path)


@pytest.mark.parametrize(
    "expect, final, problem",
    [
        ({"program": {}}, program(["BARBELL_BENCH_PRESS", "DUMBBELL_BENCH_PRESS"]), "near-duplicate"),
        ({"program": {"split": "FULL_BODY"}}, program(["BARBELL_BENCH_PRESS", "BARBELL_ROW"]), "not full body"),
        ({"program": {"equipment": ["DUMBBELL"]}}, program(["PULL_UP"]), "PULL_UP_BAR"),
        ({"program": {"spares": ["LEGS"]}}, program(["GOBLET_SQUAT"]), "loads LEGS"),
        ({"program": {"spares": ["LEGS"]}}, program(["PLANK"]), "does not say it avoided LEGS"),
        ({"program": {"weeks": 6}}, program(["PLANK"], weeks=4), "weeks 4, asked 6"),
        ({"reply_first": ["어깨"]}, {"reply": "오늘은 푸쉬데이예요.\n\n어깨가 아프면 쉬세요."}, "first paragraph"),
        ({"reply_none": ["catalog"]}, {"reply": "I couldn't find 'rest' in the catalog"}, "says 'catalog'"),
        ({"update": {"op": "move"}}, {"routine_update": {"changes": [{"op": "swap"}]}}, "no change matches"),
    ],
)
def test_the_judge_fails_what_it_should(expect, final, problem):
    problems = judge(case(**expect), result(final), CATALOG)
    assert any(problem in p for p in problems), problems


def test_the_judge_passes_a_good_program():
    good = program(["GOBLET_SQUAT", "DUMBBELL_BENCH_PRESS", "ONE_ARM_DUMBBELL_ROW"], weeks=6)
    expect = {"program": {"weeks": 6, "split": "FULL_BODY", "equipment": ["DUMBBELL"]}}
    assert judge(case(**expect), result(good), CATALOG) == []


def test_one_case_per_category_passes_offline_through_the_cli(tmp_path, capsys):
    cases = load_answer_cases(DEFAULT_ANSWER_CASES)
    firsts = list({c.category: c for c in reversed(cases)}.values())
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump({"cases": [c.model_dump() for c in firsts]}, allow_unicode=True), encoding="utf-8")
    report = tmp_path / "report.json"
    code = eval_command(
        ["answers", "--provider", "offline", "--cases", str(path), "--report", str(report), "--fail-under", "1"]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "pass rate 1.000" in printed and "pain_chat" in printed and "unitless_number" in printed
    assert json.loads(report.read_text())["categories"]["move"] == {"passed": 1, "total": 1, "rate": 1.0}
