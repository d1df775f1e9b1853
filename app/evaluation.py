"""`reppy-worker eval routing`: measure the router on a labelled set of conversations.

Every case goes through the real `route_intent` node — the provider's `route` plus the node's own
rules (min confidence → CLARIFY, unparseable output → CLARIFY) — so the number reported is the
intent the graph would act on, not the provider's raw guess. Nothing else of the graph runs.

    reppy-worker eval routing [--provider offline|gemini] [--cases FILE] [--report PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.contracts import Intent, Message
from core.errors import ConfigError, WorkerError
from core.settings import REPO_ROOT

INTENTS = ("CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY")
DEFAULT_CASES = REPO_ROOT / "tests" / "eval" / "routing_cases.yaml"
DEFAULT_REPORT = Path("routing_eval_report.json")
TAG_SUBSETS = ("ko", "en", "mixed", "slang", "typo", "short")
CONCURRENCY = 4  # a remote model answers several cases at once; the offline one serialises itself


class RoutingCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    message: str = Field(min_length=1)
    expected: Intent
    history: list[Message] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @property
    def multi_turn(self) -> bool:
        return bool(self.history)

    def conversation(self) -> list[dict[str, str]]:
        return [*(t.model_dump() for t in self.history), {"role": "user", "content": self.message}]


@dataclass
class CaseResult:
    id: str
    message: str
    history_turns: int
    tags: list[str]
    expected: str
    predicted: str  # what the graph would act on: an intent, or ERROR when the provider failed
    proposed: str | None  # the provider's own choice before the confidence rule
    confidence: float | None
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.predicted == self.expected


@dataclass
class RoutingReport:
    provider: str
    cases_file: str
    min_confidence: float
    total: int
    correct: int
    accuracy: float
    subsets: dict[str, dict[str, Any]]
    per_class: dict[str, dict[str, Any]]
    confusion: dict[str, Any]
    misrouted: list[dict[str, Any]]
    seconds: float
    cases: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def load_cases(path: Path) -> list[RoutingCase]:
    """The labelled cases of a YAML file ({cases: [...]}); a broken file names the case and field."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"routing cases file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"routing cases file {path} is not valid YAML: {exc}") from None
    raw = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"routing cases file {path} must hold a non-empty `cases:` list")
    cases = []
    for index, item in enumerate(raw):
        try:
            cases.append(RoutingCase.model_validate(item))
        except ValidationError as exc:
            where = item.get("id", f"#{index}") if isinstance(item, dict) else f"#{index}"
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise ConfigError(f"routing cases file {path}, case {where}: {problems}") from None
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise ConfigError(f"routing cases file {path}: duplicate case id {case.id}")
        seen.add(case.id)
    return cases


async def route_cases(cases: list[RoutingCase], llm, min_confidence: float) -> list[CaseResult]:
    """Route every case through the route_intent node (its rules included), a few at a time."""
    from langgraph.runtime import Runtime

    from graph.context import Context
    from nodes.route_intent import route_intent

    # Routing touches only the model; the other adapters are never called.
    runtime = Runtime(
        context=Context(
            llm=llm, vm=None, memory=None, min_confidence=min_confidence, catalog_max_searches=1, memory_top_k=1
        )
    )
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(case: RoutingCase) -> CaseResult:
        base = dict(
            id=case.id, message=case.message, history_turns=len(case.history), tags=case.tags, expected=case.expected
        )
        async with gate:
            try:
                update = await route_intent({"conversation_history": case.conversation()}, runtime)
            except WorkerError as exc:  # a failing remote model is a wrong answer, not a crashed eval
                return CaseResult(
                    **base, predicted="ERROR", proposed=None, confidence=None, error=f"{exc.code}: {exc.message}"
                )
        route = update["route"]
        return CaseResult(
            **base, predicted=route["intent"], proposed=route.get("proposed"), confidence=route.get("confidence")
        )

    return list(await asyncio.gather(*(one(c) for c in cases)))


def summarize(
    results: list[CaseResult],
    cases: list[RoutingCase],
    *,
    provider: str,
    cases_file: str,
    min_confidence: float,
    seconds: float,
) -> RoutingReport:
    by_id = {c.id: c for c in cases}
    subsets = {
        "multi_turn": _accuracy([r for r in results if by_id[r.id].multi_turn]),
        "single_turn": _accuracy([r for r in results if not by_id[r.id].multi_turn]),
    }
    for tag in TAG_SUBSETS:
        subsets[tag] = _accuracy([r for r in results if tag in r.tags])
    predicted_labels = list(INTENTS) + (["ERROR"] if any(r.predicted == "ERROR" for r in results) else [])
    matrix = [
        [sum(1 for r in results if r.expected == e and r.predicted == p) for p in predicted_labels] for e in INTENTS
    ]
    per_class = {}
    for intent in INTENTS:
        tp = sum(1 for r in results if r.expected == intent and r.predicted == intent)
        predicted = sum(1 for r in results if r.predicted == intent)
        support = sum(1 for r in results if r.expected == intent)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[intent] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
            "predicted": predicted,
        }
    overall = _accuracy(results)
    return RoutingReport(
        provider=provider,
        cases_file=cases_file,
        min_confidence=min_confidence,
        total=overall["total"],
        correct=overall["correct"],
        accuracy=overall["accuracy"],
        subsets=subsets,
        per_class=per_class,
        confusion={
            "rows": "expected",
            "columns": "predicted",
            "labels": predicted_labels,
            "expected_labels": list(INTENTS),
            "matrix": matrix,
        },
        misrouted=[asdict(r) for r in results if not r.correct],
        seconds=round(seconds, 2),
        cases=[asdict(r) for r in results],
    )


def _accuracy(results: list[CaseResult]) -> dict[str, Any]:
    correct = sum(1 for r in results if r.correct)
    return {
        "total": len(results),
        "correct": correct,
        "accuracy": round(correct / len(results), 4) if results else None,
    }


async def evaluate_routing(
    cases: list[RoutingCase], llm, *, min_confidence: float, cases_file: str = ""
) -> RoutingReport:
    started = time.perf_counter()
    results = await route_cases(cases, llm, min_confidence)
    return summarize(
        results,
        cases,
        provider=getattr(llm, "name", type(llm).__name__),
        cases_file=cases_file,
        min_confidence=min_confidence,
        seconds=time.perf_counter() - started,
    )


def format_report(report: RoutingReport) -> str:
    short = {
        "CHAT_RESPONSE": "CHAT",
        "GENERATE_ROUTINE": "GENERATE",
        "UPDATE_ROUTINE": "UPDATE",
        "CLARIFY": "CLARIFY",
        "ERROR": "ERROR",
    }
    lines = [
        f"routing eval · provider {report.provider} · {report.total} cases · "
        f"min confidence {report.min_confidence:g} · {report.seconds:g}s",
        f"accuracy {report.accuracy:.3f} ({report.correct}/{report.total})",
        "",
    ]
    lines.append("subset          accuracy   n")
    for name, sub in report.subsets.items():
        if sub["total"]:
            lines.append(f"  {name:<13} {sub['accuracy']:.3f} {sub['total']:>5}")
    lines += ["", "class       precision  recall     f1  support"]
    for intent, m in report.per_class.items():
        lines.append(
            f"  {short[intent]:<9} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}"
        )
    labels = report.confusion["labels"]
    lines += [
        "",
        "confusion (rows expected, columns predicted)",
        "  " + " " * 10 + "".join(f"{short[label]:>10}" for label in labels),
    ]
    for intent, row in zip(report.confusion["expected_labels"], report.confusion["matrix"], strict=False):
        lines.append(f"  {short[intent]:<10}" + "".join(f"{n:>10}" for n in row))
    lines += ["", f"misrouted: {len(report.misrouted)}"]
    for miss in report.misrouted:
        turns = f" (+{miss['history_turns']} turns)" if miss["history_turns"] else ""
        confidence = f"{miss['confidence']:.2f}" if miss["confidence"] is not None else "-"
        lines.append(
            f"  {miss['id']}: {miss['message']!r}{turns} expected {short[miss['expected']]},"
            f" got {short[miss['predicted']]} (proposed {miss['proposed']}, confidence {confidence})"
            + (f" {miss['error']}" if miss["error"] else "")
        )
    return "\n".join(lines)


def eval_command(argv: list[str]) -> int:
    """The `eval` sub-command. Exit codes: 0 ran (and met --fail-under), 1 below --fail-under,
    2 unusable arguments, cases or configuration."""
    parser = argparse.ArgumentParser(prog="reppy-worker eval", description="Measure the worker's answer quality.")
    parser.add_argument(
        "suite", choices=["routing", "answers"], help="what to measure: intents, or whole answers per category"
    )
    parser.add_argument(
        "--provider",
        choices=["offline", "gemini"],
        help="model provider (default: LLM_PROVIDER, resolved as for requests)",
    )
    parser.add_argument("--cases", type=Path, help="labelled cases (YAML; default: the suite's own)")
    parser.add_argument(
        "--report", type=Path, help="where to write the JSON report (default: <suite>_eval_report.json)"
    )
    parser.add_argument(
        "--fail-under", type=float, metavar="ACCURACY", help="exit 1 when the overall accuracy is below this"
    )
    args = parser.parse_args(argv)

    from app.command_settings import load_settings

    settings = load_settings(llm_provider=args.provider)
    if settings is None:
        return 2
    if args.suite == "answers":
        return _answers(args, settings)
    args.cases, args.report = args.cases or DEFAULT_CASES, args.report or DEFAULT_REPORT
    try:
        cases = load_cases(args.cases)
        llm = _model_provider(settings)
    except WorkerError as exc:
        print(f"reppy-worker eval: {exc.message}", file=sys.stderr)
        return 2
    report = asyncio.run(
        evaluate_routing(cases, llm, min_confidence=settings.ROUTER_MIN_CONFIDENCE, cases_file=str(args.cases))
    )
    print(format_report(report))
    try:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report.to_json() + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"reppy-worker eval: cannot write the report to {args.report}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"\nreport written to {args.report}")
    if args.fail_under is not None and report.accuracy < args.fail_under:
        print(f"reppy-worker eval: accuracy {report.accuracy:.3f} is below {args.fail_under:g}", file=sys.stderr)
        return 1
    return 0


def _answers(args, settings) -> int:
    """`eval answers`: whole requests per category (app/answer_eval.py); --fail-under on the overall rate."""
    from app import answer_eval

    try:
        cases = answer_eval.load_answer_cases(args.cases or answer_eval.DEFAULT_ANSWER_CASES)
        llm = _model_provider(settings)
    except WorkerError as exc:
        print(f"reppy-worker eval: {exc.message}", file=sys.stderr)
        return 2
    report = asyncio.run(answer_eval.evaluate_answers(cases, settings, llm))
    print(answer_eval.format_answers(report))
    path = args.report or Path("answers_eval_report.json")
    try:
        answer_eval.write_report(report, path)
    except OSError as exc:
        print(f"reppy-worker eval: cannot write the report to {path}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"\nreport written to {path}")
    return 1 if args.fail_under is not None and report["overall"]["rate"] < args.fail_under else 0


def _model_provider(settings):
    """The provider exactly as requests get it, from the composition root. Routing needs nothing
    else, so the other adapters are left out (no VM client, no Qdrant lock, no emitters)."""
    from app.dependencies import build_dependencies

    return build_dependencies(settings, vm=None, memory=None, tokens=None, results=None).llm
