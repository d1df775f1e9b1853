from __future__ import annotations

import shutil

import pytest
import yaml

from adapters.prompts import REQUIRED_VARIABLES, load_prompts
from core.errors import ConfigError
from tests.conftest import REPO


def test_all_prompts_load_with_examples_for_every_intent(prompts):
    intents = {e.intent for e in prompts.routing_examples()}
    assert intents == {"CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"}
    messages = [e.message for e in prompts.routing_examples()]
    assert any("\uac00" <= c <= "\ud7a3" for m in messages for c in m) and any(m.isascii() for m in messages)
    for name in REQUIRED_VARIABLES:
        assert getattr(prompts, name).variables() == REQUIRED_VARIABLES[name]


@pytest.fixture
def prompt_copy(tmp_path):
    target = tmp_path / "prompts"
    shutil.copytree(REPO / "prompts", target)
    return target


def edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_missing_key_names_file_and_key(prompt_copy):
    edit(prompt_copy / "chat_planner.yaml", lambda d: d.pop("system"))
    with pytest.raises(ConfigError, match=r"chat_planner\.yaml: system: missing key"):
        load_prompts(prompt_copy)


def test_missing_file_is_named(prompt_copy):
    (prompt_copy / "update_routine.yaml").unlink()
    with pytest.raises(ConfigError, match=r"update_routine\.yaml is missing"):
        load_prompts(prompt_copy)


def test_template_variables_are_checked(prompt_copy):
    edit(prompt_copy / "chat_response.yaml", lambda d: d.update(user="{conversation} only"))
    with pytest.raises(ConfigError, match=r"chat_response\.yaml.*missing \['catalog'"):
        load_prompts(prompt_copy)


def test_routing_examples_must_cover_every_intent(prompt_copy):
    edit(
        prompt_copy / "action_routing.yaml",
        lambda d: d.update(examples=[e for e in d["examples"] if e["intent"] != "CLARIFY"]),
    )
    with pytest.raises(ConfigError, match="missing \\['CLARIFY'\\]"):
        load_prompts(prompt_copy)


def test_broken_yaml_is_reported(prompt_copy):
    (prompt_copy / "action_routing.yaml").write_text("system: [unclosed")
    with pytest.raises(ConfigError, match=r"action_routing\.yaml is not valid YAML"):
        load_prompts(prompt_copy)
