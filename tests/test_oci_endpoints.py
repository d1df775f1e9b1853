"""Where the OCI calls go, through the real `oci` clients and signers against the local stand-in:
PutMessages to the queue's own messages endpoint (looked up with GetQueue when not given, once per
instance), and the Function's secrets read from OCI Vault with its resource principal."""

from __future__ import annotations

import logging

import pytest

from adapters.emit.oci_clients import oci_credentials, queue_client
from adapters.emit.oci_queue import QueueResultEmitter, ResultNotPublished
from app.dependencies import build_dependencies
from app.runner import handle
from app.secrets import settings_with_secrets
from core.contracts import ResultEvent
from core.errors import ConfigError
from tests.conftest import request
from tests.oci_fixtures import QUEUE_ID

pytestmark = pytest.mark.integration
TIMEOUT = (2.0, 5.0)
GOOGLE_SECRET = "ocid1.vaultsecret.oc1.iad.aaaaaaaagooglekey"
VM_SECRET = "ocid1.vaultsecret.oc1.iad.aaaaaaaavmtoken"


def result_settings(settings, config_file, standin, **extra):
    """The result queue without OCI_QUEUE_ENDPOINT: its control plane is the stand-in's."""
    return settings.model_copy(
        update={
            "OCI_AUTH": "config",
            "OCI_CONFIG_FILE": str(config_file),
            "OCI_RESULT_QUEUE_ID": QUEUE_ID,
            "OCI_QUEUE_ADMIN_ENDPOINT": standin.queue_admin_endpoint,
            "OCI_PUBLISH_RETRY_S": 1.0,
            **extra,
        }
    )


# -- the queue's messages endpoint ---------------------------------------------------------------


async def test_unset_queue_endpoint_is_looked_up_once_and_results_go_there(
    settings, llm, vm, memory, standin, oci_config_file, identity
):
    standin.add_queue(QUEUE_ID)
    deps = build_dependencies(result_settings(settings, oci_config_file, standin), llm=llm, vm=vm, memory=memory)
    for request_id in ("req-ep-1", "req-ep-2"):
        await handle(request("음…", request_id=request_id), deps)
    [lookup] = standin.calls_to("queue-admin")  # once per instance, not per result
    assert (lookup.status, lookup.host, lookup.path) == (200, "queue-admin", f"/20210201/queues/{QUEUE_ID}")
    assert lookup.key_id == identity.api_key_id  # signed and verified like every other call
    puts = standin.calls_to("queue")
    assert [(c.status, c.host) for c in puts] == [(200, "messages"), (200, "messages")]
    assert [e["requestId"] for e in standin.queue_events()] == ["req-ep-1", "req-ep-2"]


async def test_put_messages_sent_to_the_control_plane_host_is_refused(standin, oci_config_file):
    # What the SDK does with no endpoint: the region's host, i.e. the control plane.
    client = queue_client(
        oci_credentials("config", config_file=str(oci_config_file)), standin.queue_admin_endpoint, timeout=TIMEOUT
    )
    emitter = QueueResultEmitter(client, QUEUE_ID)
    with pytest.raises(ResultNotPublished):
        await emitter.emit_result(ResultEvent(requestId="req-wrong-host", status="CLARIFY", final={"reply": "?"}))
    [call] = standin.calls_to("queue")
    assert (call.status, call.host) == (404, "queue-admin") and standin.queue == []


def test_unknown_queue_is_a_config_error_naming_the_setting(settings, llm, vm, memory, standin, oci_config_file):
    with pytest.raises(ConfigError, match=r"GetQueue for OCI_RESULT_QUEUE_ID failed \(HTTP 404") as raised:
        build_dependencies(result_settings(settings, oci_config_file, standin), llm=llm, vm=vm, memory=memory)
    assert not raised.value.retryable  # fixed by configuration, not by waiting


def test_queue_lookup_outage_is_retryable(settings, llm, vm, memory, standin, oci_config_file):
    standin.add_queue(QUEUE_ID)
    standin.fail_always("queue-admin", 500)
    with pytest.raises(ConfigError) as raised:
        build_dependencies(result_settings(settings, oci_config_file, standin), llm=llm, vm=vm, memory=memory)
    assert raised.value.retryable


def test_a_given_queue_endpoint_needs_no_lookup(settings, llm, vm, memory, standin, oci_config_file):
    given = result_settings(settings, oci_config_file, standin, OCI_QUEUE_ENDPOINT=standin.endpoint)
    build_dependencies(given, llm=llm, vm=vm, memory=memory)
    assert standin.calls_to("queue-admin") == []


# -- secrets from OCI Vault ----------------------------------------------------------------------


@pytest.fixture
def function_env(identity, standin, tmp_path, monkeypatch):
    """A Function's environment: the resource principal, and the Vault endpoint of the stand-in."""
    for name, value in identity.resource_principal_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OCI_AUTH", "resource_principal")
    monkeypatch.setenv("OCI_SECRETS_ENDPOINT", standin.secrets_endpoint)


def test_secrets_are_read_from_vault_with_the_resource_principal(function_env, standin, monkeypatch, caplog):
    standin.add_secret(GOOGLE_SECRET, "AIza-vault-google-key\n")
    standin.add_secret(VM_SECRET, "vault-vm-token")
    monkeypatch.setenv("GOOGLE_API_KEY_SECRET_OCID", GOOGLE_SECRET)
    monkeypatch.setenv("VM_INTERNAL_TOKEN_SECRET_OCID", VM_SECRET)
    with caplog.at_level(logging.DEBUG):
        settings = settings_with_secrets(_env_file=None)
    assert settings.GOOGLE_API_KEY.get_secret_value() == "AIza-vault-google-key"
    assert settings.VM_INTERNAL_TOKEN.get_secret_value() == "vault-vm-token"
    assert settings.LLM_PROVIDER == "gemini"  # chosen as if the key had been set directly
    assert settings.QDRANT_API_KEY is None  # not configured: not asked for
    calls = standin.calls_to("secrets")
    assert [c.path for c in calls] == [
        f"/20190301/secretbundles/{GOOGLE_SECRET}",
        f"/20190301/secretbundles/{VM_SECRET}",
    ]
    assert all(c.status == 200 and c.key_id.startswith("ST$") and c.host == "secrets" for c in calls)
    logged = caplog.text
    assert "AIza-vault-google-key" not in logged and "vault-vm-token" not in logged
    assert "read GOOGLE_API_KEY, VM_INTERNAL_TOKEN from OCI Vault" in logged


def test_no_secret_ocids_means_no_vault_call(function_env, standin):
    settings_with_secrets(_env_file=None)
    assert standin.calls_to("secrets") == []


def test_a_missing_secret_is_a_config_error_by_setting_name(function_env, standin, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY_SECRET_OCID", GOOGLE_SECRET)  # never added to the vault
    with pytest.raises(
        ConfigError, match=r"cannot read GOOGLE_API_KEY_SECRET_OCID from OCI Vault \(HTTP 404"
    ) as raised:
        settings_with_secrets(_env_file=None)
    assert not raised.value.retryable


def test_a_vault_outage_is_retryable(function_env, standin, monkeypatch):
    standin.add_secret(GOOGLE_SECRET, "AIza-vault-google-key")
    standin.fail_always("secrets", 503)
    monkeypatch.setenv("GOOGLE_API_KEY_SECRET_OCID", GOOGLE_SECRET)
    monkeypatch.setattr("app.secrets.RETRY_S", 0.5)
    with pytest.raises(ConfigError) as raised:
        settings_with_secrets(_env_file=None)
    assert raised.value.retryable and "AIza" not in raised.value.message
