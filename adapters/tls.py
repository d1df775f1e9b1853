"""Which certificate authorities the worker's own HTTP clients trust: SSL_CERT_FILE / SSL_CERT_DIR
when set, else certifi's bundle — as httpx, requests and google-genai decide it, so an image
without system CA certificates verifies the same way everywhere."""

from __future__ import annotations

import os
import ssl


def ca_context() -> ssl.SSLContext:
    """A fresh client-side TLS context (loading the bundle costs ~20 ms: share the result)."""
    import certifi

    return ssl.create_default_context(
        cafile=os.environ.get("SSL_CERT_FILE", certifi.where()), capath=os.environ.get("SSL_CERT_DIR")
    )
