"""Fixtures for tests that talk to the OCI stand-in through the real `oci` clients."""

from __future__ import annotations

import pytest

from standins.oci import OciStandIn
from standins.oci_identity import OciTestIdentity

STREAM_ID = "ocid1.stream.oc1.iad.aaaaaaaateststream"
QUEUE_ID = "ocid1.queue.oc1.iad.aaaaaaaatestqueue"


@pytest.fixture(scope="session")
def identity() -> OciTestIdentity:
    return OciTestIdentity.generate()


@pytest.fixture
def standin(identity):
    server = OciStandIn(identity.public_key).start()
    yield server
    server.stop()


@pytest.fixture
def oci_config_file(identity, tmp_path):
    return identity.write_config(tmp_path)


def oci_environment(config_file, endpoint: str) -> dict[str, str]:
    """The settings that publish tokens and results through the OCI stand-in at `endpoint`, signed
    with the key of `config_file`."""
    return {
        "OCI_AUTH": "config",
        "OCI_CONFIG_FILE": str(config_file),
        "OCI_STREAM_ID": STREAM_ID,
        "OCI_RESULT_QUEUE_ID": QUEUE_ID,
        "OCI_STREAM_ENDPOINT": endpoint,
        "OCI_QUEUE_ENDPOINT": endpoint,
    }
