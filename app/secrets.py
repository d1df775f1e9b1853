"""Secrets from OCI Vault instead of function config (which anyone who can read the function can
read): GOOGLE_API_KEY, VM_INTERNAL_TOKEN and QDRANT_API_KEY, each from the secret whose OCID is set
in its `*_SECRET_OCID` setting.

Read once per instance (the settings that carry them are built once and reused while warm), signed
with the function's resource principal (OCI_AUTH), through `SecretsClient.get_secret_bundle` — the
CURRENT version, whose `secretBundleContent` is `{"contentType": "BASE64", "content": …}`. Values are
never logged; errors name the setting, the HTTP status and the service's error code only.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from core.errors import ConfigError
from core.settings import Settings

log = logging.getLogger("reppy.secrets")

# setting holding the secret's OCID → the setting its value becomes
SECRET_SETTINGS = {
    "GOOGLE_API_KEY_SECRET_OCID": "GOOGLE_API_KEY",
    "VM_INTERNAL_TOKEN_SECRET_OCID": "VM_INTERNAL_TOKEN",
    "QDRANT_API_KEY_SECRET_OCID": "QDRANT_API_KEY",
}
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
RETRY_S = 5.0


def settings_with_secrets(**overrides: Any) -> Settings:
    """Settings from the environment (and `overrides`), with every configured Vault secret read in.
    Built again with the secrets as init values, so what depends on them (the model provider chosen
    by the presence of a key) is resolved as if they had been set directly."""
    settings = Settings(**overrides)
    wanted = {
        target: getattr(settings, source) for source, target in SECRET_SETTINGS.items() if getattr(settings, source)
    }
    if not wanted:
        return settings
    values = read_secrets(settings, wanted)
    log.info("read %s from OCI Vault", ", ".join(sorted(values)))
    return Settings(**{**overrides, **values})


def read_secrets(settings: Any, wanted: dict[str, str]) -> dict[str, str]:
    """{setting: secret OCID} → {setting: value}, through one SecretsClient."""
    import oci

    from adapters.emit.oci_clients import bounded_retry, secrets_client
    from app.oci_emitters import credentials_from

    client = secrets_client(
        credentials_from(settings), settings.OCI_SECRETS_ENDPOINT, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    )
    values: dict[str, str] = {}
    for target, secret_id in wanted.items():
        source = f"{target}_SECRET_OCID"
        try:
            bundle = client.get_secret_bundle(secret_id, retry_strategy=bounded_retry(RETRY_S)).data
        except oci.exceptions.ServiceError as exc:
            raise ConfigError(
                f"cannot read {source} from OCI Vault (HTTP {exc.status} {exc.code})",
                # 404 (no such secret, or no `read secret-family` policy) stays wrong until someone fixes it.
                retryable=exc.status == 429 or exc.status >= 500,
            ) from None
        except Exception as exc:
            raise ConfigError(f"cannot read {source} from OCI Vault ({type(exc).__name__})", retryable=True) from None
        values[target] = _decode(bundle.secret_bundle_content, source)
    return values


def _decode(content: Any, source: str) -> str:
    if content is None or getattr(content, "content_type", None) != "BASE64" or not content.content:
        raise ConfigError(f"the secret of {source} has no BASE64 content")
    try:
        value = base64.b64decode(content.content, validate=True).decode("utf-8").strip()
    except (binascii.Error, UnicodeDecodeError):
        raise ConfigError(f"the secret of {source} is not base64 of UTF-8 text") from None
    if not value:
        raise ConfigError(f"the secret of {source} is empty")
    return value
