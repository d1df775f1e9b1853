"""OCI SDK clients for the emitters: how they authenticate, where they point, how they retry.

`oci` is imported inside the functions: it costs ~0.2 s and a lot of memory, and a process that
prints JSON lines never needs it. Clients are built once per process and reused for every request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from core.errors import ConfigError

OciAuth = Literal["resource_principal", "instance_principal", "config"]


@dataclass(frozen=True)
class OciCredentials:
    config: dict[str, Any]  # SDK config: region, and for `config` auth the user's key
    signer: Any | None = field(default=None, repr=False)  # token signer; None → SDK signs from config

    def client_kwargs(self) -> dict[str, Any]:
        return {"signer": self.signer} if self.signer is not None else {}


def oci_credentials(
    auth: OciAuth, *, config_file: str = "~/.oci/config", profile: str = "DEFAULT", region: str | None = None
) -> OciCredentials:
    import oci

    if auth == "config":
        path = os.path.expanduser(config_file)
        try:
            config = oci.config.from_file(path, profile)
        except (oci.exceptions.ConfigFileNotFound, oci.exceptions.ProfileNotFound, oci.exceptions.InvalidConfig) as exc:
            raise ConfigError(
                f"OCI_AUTH=config: cannot use profile {profile!r} of {path}: {type(exc).__name__}: {exc}"
            ) from None
        if region:
            config["region"] = region
        return OciCredentials(config)
    try:
        if auth == "resource_principal":
            signer = oci.auth.signers.get_resource_principals_signer()
        else:
            signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
    except Exception as exc:
        where = (
            "an OCI Function (OCI_RESOURCE_PRINCIPAL_* variables)"
            if auth == "resource_principal"
            else "an OCI compute instance in a dynamic group"
        )
        raise ConfigError(
            f"OCI_AUTH={auth} works only inside {where}; use OCI_AUTH=config with "
            f"OCI_CONFIG_FILE elsewhere ({type(exc).__name__})"
        ) from None
    region = region or getattr(signer, "region", None)
    return OciCredentials({"region": region} if region else {}, signer)


def stream_client(credentials: OciCredentials, endpoint: str, *, timeout: tuple[float, float]):
    import oci

    return _client(oci.streaming.StreamClient, credentials, service_endpoint=endpoint, timeout=timeout)


def queue_client(credentials: OciCredentials, endpoint: str | None, *, timeout: tuple[float, float]):
    import oci

    kwargs: dict[str, Any] = {"timeout": timeout}
    if endpoint:
        kwargs["service_endpoint"] = endpoint
    elif not credentials.config.get("region"):
        raise ConfigError(
            "OCI_QUEUE_ENDPOINT is unset and no region is known: set OCI_REGION or "
            "OCI_QUEUE_ENDPOINT (the queue's messages endpoint)"
        )
    return _client(oci.queue.QueueClient, credentials, **kwargs)


def queue_messages_endpoint(
    credentials: OciCredentials,
    queue_id: str,
    *,
    admin_endpoint: str | None,
    timeout: tuple[float, float],
    retry_s: float = 5.0,
) -> str:
    """The queue's own messages endpoint (GetQueue → messagesEndpoint). PutMessages must go there:
    "You must use the messages endpoint to produce messages. The messages endpoint may be different
    for different queues. Use GetQueue to find the queue's messagesEndpoint." (QueueClient.put_messages
    docstring, oci 2.189.0, and the OCI CLI's `queue messages put-messages` reference; read 2026-11-26)."""
    import oci

    kwargs: dict[str, Any] = {"timeout": timeout}
    if admin_endpoint:
        kwargs["service_endpoint"] = admin_endpoint
    elif not credentials.config.get("region"):
        raise ConfigError("OCI_QUEUE_ENDPOINT is unset and no region is known to look it up: set OCI_REGION")
    client = _client(oci.queue.QueueAdminClient, credentials, **kwargs)
    try:
        queue = client.get_queue(queue_id, retry_strategy=bounded_retry(retry_s)).data
    except oci.exceptions.ServiceError as exc:
        raise ConfigError(
            f"GetQueue for OCI_RESULT_QUEUE_ID failed (HTTP {exc.status} {exc.code}): set OCI_QUEUE_ENDPOINT, "
            "or allow the function to read the queue",
            retryable=exc.status == 429 or exc.status >= 500,
        ) from None
    except Exception as exc:  # connection errors: another instance start may do better
        raise ConfigError(f"GetQueue for OCI_RESULT_QUEUE_ID failed ({type(exc).__name__})", retryable=True) from None
    if not queue.messages_endpoint:
        raise ConfigError("GetQueue returned no messagesEndpoint for OCI_RESULT_QUEUE_ID: set OCI_QUEUE_ENDPOINT")
    return queue.messages_endpoint


def secrets_client(credentials: OciCredentials, endpoint: str | None, *, timeout: tuple[float, float]):
    import oci

    kwargs: dict[str, Any] = {"timeout": timeout}
    if endpoint:
        kwargs["service_endpoint"] = endpoint
    elif not credentials.config.get("region"):
        raise ConfigError("Vault secrets are configured but no region is known: set OCI_REGION")
    return _client(oci.secrets.SecretsClient, credentials, **kwargs)


def _client(cls, credentials: OciCredentials, **kwargs):
    import oci

    # No SDK circuit breaker: after 10 failed calls it refuses every call for 30 s, shared by all
    # clients of the service — a queue blip would keep results unpublished long after the queue is
    # back. Retries are bounded per call here, the stream has its own cool-down, and an unpublished
    # result fails the invocation so the batch comes again.
    kwargs.setdefault("circuit_breaker_strategy", oci.circuit_breaker.NoCircuitBreakerStrategy())
    try:
        return cls(credentials.config, **kwargs, **credentials.client_kwargs())
    except (ValueError, OSError) as exc:  # e.g. an unreadable or invalid key file
        raise ConfigError(f"cannot create {cls.__name__}: {type(exc).__name__}: {exc}") from None


def bounded_retry(total_s: float, *, max_attempts: int = 5, base_sleep_s: float = 0.2):
    """The SDK retries nothing by default. This retries 429, 5xx (not 501), 409 IncorrectState
    and connection errors with jittered exponential backoff, and stops at `max_attempts` or once
    `total_s` have passed, whichever comes first."""
    import oci

    return oci.retry.RetryStrategyBuilder(
        max_attempts_check=True,
        max_attempts=max_attempts,
        total_elapsed_time_check=True,
        total_elapsed_time_seconds=total_s,
        service_error_check=True,
        retry_base_sleep_time_seconds=base_sleep_s,
        retry_exponential_growth_factor=2,
        retry_max_wait_between_calls_seconds=max(base_sleep_s, total_s / 3),
        decorrelated_jitter=base_sleep_s,
    ).get_retry_strategy()
