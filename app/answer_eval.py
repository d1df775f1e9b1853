"""`reppy-worker eval answers`: answer quality on whole requests, per category.

Each case of tests/eval/answer_cases.yaml runs through the runner and the whole graph with the chosen
model provider, the embedded VM API's demo data and a memory store of its own in RAM (seeded with
the case's `memory`). The result is judged by what it must and must not hold: safety first on pain,
advice for general questions, closest matches for a catalog miss, every stated constraint of a
program (checked against the demo catalog's own muscle and equipment codes), the change a
confirmation, a move or a unit-less number asks for. The report gives a pass rate per category.

    reppy-worker eval answers [--provider offline|gemini] [--cases FILE] [--report PATH]
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.catalog import is_full_body, movement
from core.errors import ConfigError
from core.settings import REPO_ROOT

DEFAULT_ANSWER_CASES = REPO_ROOT / "tests" / "eval" / "answer_cases.yaml"


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["SUCCEEDED", "CLARIFY", "FAILED"] = "SUCCEEDED"
    intent: str | None = None
    reply_first: list[str] = Field(default_factory=list)
    reply_all: list[list[str]] = Field(default_factory=list)
    reply_none: list[str] = Field(default_factory=list)
    program: dict[str, Any] | None = None
    update: dict[str, Any] | None = None


class AnswerCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    category: str = Field(min_length=1)
    message: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list)
    memory: list[str] = Field(default_factory=list)
    user: str = "user-67890"
    tags: list[str] = Field(default_factory=list)
    expect: Expect

    def request(self) -> dict[str, Any]:
        turns = [*self.history, self.message]
        roles = ["user", "assistant"] if len(turns) % 2 else ["assistant", "user"]
        history = [{"role": roles[i % 2], "content": t} for i, t in enumerate(turns)]
        return {"requestId": f"eval-{self.id}", "userId": self.user, "conversation_history": history, "stream": False}


@dataclass
class AnswerResult:
    id: str
    category: str
    tags: list[str]
    passed: bool
    problems: list[str] = field(default_factory=list)


def load_answer_cases(path: Path) -> list[AnswerCase]:
    try:
        raw = (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("cases")
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise ConfigError(f"answer cases file {path} is not readable YAML with a `cases:` list: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"answer cases file {path} must hold a non-empty `cases:` list")
    try:
        cases = [AnswerCase.model_validate(item) for item in raw]
    except ValidationError as exc:
        raise ConfigError(f"answer cases file {path}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
    if len({c.id for c in cases}) != len(cases):
        raise ConfigError(f"answer cases file {path}: duplicate case ids")
    return cases


def judge(case: AnswerCase, result: dict[str, Any], catalog: list[dict[str, Any]]) -> list[str]:
    """Why this result does not hold what the case expects (empty: it does)."""
    expect, problems = case.expect, []
    meta, final = result.get("meta") or {}, result.get("final") or {}
    if result.get("status") != expect.status:
        problems.append(f"status {result.get('status')} ({(result.get('error') or {}).get('message', '')})")
    if expect.intent and meta.get("intent") != expect.intent:
        problems.append(f"intent {meta.get('intent')}")
    reply = str(final.get("reply") or "")
    first = reply.split("\n\n")[0]
    if expect.reply_first and not any(w in first for w in expect.reply_first):
        problems.append(f"the first paragraph names none of {expect.reply_first}")
    problems += [f"the reply has none of {words}" for words in expect.reply_all if not any(w in reply for w in words)]
    problems += [f"the reply says {word!r}" for word in expect.reply_none if word in reply]
    if expect.program is not None:
        problems += _program_problems(final.get("program"), expect.program, catalog)
    if expect.update is not None:
        changes = (final.get("routine_update") or {}).get("changes") or []
        if not any(all(c.get(k) == v for k, v in expect.update.items()) for c in changes):
            problems.append(f"no change matches {expect.update}: {changes}")
    return problems


def _program_problems(program: dict | None, want: dict[str, Any], catalog: list[dict[str, Any]]) -> list[str]:
    if not program:
        return ["no program"]
    by_code = {i["exercise_code"]: i for i in catalog}
    problems = [
        f"{key} {program.get(key)}, asked {want[key]}"
        for key in ("days_per_week", "weeks", "goal")
        if key in want and program.get(key) != want[key]
    ]
    days = [[by_code.get(p["exercise_code"], {}) for p in r.get("plans", [])] for r in program.get("routines", [])]
    for day in days:
        moves = [movement(i) for i in day]
        if len(moves) != len(set(moves)):
            problems.append("near-duplicate exercises in one day")
    muscles = [{i.get("main_muscle_code") for i in day} for day in days]
    full_body = [is_full_body(m) for m in muscles]
    if want.get("split") == "FULL_BODY" and not all(full_body):
        problems.append("a day is not full body")
    if want.get("split") == "SPLIT" and all(full_body):
        problems.append("every day is full body")
    if "equipment" in want and (extra := {i.get("equipment") for d in days for i in d} - set(want["equipment"])):
        problems.append(f"uses {sorted(extra)}")
    for muscle in want.get("spares", []):
        if any(muscle in m for m in muscles):
            problems.append(f"loads {muscle}")
        if not any(muscle in a.get("muscles", []) for a in program.get("avoided", [])):
            problems.append(f"does not say it avoided {muscle}")
    return problems


class _Collector:
    """Keeps the result event; tokens are not judged."""

    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None

    async def emit_token(self, event) -> None:
        return None

    async def flush(self, request_id: str) -> None:
        return None

    def take_lost(self, request_id: str) -> int:
        return 0

    async def emit_result(self, event) -> None:
        self.result = event.model_dump(mode="json")


async def run_answer_cases(cases: list[AnswerCase], settings, llm) -> list[AnswerResult]:
    from adapters.memory.embeddings import shared_embeddings
    from adapters.memory.qdrant import QdrantMemory
    from adapters.vm_api.demo import demo_data
    from adapters.vm_api.embedded import EmbeddedVMApi
    from app.dependencies import build_dependencies
    from app.runner import handle

    catalog = demo_data()["exercises"]
    results = []
    for case in cases:  # one at a time: each case has its own memory store
        memory = QdrantMemory(collection="answer_eval", path=":memory:", embeddings=shared_embeddings())
        if case.memory:
            await memory.add(case.user, [(f"{case.id}-{n}", fact) for n, fact in enumerate(case.memory)])
        collector = _Collector()
        deps = build_dependencies(
            settings, llm=llm, vm=EmbeddedVMApi(), memory=memory, tokens=collector, results=collector
        )
        try:
            await handle(case.request(), deps)
        finally:
            await memory.aclose()
        problems = judge(case, collector.result or {}, catalog)
        results.append(AnswerResult(case.id, case.category, case.tags, not problems, problems))
    return results


def summarize_answers(results: list[AnswerResult], provider: str, seconds: float) -> dict[str, Any]:
    def rate(group: list[AnswerResult]) -> dict[str, Any]:
        passed = sum(r.passed for r in group)
        return {"passed": passed, "total": len(group), "rate": round(passed / len(group), 4) if group else None}

    categories = sorted({r.category for r in results})
    return {
        "provider": provider,
        "overall": rate(results),
        "categories": {c: rate([r for r in results if r.category == c]) for c in categories},
        "languages": {t: rate([r for r in results if t in r.tags]) for t in ("ko", "en")},
        "failed": [asdict(r) for r in results if not r.passed],
        "seconds": round(seconds, 2),
    }


def format_answers(report: dict[str, Any]) -> str:
    overall = report["overall"]
    lines = [
        f"answers eval · provider {report['provider']} · {overall['total']} cases · {report['seconds']:g}s",
        f"pass rate {overall['rate']:.3f} ({overall['passed']}/{overall['total']})",
        "",
        "category            pass rate   n",
    ]
    for name, group in [*report["categories"].items(), *report["languages"].items()]:
        lines.append(f"  {name:<17} {group['rate']:.3f} {group['total']:>5}")
    lines += ["", f"failed: {len(report['failed'])}"]
    lines += [f"  {f['id']}: {'; '.join(f['problems'])}" for f in report["failed"]]
    return "\n".join(lines)


async def evaluate_answers(cases: list[AnswerCase], settings, llm) -> dict[str, Any]:
    started = time.perf_counter()
    results = await run_answer_cases(cases, settings, llm)
    return summarize_answers(results, getattr(llm, "name", type(llm).__name__), time.perf_counter() - started)


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
