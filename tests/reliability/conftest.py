"""Fixtures of the reliability suite, and the figures it prints at the end of a session."""

from __future__ import annotations

import pytest

from adapters.vm_api.http import HttpVMApi
from standins.vm import TOKEN
from tests.reliability.ledger import LEDGER, Ledger

VM_READ_TIMEOUT_S = 0.3
STALL_S = 1.0  # comfortably past VM_READ_TIMEOUT_S


@pytest.fixture
def ledger() -> Ledger:
    return LEDGER


@pytest.fixture
async def http_vm(vm_stub):
    api = HttpVMApi(vm_stub.base_url, TOKEN, read_timeout=VM_READ_TIMEOUT_S, backoff_s=0.01)
    yield api
    await api.aclose()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not LEDGER.used:
        return
    terminalreporter.section("reliability figures")
    for line in LEDGER.lines():
        terminalreporter.write_line(line)
