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
    from adapters.emit.oci_clients import bounded_retry, oci_credentials, queue_client, stream_client

    if settings.OCI_STREAM_ID and not settings.OCI_STREAM_ENDPOINT:
        raise ConfigError(
            "OCI_STREAM_ID is set but OCI_STREAM_ENDPOINT is not: set it to the stream "
            "pool's messages endpoint (e.g. https://cell-1.streaming.<region>.oci.oraclecloud.com)"
        )
    credentials = oci_credentials(
        settings.OCI_AUTH,
        config_file=settings.OCI_CONFIG_FILE,
        profile=settings.OCI_CONFIG_PROFILE,
        region=settings.OCI_REGION,
    )
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

        client = queue_client(
            credentials,
            settings.OCI_QUEUE_ENDPOINT,
            timeout=(CONNECT_TIMEOUT_S, min(QUEUE_READ_TIMEOUT_S, settings.OCI_PUBLISH_RETRY_S)),
        )
        emitters["results"] = QueueResultEmitter(
            client, settings.OCI_RESULT_QUEUE_ID, retry_strategy=bounded_retry(settings.OCI_PUBLISH_RETRY_S)
        )
    return emitters
