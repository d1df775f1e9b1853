"""The performance benchmark (`reppy-worker bench`, `python -m bench`): the compiled graph through the
real clients against local stand-ins with realistic latency, measured against the model's own
critical path. Runs from a source checkout (it reads prompts/ and reuses the stand-ins in standins/).

    scenarios.py   the requests per intent and the model answers the stand-in gives them
    config.py      latencies, token counts, iterations
    servers.py     the Gemini stand-in and the VM stub, in their own process
    probe.py       per-request timing: adapter calls, first token, result
    measure.py     the phases: realistic, zero-latency overhead, concurrency
    cold_start.py  import time in a fresh interpreter, first request, peak RSS
    report.py      the table and bench/results.json
"""
