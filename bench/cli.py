"""`reppy-worker bench` / `python -m bench`: run every phase, print the table, write results.json.

    reppy-worker bench                       defaults: a few minutes on a 2-core machine
    reppy-worker bench --iterations 10       more runs per intent (steadier p95)
    reppy-worker bench --quick               seconds; the machinery only, figures not meaningful

Progress goes to stderr, the table to stdout. Every server runs on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.config import BenchConfig, ModelSpeed

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reppy-worker bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings: seconds, for a smoke test")
    parser.add_argument("--iterations", type=int, help="measured requests per intent at realistic latency (3)")
    parser.add_argument("--overhead-iterations", type=int, help="measured requests per intent at zero latency (10)")
    parser.add_argument("--concurrency", type=int, help="concurrent chat requests (50)")
    parser.add_argument("--cold-runs", type=int, help="fresh interpreters per import figure (3)")
    parser.add_argument("--flash-ttft-ms", type=float, help="router model: time to first token (300)")
    parser.add_argument("--flash-tps", type=float, help="router model: output tokens per second (150)")
    parser.add_argument("--pro-ttft-ms", type=float, help="main model: time to first token (800)")
    parser.add_argument("--pro-tps", type=float, help="main model: output tokens per second (60)")
    parser.add_argument("--vm-latency-ms", type=float, help="VM API stub: delay per call (30)")
    parser.add_argument(
        "--chunk-tokens",
        type=int,
        help="output tokens per streamed event (49, as a recorded Gemini stream; 0: one word per event)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results file ({DEFAULT_OUT.name})")
    args = parser.parse_args(argv)

    config = BenchConfig.quick() if args.quick else BenchConfig()
    flash, pro = config.flash, config.pro
    config = config.with_overrides(
        iterations=args.iterations,
        overhead_iterations=args.overhead_iterations,
        concurrency=args.concurrency,
        cold_runs=args.cold_runs,
        flash=ModelSpeed(_s(args.flash_ttft_ms, flash.ttft_s), args.flash_tps or flash.tokens_per_s),
        pro=ModelSpeed(_s(args.pro_ttft_ms, pro.ttft_s), args.pro_tps or pro.tokens_per_s),
        vm_latency_s=_s(args.vm_latency_ms, None),
    )
    if args.chunk_tokens is not None:
        config = replace(config, stream_chunk_tokens=args.chunk_tokens or None)
    figures = asyncio.run(run(config, args.out))
    from bench.report import table

    print(table(figures))
    print(f"\nwritten to {args.out}", file=sys.stderr)
    return 0


async def run(config: BenchConfig, out: Path | None, log=None) -> dict[str, Any]:
    """Every phase in order; returns (and writes to `out`) the figures."""
    from bench import cold_start, measure, report
    from bench.servers import BenchServers

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    started = time.monotonic()
    log("cold start: `import func` vs every dependency, fresh interpreters …")
    cold = cold_start.import_times(config.cold_runs)
    with tempfile.TemporaryDirectory(prefix="reppy-bench-") as tmp:
        oci = measure.OciStream.start(Path(tmp))
        try:
            with BenchServers(config.zero_latency()) as zero:
                log("a fresh function instance: first request, peak RSS …")
                instance = cold_start.first_request(zero.gemini_url, zero.vm_url, oci.function_env())
                log("zero-latency stand-ins: the worker's own time per request …")
                worker = measure.build_worker(zero, Path(tmp) / "qdrant-zero")
                try:
                    overhead = await measure.overhead(worker, config, log)
                finally:
                    await worker.deps.aclose()
            with BenchServers(config) as servers:
                log(
                    f"realistic latency (flash {config.flash.ttft_s * 1000:.0f} ms + {config.flash.tokens_per_s} tok/s, "
                    f"pro {config.pro.ttft_s * 1000:.0f} ms + {config.pro.tokens_per_s} tok/s, "
                    f"VM {config.vm_latency_s * 1000:.0f} ms), {config.iterations} per intent …"
                )
                worker = measure.build_worker(servers, Path(tmp) / "qdrant-real", oci=oci)
                try:
                    realistic = await measure.realistic(worker, servers, config, oci, log)
                    log("chat, planner beside the router vs after it (the seed's order), alternately …")
                    sequential = await measure.sequential(worker, config, log)
                    log(f"{config.concurrency} concurrent chat requests …")
                    concurrency = await measure.concurrency(worker, config, oci)
                finally:
                    await worker.deps.aclose()
                log("a fresh function instance at realistic latency: first request vs a warm one …")
                instance_realistic = cold_start.first_request(
                    servers.gemini_url, servers.vm_url, oci.function_env(), every_intent=False
                )
        finally:
            oci.stop()
    figures = report.results(
        config.as_dict(),
        realistic,
        overhead,
        concurrency,
        cold,
        instance,
        time.monotonic() - started,
        sequential=sequential,
        instance_realistic=instance_realistic,
    )
    if out is not None:
        report.write(figures, out)
    return figures


def _s(ms: float | None, default: float | None) -> float | None:
    return default if ms is None else ms / 1000


if __name__ == "__main__":
    sys.exit(main())
