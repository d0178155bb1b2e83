"""Signing webhook payloads (pure functions, no database).

The signature header is ``Salescope-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
the HMAC-SHA256, keyed with the subscription's secret, of ``"<t>.<body>"`` (the raw request
body as bytes). Receivers recompute it and compare in constant time; the timestamp lets them
refuse replays (see ``docs/webhooks.md``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def encode_body(payload: Any) -> bytes:
    """The exact bytes that are sent (and signed): compact JSON, UTF-8."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made at most ``tolerance`` s ago."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
