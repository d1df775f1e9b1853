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
