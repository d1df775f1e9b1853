"""A Gemini API stand-in on 127.0.0.1 that speaks the wire protocol google-genai reads:

    POST /v1beta/models/{model}:generateContent                one JSON response
    POST /v1beta/models/{model}:streamGenerateContent?alt=sse  SSE frames `data: {json}`

Strict where the real API is: an unknown model id is 404 NOT_FOUND; a thinking setting the model
refuses (a budget out of its range, a level it does not offer, a level on a 2.5 model, a budget on a
3.x model, both at once) and `maxOutputTokens` above the model's limit are 400 INVALID_ARGUMENT, with
the messages the real API sends where one was found (see MODELS and ERRORS below). `usageMetadata`
carries `cachedContentTokenCount` (inside `promptTokenCount`, as the API counts it) and
`thoughtsTokenCount`; a 429 carries `QuotaFailure`, `Help` and `RetryInfo` details. Recorded response
bodies in standins/recorded/gemini/ replay verbatim (`Reply.recorded`; a stream event by event:
`Reply.recorded_stream`).

Tests script the replies (first in, first out) and read back every request (model, method, headers,
JSON body). A reply may be scripted for one JSON schema (`only_for`), for calls that run concurrently
with others and so arrive in no fixed order; a schema listed in `reserved` takes only such replies. A reply can be an answer (text or JSON, with usage incl. thinking tokens and a finish
reason), a blocked prompt, an HTTP error (with a RetryInfo delay), a stall, an error frame in the
middle of a stream or a stream cut off without its end. A configurable latency (time to first token
and tokens per second, per model if wanted) paces every answer; a stream's events carry one word
each, or (`chunk_tokens`) about as many tokens as the real API's do. Every call's schedule (arrival,
first byte sent, last byte sent, client port) is kept and served at `GET /_standin/schedule`, so a
benchmark can reuse the server as it is and measure the model time itself.

Run it alone (canned answers for every node, so the whole graph runs against it):

    python -m standins.gemini --port 8765 --ttft 0.4 --tps 80
"""

from __future__ import annotations

import argparse
import collections
import hmac
import json
import math
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PATH = re.compile(
    r"^/(?P<version>v1beta|v1)/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
WORD = re.compile(r"\S+\s*|\s+")
FIXTURES = Path(__file__).resolve().parent / "recorded" / "gemini"
# Output tokens per streamed event of the real API: a recorded gemini-2.5-flash stream carries ~49
# (candidatesTokenCount 49, 97, 146, … 1563 over its first 32 events; standins/recorded/gemini/
# stream_events.sse and SOURCES.md). `GeminiStandIn(chunk_tokens=RECORDED_CHUNK_TOKENS)` streams so.
RECORDED_CHUNK_TOKENS = 49


@dataclass(frozen=True)
class ModelRules:
    """What the real API accepts from one model. Kept apart from the worker's own registry
    (core/gemini_models.py) on purpose: a mistake there shows up here as a refusal."""

    max_output_tokens: int
    budget: tuple[int, int] | None = None  # Gemini 2.5: thinkingBudget range (-1 always allowed)
    budget_zero: bool = False  # 2.5: thinkingBudget 0 (off) allowed
    levels: frozenset[str] = frozenset()  # Gemini 3.x: thinkingLevel values


# Sources, read 2026-11-26: 2.5 budgets from the table in github.com/snailyp/gemini-balance/issues/195
# (copied from ai.google.dev/gemini-api/docs/thinking); 3.x levels from docs.cloud.google.com
# gemini-enterprise-agent-platform models/gemini/3-8-flash (LOW, MEDIUM, HIGH; MINIMAL refused) and
# .../3-5-flash-lite (four levels), the 3.7 Flash row of the same guide; output limits from the
# models' pages (65,536; 2.5 Flash 65,535 per vercel.com/ai-gateway/models/gemini-2.5-flash.md).
MODELS: dict[str, ModelRules] = {
    "gemini-2.5-pro": ModelRules(65536, budget=(128, 32768)),
    "gemini-2.5-flash": ModelRules(65535, budget=(1, 24576), budget_zero=True),
    "gemini-2.5-flash-lite": ModelRules(65536, budget=(512, 24576), budget_zero=True),
    "gemini-3.1-flash-lite": ModelRules(65536, levels=frozenset({"MINIMAL", "LOW", "MEDIUM", "HIGH"})),
    "gemini-3.5-flash-lite": ModelRules(65536, levels=frozenset({"MINIMAL", "LOW", "MEDIUM", "HIGH"})),
    "gemini-3.7-flash": ModelRules(65536, levels=frozenset({"LOW", "MEDIUM", "HIGH"})),
    "gemini-3.8-flash": ModelRules(65536, levels=frozenset({"LOW", "MEDIUM", "HIGH"})),
    "gemini-3.1-pro-preview": ModelRules(65536, levels=frozenset({"LOW", "MEDIUM", "HIGH"})),
}

# The API's own words, recorded in public bug reports (read 2026-11-26):
ERRORS = {
    # github.com/openclaw/openclaw/issues/14036, github.com/swuecho/chat/issues/597
    "not_found": "models/{model} is not found for API version {version}, or is not supported for {method}. "
    "Call ListModels to see the list of available models and their supported methods.",
    # github.com/snailyp/gemini-balance/issues/206 (gemini-2.5-pro, thinkingBudget 0)
    "budget_zero": "Budget 0 is invalid. This model only works in thinking mode.",
    # github.com/RooCodeInc/Roo-Code/issues/4399
    "budget": "The thinking budget ({budget}) is invalid.",
    # github.com/RooCodeInc/Roo-Code/issues/10700 (gemini-2.5-flash), microsoft/vscode#334581 (2.5 Pro)
    "level_unsupported": "Thinking level is not supported for this model.",
    # github.com/theJayTea/WritingTools/issues/282 (gemini-3.8-flash, MINIMAL)
    "level": "Thinking level {level} is not supported for this model. Please retry with other thinking level.",
    # Not found in any recording: the docs say both in one request is a 400 (hexdocs.pm gemini_ex
    # ThinkingConfig, citing ai.google.dev/gemini-api/docs/gemini-3); the wording here is ours.
    "both": "thinking_level and thinking_budget cannot be set in the same request.",
    # Gemini 3 docs call thinkingBudget deprecated there; this stand-in refuses it outright so the
    # worker provably never sends it to a 3.x model. Wording ours.
    "budget_on_levels": "thinking_budget is not supported for this model; use thinking_level.",
    # No recording of this 400 was found; wording ours.
    "max_output": "The maxOutputTokens value {value} is out of range: this model allows at most {limit}.",
}


@dataclass(frozen=True)
class Latency:
    """How fast the stand-in answers: `ttft_s` before the first byte of an answer, then
    `tokens_per_s` for the output (None: all at once)."""

    ttft_s: float = 0.0
    tokens_per_s: float | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted response. Build it with the class methods."""

    text: str = ""
    chunks: tuple[str, ...] | None = None  # stream pieces; default: the text split after each word
    finish: str | None = "STOP"
    prompt_tokens: int = 120
    output_tokens: int | None = None  # candidatesTokenCount; default about one token per 4 characters
    thoughts_tokens: int = 0
    cached_tokens: int = 0  # cachedContentTokenCount, part of prompt_tokens
    block_reason: str | None = None  # promptFeedback.blockReason: no candidates at all
    http_status: int = 200
    error_status: str = ""
    error_message: str = ""
    retry_delay_s: float | None = None  # google.rpc.RetryInfo in the error details
    delay_s: float = 0.0  # stall before answering at all
    error_after_chunks: int | None = None  # a stream sends this many chunks, then an error frame
    cut_after_chunks: int | None = None  # a stream sends this many chunks, then drops the connection
    only_for: str | None = None  # a JSON schema title: only a request asking for it takes this reply
    raw_body: dict[str, Any] | None = None  # a recorded response body, sent as it is
    raw_events: tuple[dict[str, Any], ...] | None = None  # a recorded stream, one frame per event

    @classmethod
    def answer(cls, text: str, **kwargs: Any) -> Reply:
        if "chunks" in kwargs and kwargs["chunks"] is not None:
            kwargs["chunks"] = tuple(kwargs["chunks"])
            text = text or "".join(kwargs["chunks"])
        return cls(text=text, **kwargs)

    @classmethod
    def json(cls, value: Any, **kwargs: Any) -> Reply:
        return cls.answer(json.dumps(value, ensure_ascii=False), **kwargs)

    @classmethod
    def blocked(cls, reason: str = "SAFETY", **kwargs: Any) -> Reply:
        return cls(block_reason=reason, finish=None, **kwargs)

    @classmethod
    def error(cls, http_status: int, status: str, message: str = "", **kwargs: Any) -> Reply:
        return cls(
            http_status=http_status,
            error_status=status,
            error_message=message or f"stand-in {status}",
            finish=None,
            **kwargs,
        )

    @classmethod
    def rate_limited(cls, retry_delay_s: float | None = 1.0, **kwargs: Any) -> Reply:
        return cls.error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            retry_delay_s=retry_delay_s,
            **kwargs,
        )

    @classmethod
    def recorded(cls, name: str, **kwargs: Any) -> Reply:
        """A response body recorded from the real API (standins/recorded/gemini/<name>.json, sources
        in SOURCES.md there), replayed verbatim; its HTTP status from `error.code`, else 200."""
        body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        status = int((body.get("error") or {}).get("code", 200)) if isinstance(body, dict) else 200
        return cls(raw_body=body, http_status=status, finish=None, **kwargs)

    @classmethod
    def recorded_stream(cls, name: str, **kwargs: Any) -> Reply:
        """A stream recorded from the real API (standins/recorded/gemini/<name>.sse): its `data:`
        events replayed verbatim, one frame each, to a streaming call."""
        text = (FIXTURES / f"{name}.sse").read_text(encoding="utf-8")
        events = tuple(json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: "))
        return cls(raw_events=events, finish=None, **kwargs)

    def stalled(self, seconds: float) -> Reply:
        return replace(self, delay_s=seconds)

    def pieces(self, chunk_tokens: int | None = None) -> list[str]:
        """The stream's pieces: the scripted chunks; else, with `chunk_tokens`, words grouped so each
        piece carries about that many of the reply's output tokens; else one word per piece."""
        if self.chunks is not None:
            return list(self.chunks)
        words = WORD.findall(self.text)
        if not chunk_tokens or len(words) < 2:
            return words
        count = min(len(words), max(1, round(self.candidate_tokens() / chunk_tokens)))
        share = len(self.text) / count
        pieces, current, size = [], "", 0
        for word in words:
            current += word
            size += len(word)
            if size >= share * (len(pieces) + 1) and len(pieces) < count - 1:
                pieces.append(current)
                current = ""
        return [*pieces, current] if current else pieces

    def candidate_tokens(self) -> int:
        if self.output_tokens is not None:
            return self.output_tokens
        return math.ceil(len(self.text) / 4) if self.text else 0


@dataclass
class Recorded:
    """One request as the stand-in saw it."""

    model: str
    method: str  # generateContent | streamGenerateContent
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    arrived: float = field(default_factory=time.monotonic)
    # The stand-in's own schedule (time.monotonic(), system-wide on Linux, so other processes on
    # this host can compare): the first and the last byte of the answer sent, and the client's
    # port (one port per TCP connection, so connection reuse shows).
    first_byte: float | None = None
    finished: float | None = None
    client_port: int | None = None

    @property
    def generation_config(self) -> dict[str, Any]:
        return self.body.get("generationConfig") or {}

    @property
    def system_text(self) -> str:
        parts = (self.body.get("systemInstruction") or {}).get("parts") or []
        return "".join(p.get("text", "") for p in parts)

    @property
    def user_text(self) -> str:
        return "\n".join(
            p.get("text", "")
            for c in self.body.get("contents", [])
            if c.get("role") == "user"
            for p in c.get("parts", [])
        )

    @property
    def thinking_config(self) -> dict[str, Any]:
        """thinkingConfig with camelCase keys (the client writes snake_case; the API reads both)."""
        raw = self.generation_config.get("thinkingConfig") or self.generation_config.get("thinking_config") or {}
        return {re.sub(r"_([a-z])", lambda m: m[1].upper(), key): value for key, value in raw.items()}

    @property
    def schema_title(self) -> str | None:
        return (self.generation_config.get("responseJsonSchema") or {}).get("title")

    def timing(self) -> dict[str, Any]:
        """This call's schedule, as `GET /_standin/schedule` serves it."""
        thinking = self.thinking_config
        return {
            "model": self.model,
            "method": self.method,
            "schema": self.schema_title,
            "arrived": self.arrived,
            "first_byte": self.first_byte,
            "finished": self.finished,
            "client_port": self.client_port,
            "thinking_budget": thinking.get("thinkingBudget"),
            "thinking_level": thinking.get("thinkingLevel"),
            "max_output_tokens": self.generation_config.get("maxOutputTokens"),
        }


Responder = Callable[[Recorded], Reply]


class GeminiStandIn:
    """Start with `with GeminiStandIn() as gemini:` (or start()/stop()); point the client at
    `gemini.base_url`; `gemini.script(Reply…)`; read `gemini.requests`."""

    def __init__(
        self,
        *,
        api_key: str = "stand-in-key",
        latency: Latency = Latency(),
        responder: Responder | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        model_latency: dict[str, Latency] | None = None,
        reserved: Collection[str] = (),
        chunk_tokens: int | None = None,
    ):
        self.api_key = api_key
        # Output tokens per streamed event (None: one word per event, the finest a test can ask for).
        self.chunk_tokens = chunk_tokens
        # Schemas whose requests take only replies scripted `only_for` them, never the next one
        # in line (their calls run beside others, in no fixed order).
        self.reserved = frozenset(reserved)
        self.latency = latency
        self.model_latency = dict(model_latency or {})  # per model name; others use `latency`
        self.responder = responder
        self.requests: list[Recorded] = []
        self._replies: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def unused(self) -> int:
        """Scripted replies nobody asked for (a test expecting more calls than happened)."""
        with self._lock:
            return len(self._replies)

    def latency_for(self, model: str) -> Latency:
        return self.model_latency.get(model, self.latency)

    def schedule(self, since: int = 0) -> list[dict[str, Any]]:
        """The timing of every call from index `since` on, in arrival order."""
        with self._lock:
            return [r.timing() for r in self.requests[since:]]

    def start(self) -> GeminiStandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="gemini-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GeminiStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Used by the handler threads.

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _next_reply(self, recorded: Recorded) -> Reply:
        title = recorded.schema_title
        with self._lock:
            self.requests.append(recorded)
            # The first reply scripted for this schema, else the first one scripted for none.
            for fits in (
                lambda r: title is not None and r.only_for == title,
                lambda r: r.only_for is None and title not in self.reserved,
            ):
                for index, reply in enumerate(self._replies):
                    if fits(reply):
                        del self._replies[index]
                        return reply
        if self.responder is not None:
            return self.responder(recorded)
        return Reply.error(400, "FAILED_PRECONDITION", "stand-in: no reply scripted for this request")

    def _pause(self, seconds: float) -> bool:
        """Sleep, unless the server is stopping. False when it is."""
        return not (seconds > 0 and self._stopping.wait(seconds))

    def _pace(self, tokens: int, latency: Latency) -> bool:
        rate = latency.tokens_per_s
        return self._pause(tokens / rate) if rate else True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once (a benchmark) must not be refused

    def __init__(self, address, handler, standin: GeminiStandIn):
        self.standin = standin
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        pass  # clients that time out close the socket under a stalled handler: expected here


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle's algorithm the body would wait for
    # the client's delayed ACK of the headers (~40 ms on Linux), a delay no real API adds.
    disable_nagle_algorithm = True

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/_standin/schedule":
            return self._send_json(404, _error_body(404, "NOT_FOUND", f"no such resource: {url.path}"))
        since = int((parse_qs(url.query).get("since") or ["0"])[0])
        self._send_json(200, {"calls": self.server.standin.schedule(since)})

    def do_POST(self) -> None:
        standin = self.server.standin
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        match = PATH.match(url.path)
        if match is None:
            return self._send_json(404, _error_body(404, "NOT_FOUND", f"no such method: {url.path}"))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._send_json(400, _error_body(400, "INVALID_ARGUMENT", "request body is not JSON"))
        recorded = Recorded(
            model=match["model"],
            method=match["method"],
            query=parse_qs(url.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_port=self.client_address[1],
        )
        given = self.headers.get("x-goog-api-key", "").encode()
        if not hmac.compare_digest(given, standin.api_key.encode()):
            standin._record(recorded)
            body = _error_body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
            body["error"]["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ]
            return self._send_json(400, body)
        refusal = _refusal(recorded, match["version"])
        if refusal is not None:
            standin._record(recorded)
            return self._send_json(refusal["error"]["code"], refusal)
        reply = standin._next_reply(recorded)
        if not standin._pause(reply.delay_s):
            return
        if reply.raw_events is not None:
            return self._replay_stream(recorded, *reply.raw_events)
        if reply.raw_body is not None:
            if reply.http_status == 200 and recorded.method == "streamGenerateContent":
                return self._replay_stream(recorded, reply.raw_body)
            return self._send_json(reply.http_status, reply.raw_body)
        if reply.http_status != 200:
            return self._send_json(
                reply.http_status,
                _error_body(reply.http_status, reply.error_status, reply.error_message, reply.retry_delay_s),
            )
        latency = standin.latency_for(recorded.model)
        if not standin._pause(latency.ttft_s):
            return
        if recorded.method == "generateContent":
            if not standin._pace(reply.candidate_tokens() + reply.thoughts_tokens, latency):
                return
            self._send_json(200, _response(recorded.model, reply, reply.text, reply.finish, reply.candidate_tokens()))
            recorded.first_byte = recorded.finished = time.monotonic()
            return None
        self._stream(recorded, reply, latency)

    def _stream(self, recorded: Recorded, reply: Reply, latency: Latency) -> None:
        standin = self.server.standin
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = reply.pieces(standin.chunk_tokens) or [""]
        total_chars = sum(len(p) for p in pieces) or 1
        total_tokens = reply.candidate_tokens()
        sent_chars = 0
        sent_tokens = 0
        for index, piece in enumerate(pieces):
            if reply.cut_after_chunks is not None and index >= reply.cut_after_chunks:
                self.close_connection = True  # no terminating chunk: the body is incomplete
                return
            if reply.error_after_chunks is not None and index >= reply.error_after_chunks:
                self._frame(_error_body(500, "INTERNAL", "An internal error has occurred."))
                return self._end()
            # Cumulative counts, as the real API reports them on every chunk.
            sent_chars += len(piece)
            tokens_now = round(total_tokens * sent_chars / total_chars)
            if not standin._pace(tokens_now - sent_tokens, latency):  # a piece leaves once generated
                return
            sent_tokens = tokens_now
            last = index == len(pieces) - 1
            self._frame(_response(recorded.model, reply, piece, reply.finish if last else None, tokens_now))
            if recorded.first_byte is None:
                recorded.first_byte = time.monotonic()
        self._end()
        recorded.finished = time.monotonic()

    def _replay_stream(self, recorded: Recorded, *events: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        recorded.first_byte = time.monotonic()
        for event in events:
            self._frame(event)
        self._end()
        recorded.finished = time.monotonic()

    def _frame(self, payload: dict[str, Any]) -> None:
        self._chunk(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _refusal(recorded: Recorded, version: str) -> dict[str, Any] | None:
    """The error body the real API answers this request with before generating anything, or None."""
    rules = MODELS.get(recorded.model)
    if rules is None:
        method = recorded.method
        return _error_body(
            404, "NOT_FOUND", ERRORS["not_found"].format(model=recorded.model, version=version, method=method)
        )
    invalid = _invalid_argument(rules, recorded)
    return None if invalid is None else _error_body(400, "INVALID_ARGUMENT", invalid)


def _invalid_argument(rules: ModelRules, recorded: Recorded) -> str | None:
    cap = recorded.generation_config.get("maxOutputTokens", recorded.generation_config.get("max_output_tokens"))
    if cap is not None and int(cap) > rules.max_output_tokens:
        return ERRORS["max_output"].format(value=cap, limit=rules.max_output_tokens)
    thinking = recorded.thinking_config
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget is not None and level is not None:
        return ERRORS["both"]
    if level is not None:
        if not rules.levels:
            return ERRORS["level_unsupported"]
        if str(level).upper() not in rules.levels:
            return ERRORS["level"].format(level=str(level).upper())
    if budget is not None:
        if rules.budget is None:
            return ERRORS["budget_on_levels"]
        low, high = rules.budget
        if budget == 0 and not rules.budget_zero:
            return ERRORS["budget_zero"]
        if budget not in (0, -1) and not low <= budget <= high:
            return ERRORS["budget"].format(budget=budget)
    return None


def _response(model: str, reply: Reply, text: str, finish: str | None, candidate_tokens: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": reply.prompt_tokens}
    if reply.cached_tokens:
        usage["cachedContentTokenCount"] = reply.cached_tokens
    if candidate_tokens:
        usage["candidatesTokenCount"] = candidate_tokens
    if reply.thoughts_tokens:
        usage["thoughtsTokenCount"] = reply.thoughts_tokens
    usage["totalTokenCount"] = reply.prompt_tokens + candidate_tokens + reply.thoughts_tokens
    body: dict[str, Any] = {"usageMetadata": usage, "modelVersion": model, "responseId": "stand-in"}
    if reply.block_reason is not None:
        body["promptFeedback"] = {
            "blockReason": reply.block_reason,
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}],
        }
        return body
    content: dict[str, Any] = {"role": "model"}
    if text:
        content["parts"] = [{"text": text}]
    candidate: dict[str, Any] = {"content": content, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    if finish in ("SAFETY", "PROHIBITED_CONTENT"):
        candidate["safetyRatings"] = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]
    body["candidates"] = [candidate]
    return body


def _error_body(code: int, status: str, message: str, retry_delay_s: float | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if code == 429:
        # The details a real quota 429 carries (standins/recorded/gemini/rate_limited.json).
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global"},
                    }
                ],
            },
        ]
    if retry_delay_s is not None:
        error.setdefault("details", []).append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_delay_s:g}s"}
        )
    return {"error": error}


# --- canned answers: the whole graph runs against the stand-in without a script -----------------

CANNED_REPLY = (
    "오늘은 Push Day A 차례예요! 바벨 벤치프레스 4세트 × 8회(70kg)로 시작하고, "
    "인클라인 덤벨 프레스와 오버헤드 프레스로 이어가세요. 무리하지 말고 폼을 먼저 챙기세요."
)
# Push Day A of the demo user exactly as the embedded VM API serves it: a routine update must return
# the whole routine with only the declared change (the update node recomputes the diff).
CANNED_PUSH_DAY = [
    {"exercise_code": "BARBELL_BENCH_PRESS", "exercise_name": "바벨 벤치프레스", "sets": 4, "reps": 8, "weight_kg": 70},
    {
        "exercise_code": "INCLINE_DUMBBELL_PRESS",
        "exercise_name": "인클라인 덤벨 프레스",
        "sets": 3,
        "reps": 10,
        "weight_kg": 24,
    },
    {"exercise_code": "OVERHEAD_PRESS", "exercise_name": "오버헤드 프레스", "sets": 3, "reps": 8, "weight_kg": 40},
    {
        "exercise_code": "DUMBBELL_LATERAL_RAISE",
        "exercise_name": "덤벨 사이드 레터럴 레이즈",
        "sets": 3,
        "reps": 15,
        "weight_kg": 8,
    },
    {
        "exercise_code": "CABLE_TRICEPS_PUSHDOWN",
        "exercise_name": "케이블 트라이셉스 푸시다운",
        "sets": 3,
        "reps": 12,
        "weight_kg": 25,
    },
]


def canned_responder(recorded: Recorded) -> Reply:
    """A plausible answer for whichever node is asking (told apart by its JSON schema): chat for the
    router, a fixed plan, a one-day program, one swap in Push Day A, and a fixed streamed answer."""
    title = recorded.schema_title
    if title == "RouteDecision":
        return Reply.json(
            {"intent": "CHAT_RESPONSE", "confidence": 0.93, "reason": "asks about today's workout", "search_terms": []},
            prompt_tokens=900,
            output_tokens=40,
        )
    if title == "ChatPlan":
        return Reply.json(
            {
                "action": "GET_ACTIVE_ROUTINES",
                "required_context": ["active_routines", "profile"],
                "search_terms": [],
                "memory_query": "injuries",
            },
            prompt_tokens=450,
            output_tokens=45,
        )
    if title == "MemoryNotes":
        return Reply.json({"memories_to_save": []}, prompt_tokens=300, output_tokens=8)
    if title == "Program":
        return Reply.json(
            {
                "program_name": "4주 근비대",
                "goal": "HYPERTROPHY",
                "weeks": 4,
                "days_per_week": 1,
                "experience_level": "INTERMEDIATE",
                "notes": "",
                "routines": [{"routine_name": "Push", "routine_order": 1, "plans": CANNED_PUSH_DAY}],
            },
            prompt_tokens=2400,
            output_tokens=400,
            thoughts_tokens=900,
        )
    if title == "RoutineUpdate":
        swapped = [
            {
                **CANNED_PUSH_DAY[0],
                "exercise_code": "DUMBBELL_BENCH_PRESS",
                "exercise_name": "덤벨 벤치프레스",
                "weight_kg": 28,
            },
            *CANNED_PUSH_DAY[1:],
        ]
        return Reply.json(
            {
                "routine_name": "Push Day A",
                "routine_order": 1,
                "summary": "벤치프레스를 덤벨로 바꿨어요.",
                "changes": [
                    {"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}
                ],
                "updated_routine": {"routine_name": "Push Day A", "routine_order": 1, "plans": swapped},
            },
            prompt_tokens=1800,
            output_tokens=300,
            thoughts_tokens=500,
        )
    # The answer's long system prompt is the same every time: Gemini serves part of it from its
    # implicit context cache (cachedContentTokenCount, inside promptTokenCount).
    return Reply.answer(CANNED_REPLY, prompt_tokens=1500, cached_tokens=1024, thoughts_tokens=300)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the Gemini stand-in with canned answers on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default="stand-in-key", help="the x-goog-api-key clients must send")
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds before the first token")
    parser.add_argument("--tps", type=float, default=None, help="output tokens per second (default: instant)")
    args = parser.parse_args(argv)
    standin = GeminiStandIn(
        api_key=args.api_key, latency=Latency(args.ttft, args.tps), responder=canned_responder, port=args.port
    )
    print(json.dumps({"gemini_stand_in": standin.base_url}), flush=True)
    try:
        standin._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        standin._server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
