"""A throwaway OCI identity for tests: an RSA key pair, an SDK config file that uses it, and the
resource-principal (RPv2.2) environment a Function would have. The stand-in verifies request
signatures with the public half, so the real SDK signers are exercised end to end."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TENANCY = "ocid1.tenancy.oc1..aaaaaaaatestonlytenancy"
USER = "ocid1.user.oc1..aaaaaaaatestonlyuser"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaatestonlycompartment"
REGION = "us-ashburn-1"


@dataclass(frozen=True)
class OciTestIdentity:
    private_pem: bytes
    public_key: rsa.RSAPublicKey

    @classmethod
    def generate(cls) -> OciTestIdentity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(pem, key.public_key())

    @property
    def fingerprint(self) -> str:
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashlib.md5(der).hexdigest()  # the API-key fingerprint format OCI uses
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))

    @property
    def api_key_id(self) -> str:
        return f"{TENANCY}/{USER}/{self.fingerprint}"

    def write_config(self, directory: Path, profile: str = "DEFAULT") -> Path:
        """An SDK config file (what `oci setup config` writes) with the key beside it."""
        key_file = directory / "oci_api_key.pem"
        key_file.write_bytes(self.private_pem)
        config = directory / "config"
        config.write_text(
            f"[{profile}]\nuser={USER}\nfingerprint={self.fingerprint}\ntenancy={TENANCY}\n"
            f"region={REGION}\nkey_file={key_file}\n"
        )
        return config

    def session_token(self, ttl_s: int = 3600) -> str:
        """A resource principal session token: a JWT carrying the claims the SDK reads. The SDK does
        not verify its signature (the service would), so any well-formed signed JWT will do."""
        import jwt

        now = int(time.time())
        claims = {
            "iat": now,
            "exp": now + ttl_s,
            "res_tenant": TENANCY,
            "res_compartment": COMPARTMENT,
            "sub": "ocid1.fnfunc.oc1..aaaaaaaatestonlyfunction",
        }
        return jwt.encode(claims, self.private_pem, algorithm="RS256")

    def resource_principal_env(self, directory: Path) -> dict[str, str]:
        """The variables Functions sets for RPv2.2, with the token and key as files (as it does)."""
        token_file = directory / "rpst"
        token_file.write_text(self.session_token())
        key_file = directory / "rp_key.pem"
        key_file.write_bytes(self.private_pem)
        return {
            "OCI_RESOURCE_PRINCIPAL_VERSION": "2.2",
            "OCI_RESOURCE_PRINCIPAL_RPST": str(token_file),
            "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM": str(key_file),
            "OCI_RESOURCE_PRINCIPAL_REGION": REGION,
        }


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()
