"""A local stand-in for the OCI calls the worker makes, on 127.0.0.1, one listening port per host:

    messages host (`endpoint`):
        POST /20180418/streams/{streamId}/messages   Streaming PutMessages
        POST /20210201/queues/{queueId}/messages     Queue PutMessages
    queue control plane (`queue_admin_endpoint`, like https://messaging.{region}.oci.oraclecloud.com):
        GET  /20210201/queues/{queueId}              Queue GetQueue → its messagesEndpoint (`endpoint`)
    Vault secrets (`secrets_endpoint`, like https://secrets.vaults.{region}.oci.oraclecloud.com):
        GET  /20190301/secretbundles/{secretId}      Secrets GetSecretBundle (the CURRENT version)

PutMessages sent to the control-plane host is refused (404): "You must use the messages endpoint to
produce messages" (QueueClient.put_messages docstring, oci 2.189.0; read 2026-11-26). What the real
host answers there is not documented; any refusal makes the point.

It speaks their wire protocol: it checks each request's OCI HTTP signature (the signing string
rebuilt from the listed headers, verified with the test identity's public key; the body digest
when it is signed; a fresh Date), decodes stream keys and values from base64, answers with the
services' JSON shapes and error bodies, and records what it accepted. Tests script failures:
whole-call statuses (500, 429, …), per-entry stream failures (a 200 with `failures` > 0) and stalls.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

STREAM_PATH = re.compile(r"^/20180418/streams/([^/]+)/messages$")
QUEUE_PATH = re.compile(r"^/20210201/queues/([^/]+)/messages$")
GET_QUEUE_PATH = re.compile(r"^/20210201/queues/([^/?]+)$")
SECRET_BUNDLE_PATH = re.compile(r"^/20190301/secretbundles/([^/?]+)(?:\?(.*))?$")
SECRET_BUNDLE_PARAMS = {"versionNumber", "secretVersionName", "stage"}
MAX_CLOCK_SKEW_S = 300
ERROR_CODES = {
    400: "InvalidParameter",
    401: "NotAuthenticated",
    404: "NotAuthorizedOrNotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


@dataclass(frozen=True)
class StreamMessage:
    stream_id: str
    key: str | None
    value: bytes
    partition: str
    offset: int
    received_at: float  # time.time()

    def event(self) -> dict:
        return json.loads(self.value)


@dataclass(frozen=True)
class QueueMessage:
    queue_id: str
    content: str
    id: int
    received_at: float

    def event(self) -> dict:
        return json.loads(self.content)


@dataclass(frozen=True)
class Call:
    service: str  # "stream" | "queue" | "queue-admin" | "secrets" | "other"
    path: str
    status: int
    key_id: str | None
    entries: int
    host: str = "messages"  # which listening host took the call: messages | queue-admin | secrets


EntryFilter = Callable[[int, StreamMessage], bool]  # (index in the call, message) → reject it?


class OciStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, public_key: rsa.RSAPublicKey, *, partitions: int = 3):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.public_key = public_key
        self.partitions = partitions
        self.lock = threading.Lock()
        self.stream: list[StreamMessage] = []
        self.queue: list[QueueMessage] = []
        self.calls: list[Call] = []
        services = ("stream", "queue", "queue-admin", "secrets")
        self._statuses: dict[str, list[int]] = {s: [] for s in services}
        self._always: dict[str, int | None] = dict.fromkeys(services)
        self._entry_filters: list[EntryFilter] = []
        self._stalls: dict[str, list[float]] = {s: [] for s in services}
        self.stalls_started = 0  # stalled calls so far (a test waits for one to be under way)
        self.entry_failures_served = 0  # PutMessages calls that had entries rejected on purpose
        self._offsets = {str(p): itertools.count() for p in range(partitions)}
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self.queues: dict[str, dict] = {}  # GetQueue answers by queue OCID (`add_queue`)
        self.secrets: dict[str, bytes] = {}  # secret values by secret OCID (`add_secret`)
        self._hosts = {name: _Host(self, name) for name in ("queue-admin", "secrets")}

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def queue_admin_endpoint(self) -> str:
        return self._hosts["queue-admin"].endpoint

    @property
    def secrets_endpoint(self) -> str:
        return self._hosts["secrets"].endpoint

    def start(self) -> OciStandIn:
        # A short poll interval: `stop` waits for each host's serve loop to notice.
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="oci-standin", daemon=True)
        self._thread.start()
        for host in self._hosts.values():
            threading.Thread(target=host.serve_forever, args=(0.05,), name=f"oci-{host.name}", daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self, *self._hosts.values()):
            server.shutdown()
            server.server_close()

    # -- resources -----------------------------------------------------------------------------

    def add_queue(self, queue_id: str, compartment_id: str = "ocid1.compartment.oc1..standin") -> None:
        """A queue GetQueue knows, its messagesEndpoint this stand-in's messages host. Fields of the
        Queue resource (Queue API 20210201; `oci.queue.models.Queue`, oci 2.189.0)."""
        created = _iso(time.time())
        with self.lock:
            self.queues[queue_id] = {
                "id": queue_id,
                "compartmentId": compartment_id,
                "displayName": "reppy-results",
                "timeCreated": created,
                "timeUpdated": created,
                "lifecycleState": "ACTIVE",
                "lifecycleDetails": None,
                "messagesEndpoint": self.endpoint,
                "retentionInSeconds": 86400,
                "visibilityInSeconds": 30,
                "timeoutInSeconds": 20,
                "deadLetterQueueDeliveryCount": 0,
                "customEncryptionKeyId": None,
                "channelConsumptionLimit": 100,
                "freeformTags": {},
                "definedTags": {},
                "systemTags": {},
            }

    def add_secret(self, secret_id: str, value: str | bytes) -> None:
        with self.lock:
            self.secrets[secret_id] = value.encode() if isinstance(value, str) else value

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(self, service: str, *statuses: int) -> None:
        """Answer the next calls to `service` with these statuses, one each, then normally."""
        with self.lock:
            self._statuses[service].extend(statuses)

    def fail_always(self, service: str, status: int | None) -> None:
        """Answer every call to `service` with `status` (None: back to normal)."""
        with self.lock:
            self._always[service] = status

    def stall_next(self, service: str, *seconds: float) -> None:
        """Hold the next calls to `service` this long each before handling them normally."""
        with self.lock:
            self._stalls[service].extend(seconds)

    def clear_faults(self) -> None:
        """Back to normal: no scripted statuses, stalls or entry failures left."""
        with self.lock:
            for service in self._statuses:
                self._statuses[service].clear()
                self._stalls[service].clear()
                self._always[service] = None
            self._entry_filters.clear()

    def fail_entries_next(self, reject: EntryFilter) -> None:
        """In the next stream PutMessages, reject the entries `reject` picks (a 200 with failures)."""
        with self.lock:
            self._entry_filters.append(reject)

    # -- reading -----------------------------------------------------------------------------

    def stream_events(self, key: str | None = None) -> list[dict]:
        with self.lock:
            return [m.event() for m in self.stream if key is None or m.key == key]

    def queue_events(self) -> list[dict]:
        with self.lock:
            return [m.event() for m in self.queue]

    def calls_to(self, service: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.service == service]

    def wait_for(self, condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.02)
        return condition()

    # -- serving (called by the handler) -----------------------------------------------------

    def _scripted_stall(self, service: str) -> float:
        with self.lock:
            if not self._stalls.get(service):
                return 0.0
            self.stalls_started += 1
            return self._stalls[service].pop(0)

    def _scripted_status(self, service: str) -> int | None:
        with self.lock:
            if self._statuses[service]:
                return self._statuses[service].pop(0)
            return self._always[service]

    def _put_stream(self, stream_id: str, messages: list[tuple[str | None, bytes]]) -> dict:
        now = time.time()
        with self.lock:
            reject = self._entry_filters.pop(0) if self._entry_filters else None
            self.entry_failures_served += reject is not None
            entries = []
            for index, (key, value) in enumerate(messages):
                partition = str(int(hashlib.sha256((key or "").encode()).hexdigest(), 16) % self.partitions)
                message = StreamMessage(stream_id, key, value, partition, -1, now)
                if reject is not None and reject(index, message):
                    entries.append({"error": "InternalServerError", "errorMessage": "scripted entry failure"})
                    continue
                offset = next(self._offsets[partition])
                self.stream.append(StreamMessage(stream_id, key, value, partition, offset, now))
                entries.append({"partition": partition, "offset": offset, "timestamp": _iso(now)})
        return {"failures": sum(1 for e in entries if "error" in e), "entries": entries}

    def _put_queue(self, queue_id: str, contents: list[str]) -> dict:
        now = time.time()
        with self.lock:
            stored = [QueueMessage(queue_id, c, next(self._ids), now) for c in contents]
            self.queue.extend(stored)
        return {"messages": [{"id": m.id, "expireAfter": _iso(now + 86400)} for m in stored]}

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


class _Host(ThreadingHTTPServer):
    """Another host of the stand-in (its own port), sharing the stand-in's state and handler."""

    daemon_threads = True

    def __init__(self, standin: OciStandIn, name: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin
        self.name = name

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; see standins/gemini.py

    def log_message(self, fmt: str, *args) -> None:  # quiet: tests read `calls` instead
        pass

    @property
    def standin(self) -> OciStandIn:
        return getattr(self.server, "standin", self.server)

    @property
    def host(self) -> str:
        return getattr(self.server, "name", "messages")

    def do_GET(self) -> None:
        queue_match, secret_match = GET_QUEUE_PATH.match(self.path), SECRET_BUNDLE_PATH.match(self.path)
        service = "queue-admin" if queue_match else "secrets" if secret_match else "other"
        key_id, problem = self._verify_signature(b"")
        if problem:
            return self._error(service, 401, problem, key_id)
        if service != self.host:  # e.g. GetQueue sent to the messages host
            return self._error(service, 404, f"no such resource on the {self.host} host", key_id)
        status = self.standin._scripted_status(service)
        if status is not None:
            return self._error(service, status, "scripted failure", key_id)
        if queue_match:
            answer = self.standin.queues.get(queue_match.group(1))
        else:
            params = dict(urllib.parse.parse_qsl(secret_match.group(2) or ""))
            if set(params) - SECRET_BUNDLE_PARAMS or params.get("stage", "CURRENT") not in ("CURRENT", "LATEST"):
                return self._error(service, 400, f"unsupported query {sorted(params)}", key_id)
            answer = self._secret_bundle(secret_match.group(1))
        if answer is None:
            return self._error(service, 404, "Authorization failed or requested resource not found.", key_id)
        self.standin._record(Call(service, self.path, 200, key_id, 0, self.host))
        self._send(200, answer)

    def _secret_bundle(self, secret_id: str) -> dict | None:
        """A SecretBundle (Secrets API 20190301; `oci.secrets.models.SecretBundle`, oci 2.189.0)."""
        value = self.standin.secrets.get(secret_id)
        if value is None:
            return None
        return {
            "secretId": secret_id,
            "timeCreated": _iso(time.time() - 3600),
            "versionNumber": 1,
            "versionName": None,
            "secretBundleContent": {"contentType": "BASE64", "content": base64.b64encode(value).decode()},
            "timeOfDeletion": None,
            "timeOfExpiry": None,
            "stages": ["CURRENT", "LATEST"],
            "metadata": None,
        }

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        stream_match, queue_match = STREAM_PATH.match(self.path), QUEUE_PATH.match(self.path)
        service = "stream" if stream_match else "queue" if queue_match else "other"
        key_id, problem = self._verify_signature(body)
        if problem:
            return self._error(service, 401, problem, key_id)
        if service == "other":
            return self._error(service, 404, "no such resource", key_id)
        if self.host != "messages":
            return self._error(service, 404, "PutMessages must go to the queue's messages endpoint", key_id)
        stall = self.standin._scripted_stall(service)
        if stall:
            time.sleep(stall)
        status = self.standin._scripted_status(service)
        if status is not None:
            return self._error(service, status, "scripted failure", key_id)
        try:
            payload = json.loads(body)
            messages = payload["messages"]
            if not isinstance(messages, list) or not messages:
                raise ValueError("messages must be a non-empty list")
            if stream_match:
                decoded = [(_b64_text(m.get("key")), _b64_bytes(m["value"])) for m in messages]
                answer = self.standin._put_stream(stream_match.group(1), decoded)
            else:
                contents = [m["content"] for m in messages]
                if not all(isinstance(c, str) and c for c in contents):
                    raise ValueError("content must be a non-empty string")
                answer = self.standin._put_queue(queue_match.group(1), contents)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return self._error(service, 400, f"invalid body: {exc}", key_id)
        self.standin._record(Call(service, self.path, 200, key_id, len(messages), self.host))
        self._send(200, answer)

    def _verify_signature(self, body: bytes) -> tuple[str | None, str | None]:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Signature "):
            return None, "missing Signature authorization"
        params = dict(re.findall(r'(\w+)="([^"]*)"', auth[len("Signature ") :]))
        key_id = params.get("keyId")
        signed = params.get("headers", "").split()
        if params.get("algorithm") != "rsa-sha256" or not {"date", "(request-target)", "host"} <= set(signed):
            return key_id, "signature must be rsa-sha256 over date, (request-target) and host"
        lines = []
        for name in signed:
            if name == "(request-target)":
                lines.append(f"(request-target): {self.command.lower()} {self.path}")
            elif self.headers.get(name) is None:
                return key_id, f"signed header {name} is missing"
            else:
                lines.append(f"{name}: {self.headers[name]}")
        try:
            self.standin.public_key.verify(
                base64.b64decode(params.get("signature", "")),
                "\n".join(lines).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return key_id, "signature does not verify"
        if "x-content-sha256" in signed:
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if self.headers["x-content-sha256"] != digest:
                return key_id, "x-content-sha256 does not match the body"
        sent = email.utils.parsedate_to_datetime(self.headers["date"]).timestamp()
        if abs(sent - time.time()) > MAX_CLOCK_SKEW_S:
            return key_id, "date is too far from the server's clock"
        return key_id, None

    def _error(self, service: str, status: int, message: str, key_id: str | None) -> None:
        self.standin._record(Call(service, self.path, status, key_id, 0, self.host))
        self._send(status, {"code": ERROR_CODES.get(status, "InternalServerError"), "message": message})

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("opc-request-id", f"standin-{time.monotonic_ns()}")
        self.end_headers()
        self.wfile.write(data)


def _b64_bytes(value) -> bytes:
    if not isinstance(value, str):
        raise ValueError("value must be a base64 string")
    return base64.b64decode(value, validate=True)


def _b64_text(value) -> str | None:
    return None if value is None else _b64_bytes(value).decode()


def _iso(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + f".{int(epoch_s % 1 * 1000):03d}Z"
