"""The HTTP VM API client against the embedded API served as a real HTTP server on 127.0.0.1:
same answers as the embedded API, Bearer token, path prefix, userId encoding, typed bodies."""

from __future__ import annotations

import copy

import pytest

from adapters.vm_api.base import default_profile
from adapters.vm_api.demo import DemoStore, demo_data
from adapters.vm_api.embedded import EmbeddedVMApi
from adapters.vm_api.http import HttpVMApi
from adapters.vm_api.stub_server import Fault
from core.errors import InvalidRequest, VMAuthError, VMUnavailable
from standins.vm import TOKEN, running_stub

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(vm_stub):
    api = HttpVMApi(vm_stub.base_url, TOKEN, backoff_s=0.01)
    yield api
    await api.aclose()


async def test_http_answers_equal_embedded(client):
    embedded = EmbeddedVMApi()
    for user in ("user-67890", "user-12345", "nobody"):
        assert await client.get_profile(user) == await embedded.get_profile(user)
        assert await client.get_active_routines(user) == await embedded.get_active_routines(user)
    for q in ("벤치프레스", "가슴", "rack pulls", "", "a&q=b c/d"):
        assert await client.search_exercises(q) == await embedded.search_exercises(q)


async def test_claim_is_shared_by_all_clients(vm_stub, client):
    other = HttpVMApi(vm_stub.base_url, TOKEN)
    try:
        assert await client.claim("req-shared") is True
        assert await other.claim("req-shared") is False
    finally:
        await other.aclose()


async def test_bearer_token_and_prefix_are_checked(vm_stub):
    wrong = HttpVMApi(vm_stub.base_url, "wrong-token")
    missing = HttpVMApi(vm_stub.base_url, None)
    no_prefix = HttpVMApi(vm_stub.base_url.removesuffix("/internal"), TOKEN)
    try:
        for api in (wrong, missing):
            with pytest.raises(VMAuthError) as info:
                await api.get_profile("user-67890")
            assert info.value.code == "VM_AUTH" and not info.value.retryable
            assert "wrong-token" not in info.value.message
        with pytest.raises(VMUnavailable, match="404"):
            await no_prefix.get_active_routines("user-67890")
    finally:
        for api in (wrong, missing, no_prefix):
            await api.aclose()


async def test_a_longer_prefix_is_kept():
    with running_stub(prefix="/api/v2/internal") as vm_stub:
        api = HttpVMApi(vm_stub.base_url + "/", TOKEN)  # a trailing slash in the setting is fine
        try:
            assert [r["routine_name"] for r in await api.get_active_routines("user-12345")] == [
                "Full Body A",
                "Full Body B",
            ]
        finally:
            await api.aclose()
        assert vm_stub.calls == [("GET", "/api/v2/internal/users/user-12345/active-routines")]


@pytest.mark.reliability
async def test_user_id_is_one_encoded_path_segment():
    data = copy.deepcopy(demo_data())
    data["users"]["coach:kim@gym.kr"] = data["users"].pop("user-12345")
    with running_stub(store=DemoStore(data)) as vm_stub:
        api = HttpVMApi(vm_stub.base_url, TOKEN)
        try:
            routines = await api.get_active_routines("coach:kim@gym.kr")
            assert routines[0]["routine_name"] == "Full Body A"  # the server decoded it back
            assert vm_stub.calls[-1] == ("GET", "/internal/users/coach%3Akim%40gym.kr/active-routines")
            calls_before = len(vm_stub.calls)
            for bad in ("a/b", "../admin", "", "x" * 200, "user 1", "%2e%2e"):
                with pytest.raises(InvalidRequest):
                    await api.get_profile(bad)
            assert len(vm_stub.calls) == calls_before  # rejected before anything was sent
        finally:
            await api.aclose()


async def test_missing_profile_is_the_default(vm_stub, client):
    vm_stub.inject("profile", Fault("status", status=404))
    assert await client.get_profile("user-67890") == default_profile()
    assert (await client.get_profile("user-67890"))["username"] == "Alex"  # the fault was used once


async def test_extra_fields_pass_through_and_missing_ones_fail_clearly(vm_stub, client):
    routine = {
        "routine_name": "Push",
        "routine_order": 1,
        "color": "red",
        "plans": [{"exercise_code": "PUSH_UP", "sets": 3, "reps": 10, "tempo": "3-1-1"}],
    }
    vm_stub.inject("active-routines", Fault("body", body={"routines": [routine], "page": 1}))
    assert await client.get_active_routines("user-67890") == [routine]

    vm_stub.inject("active-routines", Fault("body", body={"routines": [{"routine_order": 1, "plans": []}]}))
    with pytest.raises(VMUnavailable, match=r"routines\.0\.routine_name: Field required") as info:
        await client.get_active_routines("user-67890")
    assert not info.value.retryable

    vm_stub.inject("search", Fault("body", body={"results": []}))
    with pytest.raises(VMUnavailable, match="items"):
        await client.search_exercises("스쿼트")


async def test_unreachable_vm_is_typed():
    with running_stub() as vm_stub:
        base_url = vm_stub.base_url  # a port that was just closed
    api = HttpVMApi(base_url, TOKEN, connect_timeout=0.5, backoff_s=0.01)
    try:
        with pytest.raises(VMUnavailable, match="unreachable") as info:
            await api.get_profile("user-67890")
        assert info.value.retryable
        with pytest.raises(VMUnavailable):
            await api.claim("req-x")
    finally:
        await api.aclose()


async def test_catalog_search_terms_are_deduplicated_and_capped(vm_stub, client, llm, memory):
    from langgraph.runtime import Runtime

    from graph.context import Context
    from nodes.gather_context import gather_context
    from tests.conftest import request

    runtime = Runtime(
        context=Context(llm=llm, vm=client, memory=memory, min_confidence=0.5, catalog_max_searches=4, memory_top_k=5)
    )
    terms = ["벤치프레스", "Bench Press", " bench  press ", "벤치프레스", "스쿼트", "squat", "데드리프트", "풀업"]
    plan = {
        "action": "SEARCH_EXERCISES",
        "required_context": ["exercise_catalog"],
        "search_terms": terms,
        "memory_query": None,
    }
    route = {"intent": "CHAT_RESPONSE", "confidence": 0.9, "search_terms": []}
    update = await gather_context(
        {**request("벤치프레스랑 bench press, 스쿼트 squat"), "route": route, "plan": plan}, runtime
    )
    # Korean and English reach the VM intact, each once, at most catalog_max_searches of them.
    assert sorted(vm_stub.searches) == sorted(["벤치프레스", "Bench Press", "스쿼트", "squat"])
    codes = [item["exercise_code"] for item in update["context"]["exercise_catalog"]]
    assert len(codes) == len(set(codes))  # the same exercise found by two terms is listed once
    assert {"BARBELL_BENCH_PRESS", "BARBELL_BACK_SQUAT"} <= set(codes)
    assert "DEADLIFT" not in codes  # its term was past the cap


def test_a_vm_url_without_a_token_is_a_configuration_error(settings):
    from app.dependencies import build_dependencies
    from core.errors import ConfigError

    without_token = settings.model_copy(update={"VM_INTERNAL_BASE_URL": "http://127.0.0.1:9/internal"})
    with pytest.raises(ConfigError, match="VM_INTERNAL_TOKEN"):
        build_dependencies(without_token, llm=object(), memory=object(), tokens=object(), results=object())


# --- https: verified against the CAs the worker trusts --------------------------------------------


def self_signed(directory) -> tuple:
    """A certificate for 127.0.0.1 signed by its own key: trusted only where it is named as a CA."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vm-stub")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "vm.pem", directory / "vm.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


async def test_an_https_vm_is_verified_against_the_configured_cas(tmp_path, monkeypatch):
    """SSL_CERT_FILE names the CAs to trust (as for httpx, requests and google-genai); certifi's
    bundle otherwise, which does not know this certificate: the call fails, typed, never unverified."""
    import ssl

    cert_file, key_file = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    with running_stub(listen=False) as vm_stub:
        vm_stub.socket = served.wrap_socket(vm_stub.socket, server_side=True)
        vm_stub.listen()
        vm_stub.start_in_thread()
        url = vm_stub.base_url.replace("http://", "https://")

        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        untrusted = HttpVMApi(url, TOKEN, backoff_s=0.01)
        try:
            with pytest.raises(VMUnavailable, match="unreachable"):
                await untrusted.get_profile("user-67890")
        finally:
            await untrusted.aclose()

        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        trusted = HttpVMApi(url, TOKEN)
        try:
            assert (await trusted.get_profile("user-67890"))["username"] == "Alex"
        finally:
            await trusted.aclose()
