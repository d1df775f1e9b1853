"""A local stand-in for OCI Monitoring's PostMetricData, on 127.0.0.1:

    POST /20180401/metrics      (the telemetry-ingestion endpoint's one write call)

It checks the request's OCI HTTP signature as the Streaming/Queue stand-in does (same handler
code), then the body as the service does (oci.monitoring.models.MetricDataDetails and the
post_metric_data docstring, oci 2.189, read 2026-11-26):
- namespace: starts with a letter, then letters, digits, underscores; not `oci_` / `oracle_`;
- name: starts with a letter, then letters, digits, `.`, `_`, `-`, `$`;
- compartmentId: an OCID; datapoints: at least one, each with a number value;
- dimensions: 1 to 20, keys printable ASCII without spaces (<= 256), values non-empty (<= 512);
- metadata values <= 256 characters; at most 50 metric streams in one call.
A malformed body is a 400 `InvalidParameter`; a datapoint too old (> 2 h) or too far ahead
(> 10 min) fails its metric only (a 200 listing it under `failedMetrics`, as the API does).
Any other path is a 404 — the `telemetry` endpoint's read calls are not served here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from standins.oci import ERROR_CODES, _Handler

METRICS_PATH = "/20180401/metrics"
NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.$-]*$")
DIMENSION_KEY = re.compile(r"^[!-~]{1,256}$")
OCID = re.compile(r"^ocid1\.[a-z0-9]+\.[a-z0-9-]*\.[a-z0-9-]*\.[A-Za-z0-9._-]+$")
MAX_STREAMS, MAX_DIMENSIONS = 50, 20


@dataclass(frozen=True)
class PostedMetric:
    namespace: str
    name: str
    dimensions: dict
    values: list[float]
    unit: str | None


class MonitoringStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, public_key):
        super().__init__(("127.0.0.1", 0), _MonitoringHandler)
        self.public_key = public_key
        self.lock = threading.Lock()
        self.metrics: list[PostedMetric] = []
        self.calls: list[tuple[str, int, int]] = []  # (path, status, metric streams)
        self._statuses: list[int] = []

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MonitoringStandIn:
        threading.Thread(target=self.serve_forever, name="oci-monitoring-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self._statuses.extend(statuses)

    def values(self, name: str, **dimensions: str) -> list[float]:
        with self.lock:
            return [
                v
                for m in self.metrics
                if m.name == name and all(m.dimensions.get(k) == d for k, d in dimensions.items())
                for v in m.values
            ]

    def _record(self, path: str, status: int, streams: int) -> None:
        with self.lock:
            self.calls.append((path, status, streams))


class _MonitoringHandler(_Handler):
    server: MonitoringStandIn

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _, problem = self._verify_signature(body)
        if problem:
            return self._reject(401, problem)
        if self.path != METRICS_PATH:
            return self._reject(404, "no such resource")
        with self.server.lock:
            scripted = self.server._statuses.pop(0) if self.server._statuses else None
        if scripted is not None:
            return self._reject(scripted, "scripted failure")
        try:
            metric_data = json.loads(body)["metricData"]
            if not isinstance(metric_data, list) or not metric_data:
                raise ValueError("metricData must be a non-empty list")
            if len(metric_data) > MAX_STREAMS:
                raise ValueError(f"at most {MAX_STREAMS} metric streams per call, got {len(metric_data)}")
            accepted, failed = [], []
            for item in metric_data:
                problem = _datapoint_problem(item)  # raises on a malformed item
                (failed if problem else accepted).append((item, problem))
        except (ValueError, KeyError, TypeError) as exc:
            return self._reject(400, f"invalid body: {exc}")
        with self.server.lock:
            self.server.metrics.extend(
                PostedMetric(
                    item["namespace"],
                    item["name"],
                    item["dimensions"],
                    [float(p["value"]) for p in item["datapoints"]],
                    (item.get("metadata") or {}).get("unit"),
                )
                for item, _ in accepted
            )
        self.server._record(self.path, 200, len(metric_data))
        self._send(
            200,
            {"failedMetricsCount": len(failed), "failedMetrics": [{"message": p, "metricData": i} for i, p in failed]},
        )

    def _reject(self, status: int, message: str) -> None:
        self.server._record(self.path, status, 0)
        self._send(status, {"code": ERROR_CODES.get(status, "InternalServerError"), "message": message})


def _datapoint_problem(item: dict) -> str | None:
    """Raises ValueError for a malformed metric; returns why its datapoints are refused, if they are."""
    namespace, name = item["namespace"], item["name"]
    if not NAMESPACE.match(namespace) or namespace.lower().startswith(("oci_", "oracle_")):
        raise ValueError(f"invalid namespace {namespace!r}")
    if not NAME.match(name):
        raise ValueError(f"invalid metric name {name!r}")
    if not OCID.match(item["compartmentId"]):
        raise ValueError("compartmentId must be an OCID")
    dimensions = item["dimensions"]
    if not isinstance(dimensions, dict) or not 1 <= len(dimensions) <= MAX_DIMENSIONS:
        raise ValueError(f"a metric needs 1 to {MAX_DIMENSIONS} dimensions")
    for key, value in dimensions.items():
        if not DIMENSION_KEY.match(key) or not isinstance(value, str) or not 0 < len(value) <= 512:
            raise ValueError(f"invalid dimension {key!r}")
    if any(len(str(v)) > 256 for v in (item.get("metadata") or {}).values()):
        raise ValueError("metadata values are limited to 256 characters")
    points = item["datapoints"]
    if not isinstance(points, list) or not points:
        raise ValueError("at least one datapoint is required")
    now = dt.datetime.now(dt.UTC)
    for point in points:
        if not isinstance(point["value"], (int, float)):
            raise ValueError("a datapoint value must be a number")
        at = dt.datetime.fromisoformat(point["timestamp"].replace("Z", "+00:00"))
        if not now - dt.timedelta(hours=2) < at < now + dt.timedelta(minutes=10):
            return "datapoint timestamp must be less than two hours old and at most 10 minutes ahead"
    return None
