"""Request figures as OCI Monitoring custom metrics, posted in batches through the `oci` client.

On when OCI_MONITORING_COMPARTMENT_ID is set. Each request summary becomes a few datapoints
(count, latency, cost, tokens by intent; latency by node; degraded sources; tokens lost); they wait
in memory and are posted when no request is in flight (app/telemetry.py), grouped into metric
streams, at most 50 streams a call. A failed post is logged and dropped: metrics never cost a
request anything. The dimensions are names of intents, statuses, error codes, nodes and sources —
never ids, user text or secrets.

PostMetricData goes to the region's *telemetry-ingestion* endpoint, not the `telemetry` one the
SDK's MonitoringClient defaults to (oci.monitoring.MonitoringClient.post_metric_data docstring,
oci 2.189, read 2026-11-26). Per call: 1-20 dimensions per metric, at most 50 metric streams; a
datapoint's timestamp must be less than two hours old and at most 10 minutes ahead."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from typing import Any

from core.settings import Settings

log = logging.getLogger("reppy.metrics")

INGESTION_ENDPOINT_TEMPLATE = "https://telemetry-ingestion.{region}.{secondLevelDomain}"
MAX_STREAMS_PER_CALL = 50
MAX_PENDING = 10_000  # datapoints kept while posting fails; the oldest are dropped past it
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 2.0, 5.0
TOKEN_METRICS = ("input_tokens", "output_tokens", "thinking_tokens", "cached_input_tokens")

Datapoint = tuple[str, tuple[tuple[str, str], ...], float, dt.datetime]  # name, dimensions, value, time


def datapoints(summary: dict[str, Any], at: dt.datetime | None = None) -> list[Datapoint]:
    """The metrics of one request summary (dimension values are never empty: OCI refuses them)."""
    at = at or dt.datetime.now(dt.UTC)
    intent = ("intent", summary.get("intent") or "NONE")
    status = ("status", summary.get("status") or "NONE")
    code = ("code", summary.get("code") or "NONE")
    points: list[Datapoint] = [
        ("requests", (intent, status, code), 1.0, at),
        ("request_latency_ms", (intent, status), float(summary.get("latency_ms") or 0), at),
        ("cost_usd", (intent,), float(summary.get("cost_usd") or 0), at),
    ]
    points += [(key, (intent,), float(summary[key]), at) for key in TOKEN_METRICS if summary.get(key)]
    for node, figures in (summary.get("nodes") or {}).items():
        if "latency_ms" in figures:
            points.append(("node_latency_ms", (("node", node),), float(figures["latency_ms"]), at))
    points += [("degraded_sources", (("source", source),), 1.0, at) for source in summary.get("degraded") or ()]
    if summary.get("tokens_lost"):
        points.append(("tokens_lost", (intent,), float(summary["tokens_lost"]), at))
    return points


class MetricsBatch:
    def __init__(self, client: Any, *, compartment_id: str, namespace: str):
        self._client = client
        self._compartment_id = compartment_id
        self._namespace = namespace
        self._pending: list[Datapoint] = []
        self._lock = threading.Lock()
        self.posted = 0  # datapoints accepted so far (for tests and the docs' figures)

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricsBatch:
        from adapters.emit.oci_clients import oci_credentials

        credentials = oci_credentials(
            settings.OCI_AUTH,
            config_file=settings.OCI_CONFIG_FILE,
            profile=settings.OCI_CONFIG_PROFILE,
            region=settings.OCI_REGION,
        )
        endpoint = settings.OCI_MONITORING_ENDPOINT or ingestion_endpoint(credentials.config.get("region"))
        return cls(
            monitoring_client(credentials, endpoint),
            compartment_id=settings.OCI_MONITORING_COMPARTMENT_ID,
            namespace=settings.OCI_MONITORING_NAMESPACE,
        )

    def add(self, summary: dict[str, Any]) -> None:
        with self._lock:
            self._pending.extend(datapoints(summary))
            del self._pending[:-MAX_PENDING]

    async def flush(self) -> None:
        with self._lock:
            points, self._pending = self._pending, []
        if points:
            await asyncio.to_thread(self._post_all, points)

    def _post_all(self, points: list[Datapoint]) -> None:
        import oci

        streams = self._streams(points)
        for start in range(0, len(streams), MAX_STREAMS_PER_CALL):
            chunk = streams[start : start + MAX_STREAMS_PER_CALL]
            details = oci.monitoring.models.PostMetricDataDetails(metric_data=chunk)
            try:
                answer = self._client.post_metric_data(details).data
            except Exception as exc:
                # Dropped, not retried later: a datapoint is refused once it is two hours old anyway.
                status = getattr(exc, "status", None)
                log.warning(
                    "metrics not posted (%s%s): %d streams dropped",
                    type(exc).__name__,
                    f" {status}" if status else "",
                    len(chunk),
                )
                continue
            failed = answer.failed_metrics_count or 0
            self.posted += sum(len(s.datapoints) for s in chunk)
            if failed:
                reasons = {f.message for f in answer.failed_metrics or []}
                log.warning(
                    "OCI Monitoring refused %d of %d metric streams: %s",
                    failed,
                    len(chunk),
                    "; ".join(sorted(reasons))[:300],
                )

    def _streams(self, points: list[Datapoint]) -> list[Any]:
        from oci.monitoring.models import Datapoint as OciDatapoint
        from oci.monitoring.models import MetricDataDetails

        grouped: dict[tuple[str, tuple], list[OciDatapoint]] = {}
        for name, dimensions, value, at in points:
            grouped.setdefault((name, dimensions), []).append(OciDatapoint(timestamp=at, value=value, count=1))
        return [
            MetricDataDetails(
                namespace=self._namespace,
                compartment_id=self._compartment_id,
                name=name,
                dimensions=dict(dimensions),
                datapoints=values,
                metadata={"unit": _unit(name)},
            )
            for (name, dimensions), values in grouped.items()
        ]


def _unit(name: str) -> str:
    return "milliseconds" if name.endswith("_ms") else "USD" if name == "cost_usd" else "count"


def ingestion_endpoint(region: str | None) -> str:
    if not region:
        from core.errors import ConfigError

        raise ConfigError("OCI Monitoring needs a region (OCI_REGION) or OCI_MONITORING_ENDPOINT")
    import oci

    return oci.regions.endpoint_for("monitoring", region=region, service_endpoint_template=INGESTION_ENDPOINT_TEMPLATE)


def monitoring_client(credentials, endpoint: str):
    import oci

    from adapters.emit.oci_clients import _client, bounded_retry

    return _client(
        oci.monitoring.MonitoringClient,
        credentials,
        service_endpoint=endpoint,
        timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        retry_strategy=bounded_retry(READ_TIMEOUT_S, max_attempts=2),
    )
