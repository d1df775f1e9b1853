from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from core.settings import Settings


def test_defaults_are_local_and_keep_the_seeds_names(monkeypatch):
    settings = Settings(_env_file=None)
    assert settings.LLM_PROVIDER == "offline"
    assert settings.GEMINI_MODEL_ROUTER == "gemini-3.5-flash-lite"
    assert settings.GEMINI_MODEL_MAIN == "gemini-3.8-flash"
    assert str(settings.PROMPTS_DIR) == "prompts"
    assert settings.QDRANT_COLLECTION_MEMORY == "user_memory"
    # Unset URLs mean the embedded VM API and Qdrant local mode, never a remote default.
    assert settings.VM_INTERNAL_BASE_URL is None and settings.QDRANT_URL is None
    assert (settings.prompts_dir() / "action_routing.yaml").is_file()


def test_key_selects_gemini_and_stays_secret(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-secret-value")
    monkeypatch.setenv("VM_INTERNAL_TOKEN", "vm-test-secret-value")
    settings = Settings(_env_file=None)
    assert settings.LLM_PROVIDER == "gemini"
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "AIza-test-secret-value" not in shown and "vm-test-secret-value" not in shown


def test_explicit_provider_wins(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    assert Settings(_env_file=None).LLM_PROVIDER == "offline"


def test_env_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("VM_INTERNAL_BASE_URL=http://127.0.0.1:9/internal\nLOG_LEVEL=DEBUG\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.VM_INTERNAL_BASE_URL == "http://127.0.0.1:9/internal" and settings.LOG_LEVEL == "DEBUG"


def test_no_default_points_at_a_private_or_remote_address():
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, str) and "://" in default:
            host = urlsplit(default).hostname or ""
            try:
                assert ipaddress.ip_address(host).is_loopback, name
            except ValueError:
                assert host == "localhost", name
