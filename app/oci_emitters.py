"""Composition for the OCI emitters: settings → credentials → one client per service → emitters.

Only the configured ones are built: OCI_STREAM_ID → token events to OCI Streaming, OCI_RESULT_QUEUE_ID
→ result events to OCI Queue. The caller prints whatever is left as JSON lines.
"""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError
from core.settings import Settings

CONNECT_TIMEOUT_S = 2.0
# Tokens are best effort and must not hold up the result: short reads, and retries capped below
# the result's own budget.
STREAM_READ_TIMEOUT_S = 3.0
STREAM_RETRY_CAP_S = 2.0
QUEUE_READ_TIMEOUT_S = 5.0


def build_oci_emitters(settings: Settings) -> dict[str, Any]:
    from adapters.emit.oci_clients import (
        bounded_retry,
        queue_client,
        queue_messages_endpoint,
        stream_client,
    )

    if settings.OCI_STREAM_ID and not settings.OCI_STREAM_ENDPOINT:
        raise ConfigError(
            "OCI_STREAM_ID is set but OCI_STREAM_ENDPOINT is not: set it to the stream "
            "pool's messages endpoint (e.g. https://cell-1.streaming.<region>.oci.oraclecloud.com)"
        )
    credentials = credentials_from(settings)
    emitters: dict[str, Any] = {}
    if settings.OCI_STREAM_ID:
        from adapters.emit.oci_stream import StreamTokenEmitter

        client = stream_client(
            credentials, settings.OCI_STREAM_ENDPOINT, timeout=(CONNECT_TIMEOUT_S, STREAM_READ_TIMEOUT_S)
        )
        emitters["tokens"] = StreamTokenEmitter(
            client,
            settings.OCI_STREAM_ID,
            retry_strategy=bounded_retry(min(STREAM_RETRY_CAP_S, settings.OCI_PUBLISH_RETRY_S), max_attempts=3),
            # The first token skips the 50 ms linger (the first-token delay is what users notice).
            first_at_once=True,
        )
    if settings.OCI_RESULT_QUEUE_ID:
        from adapters.emit.oci_queue import QueueResultEmitter

        # Looked up once per instance when not given: the region's default host is the control
        # plane, which does not take messages.
        endpoint = settings.OCI_QUEUE_ENDPOINT or queue_messages_endpoint(
            credentials,
            settings.OCI_RESULT_QUEUE_ID,
            admin_endpoint=settings.OCI_QUEUE_ADMIN_ENDPOINT,
            timeout=(CONNECT_TIMEOUT_S, QUEUE_READ_TIMEOUT_S),
            retry_s=settings.OCI_PUBLISH_RETRY_S,
        )
        client = queue_client(
            credentials,
            endpoint,
            timeout=(CONNECT_TIMEOUT_S, min(QUEUE_READ_TIMEOUT_S, settings.OCI_PUBLISH_RETRY_S)),
        )
        emitters["results"] = QueueResultEmitter(
            client, settings.OCI_RESULT_QUEUE_ID, retry_strategy=bounded_retry(settings.OCI_PUBLISH_RETRY_S)
        )
    return emitters


def credentials_from(settings: Any):
    """How the OCI clients sign, from the OCI_* settings."""
    from adapters.emit.oci_clients import oci_credentials

    return oci_credentials(
        settings.OCI_AUTH,
        config_file=settings.OCI_CONFIG_FILE,
        profile=settings.OCI_CONFIG_PROFILE,
        region=settings.OCI_REGION,
    )


def read_oci_settings() -> Any:
    """Only the OCI_* settings, read from the environment exactly as `Settings` reads them. When the
    rest of the configuration is invalid, this is still enough to publish the FAILED results."""
    from pydantic import create_model
    from pydantic_settings import BaseSettings

    class _Base(BaseSettings):
        model_config = Settings.model_config

    fields: dict[str, Any] = {
        name: (field.annotation, field) for name, field in Settings.model_fields.items() if name.startswith("OCI_")
    }
    return create_model("OciSettings", __base__=_Base, **fields)()


def build_result_emitter(settings: Any) -> Any:
    """The result emitter alone: OCI Queue when OCI_RESULT_QUEUE_ID is set, JSON lines otherwise."""
    if settings.OCI_RESULT_QUEUE_ID:
        return build_oci_emitters(settings.model_copy(update={"OCI_STREAM_ID": None}))["results"]
    from adapters.emit.jsonl import JsonLinesEmitter

    return JsonLinesEmitter()
