"""The published JSON Schemas (docs/schemas/): generated from the pydantic models, committed, and
true of what the worker really reads and writes."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from app.cli import main as cli
from app.runner import handle
from core.errors import ERROR_CODES
from core.json_schemas import SCHEMAS, json_schema, schema_text
from tests.conftest import REPO, request

SCHEMA_DIR = REPO / "docs" / "schemas"


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_committed_schemas_match_the_models(name):
    committed = (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(name), (
        f"docs/schemas/{name}.schema.json is out of date: run `reppy-worker schema --write docs/schemas`"
    )
    Draft202012Validator.check_schema(json_schema(name))


def test_every_error_code_in_the_code_is_published():
    """A code raised anywhere (a class attribute, a code= argument, a literal error dict) is listed
    with its meaning and retryability, so the schema's enum and the docs cannot miss one."""
    pattern = re.compile(r"""(?:\bcode\s*=\s*|["']code["']\s*:\s*)["']([A-Z][A-Z_]+)["']""")
    found = set()
    for folder in ("core", "app", "adapters", "nodes", "graph"):
        for path in (REPO / folder).rglob("*.py"):
            found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    found |= set(pattern.findall((REPO / "func.py").read_text(encoding="utf-8")))
    assert found - set(ERROR_CODES) == set()
    assert {"LLM_EMPTY_OUTPUT", "TIMEOUT", "CANCELLED", "INTERNAL", "CONTEXT_MISSING"} <= found
    # docs/contracts.md lists each code with the registry's own meaning and retryability.
    documented = (REPO / "docs" / "contracts.md").read_text(encoding="utf-8")
    retry = {True: "yes", False: "no", None: "depends on the cause: `error.retryable` says"}
    rows = [f"| `{code}` | {info.meaning} | {retry[info.retryable]} |" for code, info in ERROR_CODES.items()]
    assert [row for row in rows if row not in documented] == []


@pytest.mark.parametrize(
    "message, status",
    [
        ("오늘 운동 뭐 해야 돼?", "SUCCEEDED"),
        ("벤치프레스 자세 알려줘", "SUCCEEDED"),
        ("주 4회 6주 근력 프로그램 짜줘", "SUCCEEDED"),
        ("푸쉬데이 벤치프레스 5세트로 늘려줘", "SUCCEEDED"),
        ("바꿔줘", "CLARIFY"),
        ("루틴", "CLARIFY"),
    ],
)
async def test_real_events_match_the_published_schemas(deps, events, message, status):
    outcome = await handle(request(message), deps)
    assert outcome.status == status
    results = validator("result-event")
    for result in events.results:
        body = json.loads(result.model_dump_json())
        assert not list(results.iter_errors(body)), [e.message for e in results.iter_errors(body)]
    tokens = validator("token-event")
    for token in events.tokens:
        tokens.validate(json.loads(token.model_dump_json()))


async def test_a_failed_result_matches_the_published_schema(deps, events):
    await handle({**request("hi", request_id="req-bad"), "conversation_history": []}, deps)
    (result,) = events.results
    body = json.loads(result.model_dump_json())
    validator("result-event").validate(body)
    with_unknown_code = {**body, "error": {**body["error"], "code": "SOMETHING_ELSE"}}
    assert not validator("result-event").is_valid(with_unknown_code)
    assert not validator("result-event").is_valid({**body, "final": {"reply": "x"}})  # FAILED has no final


def test_the_request_schema_reads_what_the_reader_reads():
    schema = validator("request")
    seed = request("오늘 운동 뭐 해야 돼?")
    for accepted in (
        seed,
        {**seed, "userId": 67890, "metadata": None, "stream": None, "createdAt": "2026-11-26"},
        {**seed, "conversation_history": [{"role": "user", "content": "hi", "timestamp": 1}]},
    ):
        assert schema.is_valid(accepted), accepted
    for rejected in (
        {k: v for k, v in seed.items() if k != "userId"},
        {**seed, "userId": "../admin"},
        {**seed, "stream": "yes"},
        {**seed, "conversation_history": []},
        {**seed, "conversation_history": [{"role": "robot", "content": "hi"}]},
    ):
        assert not schema.is_valid(rejected), rejected


def test_the_schema_command_prints_them(capsys):
    assert cli(["schema", "result-event"]) == 0
    assert capsys.readouterr().out == schema_text("result-event")
    assert cli(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == {name: json_schema(name) for name in SCHEMAS}
