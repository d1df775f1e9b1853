"""The HTTP VM API client against the embedded API served as a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest

from adapters.vm_api.embedded import EmbeddedVMApi
from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import VMStubServer
from worker.errors import VMAuthError, VMUnavailable

TOKEN = "stub-token-for-tests"
pytestmark = pytest.mark.integration


@pytest.fixture
def stub():
    server = VMStubServer("127.0.0.1", 0, TOKEN)
    server.start_in_thread()
    yield server
    server.stop()


@pytest.fixture
async def client(stub):
    api = HttpVMApi(stub.base_url, TOKEN, backoff_s=0.01)
    yield api
    await api.aclose()


async def test_http_answers_equal_embedded(client):
    embedded = EmbeddedVMApi()
    for user in ("user-67890", "user-12345", "nobody"):
        assert await client.get_profile(user) == await embedded.get_profile(user)
        assert await client.get_active_routines(user) == await embedded.get_active_routines(user)
    for q in ("벤치프레스", "가슴", "rack pulls", ""):
        assert await client.search_exercises(q) == await embedded.search_exercises(q)


async def test_claim_is_shared_by_all_clients(stub, client):
    other = HttpVMApi(stub.base_url, TOKEN)
    try:
        assert await client.claim("req-shared") is True
        assert await other.claim("req-shared") is False
    finally:
        await other.aclose()


async def test_bearer_token_and_prefix_are_checked(stub):
    wrong = HttpVMApi(stub.base_url, "wrong-token")
    no_prefix = HttpVMApi(stub.base_url.removesuffix("/internal"), TOKEN)
    try:
        with pytest.raises(VMAuthError) as info:
            await wrong.get_profile("user-67890")
        assert "wrong-token" not in info.value.message
        with pytest.raises(VMUnavailable, match="404"):
            await no_prefix.get_active_routines("user-67890")
    finally:
        await wrong.aclose()
        await no_prefix.aclose()


async def test_user_id_stays_one_path_segment(stub, client):
    await client.get_active_routines("a/b")
    assert stub.calls[-1] == ("GET", "/internal/users/a%2Fb/active-routines")


async def test_unreachable_vm_is_typed():
    api = HttpVMApi("http://127.0.0.1:9/internal", TOKEN, connect_timeout=0.2, backoff_s=0.01)
    try:
        with pytest.raises(VMUnavailable, match="unreachable"):
            await api.get_profile("user-67890")
        with pytest.raises(VMUnavailable):
            await api.claim("req-x")
    finally:
        await api.aclose()
