"""The VM Internal API stub (adapters/vm_api/stub_server.py) started for a test and always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from adapters.vm_api.stub_server import VMStubServer

TOKEN = "stub-token-for-tests"


@contextmanager
def running_stub(**options) -> Iterator[VMStubServer]:
    server = VMStubServer("127.0.0.1", 0, options.pop("token", TOKEN), **options)
    if options.get("listen", True):
        server.start_in_thread()
    try:
        yield server
    finally:
        server.stop()
