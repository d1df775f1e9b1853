"""`reppy-worker`: run one request locally and print its events as JSON lines (`--help` shows
the same usage)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

EXAMPLE_REQUEST = {
    "requestId": "req-12345",
    "userId": "user-67890",
    "conversation_history": [{"role": "user", "content": "오늘 운동 뭐 해야 돼?"}],
    "stream": True,
    "metadata": {},
}
EXIT_CODES = {"SUCCEEDED": 0, "CLARIFY": 0, "SKIPPED": 0, "FAILED": 1, "INVALID": 2}
USAGE = """\
a request:
  reppy-worker --example                   a chat request for the demo user
  reppy-worker -f examples/request.json    a file
  reppy-worker -j '{"requestId": …}'       a JSON string
  reppy-worker < examples/request.json     on stdin
  reppy-worker --vm-url http://127.0.0.1:8080/internal --example

sub-commands (each has its own --help):
  reppy-worker vm-stub [--port 8080]       the embedded VM Internal API as an HTTP server
  reppy-worker eval routing                measure the router on the labelled cases
  reppy-worker eval answers                answer quality per category (pain, advice, constraints, …)
  reppy-worker schema [NAME] [--write DIR] the published JSON Schemas of the request and the events
  reppy-worker report LOGFILE…             latency, cost and failures per intent and node from JSON logs
  reppy-worker memory export|forget --user ID   a user's stored memories: export, or delete them all
  reppy-worker bench [--quick]             the performance benchmark (from a source checkout)

Events go to stdout, logs to stderr. Exit codes: 0 SUCCEEDED / CLARIFY / skipped (requestId already
claimed), 1 FAILED, 2 unusable input or configuration, 130 interrupted (Ctrl-C)."""

log = logging.getLogger("reppy.cli")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["vm-stub"]:
        return vm_stub(argv[1:])
    if argv[:1] == ["eval"]:
        from app.evaluation import eval_command

        return eval_command(argv[1:])
    if argv[:1] == ["bench"]:
        return bench(argv[1:])
    if argv[:1] == ["schema"]:
        return schema(argv[1:])
    if argv[:1] == ["report"]:
        from app.report import report_command

        return report_command(argv[1:])
    if argv[:1] == ["memory"]:
        from app.memory_admin import memory_command

        return memory_command(argv[1:])
    return run(argv)


def bench(argv: list[str]) -> int:
    from bench.cli import main as bench_main

    return bench_main(argv)


def schema(argv: list[str]) -> int:
    from core.json_schemas import SCHEMAS, json_schema, schema_text

    parser = argparse.ArgumentParser(
        prog="reppy-worker schema", description="Print the published JSON Schemas of the wire contracts."
    )
    parser.add_argument("name", nargs="?", choices=list(SCHEMAS), help="one schema (default: all, by name)")
    parser.add_argument("--write", type=Path, metavar="DIR", help="write <name>.schema.json files into DIR instead")
    args = parser.parse_args(argv)
    names = [args.name] if args.name else list(SCHEMAS)
    if args.write is not None:
        args.write.mkdir(parents=True, exist_ok=True)
        for name in names:
            (args.write / f"{name}.schema.json").write_text(schema_text(name), encoding="utf-8")
            print(args.write / f"{name}.schema.json")
    elif args.name:
        print(schema_text(args.name), end="")
    else:
        print(json.dumps({name: json_schema(name) for name in names}, ensure_ascii=False, indent=2))
    return 0


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="reppy-worker",
        description="Run one Reppy Worker request locally: from -f, -j, --example or stdin.",
        epilog=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-f", "--file", type=Path, help="request JSON file")
    source.add_argument("-j", "--json", help="request JSON string")
    source.add_argument("--example", action="store_true", help="run a chat request for the demo user")
    parser.add_argument("--vm-url", help="VM Internal API base URL (overrides VM_INTERNAL_BASE_URL)")
    args = parser.parse_args(argv)

    from app.command_settings import load_settings

    settings = load_settings(vm_url=args.vm_url)
    if settings is None:
        return 2
    raw = _read_request(args)
    if raw is None:
        parser.print_usage(sys.stderr)
        print("reppy-worker: give a request with -f, -j, --example or on stdin", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run_one(raw, settings))
    except KeyboardInterrupt:  # Ctrl-C: a claimed request has printed its CANCELLED result already
        print("reppy-worker: interrupted", file=sys.stderr)
        return 130


async def _run_one(raw: str | bytes | dict, settings) -> int:
    from app.dependencies import build_dependencies
    from app.runner import handle
    from core.errors import WorkerError

    try:
        deps = build_dependencies(settings)
    except WorkerError as exc:
        print(f"reppy-worker: configuration error: {exc.message}", file=sys.stderr)
        return 2
    try:
        outcome = await handle(raw, deps)
    finally:
        await deps.aclose()
    if outcome.status == "INVALID" and outcome.request_id is None:
        print("reppy-worker: invalid request (see the log above); no requestId to report it under", file=sys.stderr)
    return EXIT_CODES[outcome.status]


def _read_request(args) -> str | bytes | dict | None:
    if args.example:
        return EXAMPLE_REQUEST
    if args.json is not None:
        return args.json
    if args.file is not None:
        try:
            return args.file.read_bytes()
        except OSError as exc:
            print(f"reppy-worker: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return b""  # reported as an invalid (empty) request
    if not sys.stdin.isatty():
        return sys.stdin.buffer.read()
    return None


def vm_stub(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="reppy-worker vm-stub", description="Serve the embedded VM Internal API over HTTP."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--prefix", default="/internal")
    args = parser.parse_args(argv)
    from app.command_settings import load_settings

    settings = load_settings()
    if settings is None:
        return 2
    if settings.VM_INTERNAL_TOKEN is None:
        print("reppy-worker vm-stub: set VM_INTERNAL_TOKEN (clients must send it as a Bearer token)", file=sys.stderr)
        return 2
    from adapters.vm_api.stub_server import VMStubServer

    server = VMStubServer(args.host, args.port, settings.VM_INTERNAL_TOKEN.get_secret_value(), prefix=args.prefix)
    # One machine-readable line, so scripts and tests learn the port.
    print(json.dumps({"vm_stub": server.base_url}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
