"""Signatures: checked against an HMAC computed here, independently of the product's code."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from salescope.webhooks import signing

SECRET = "whsec_test-secret"


def independent(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_header_is_stripe_like_with_the_hmac_of_timestamp_dot_body() -> None:
    body = b'{"id":"1","type":"ping"}'
    header = signing.signature_header(SECRET, 1_700_000_000, body)
    assert header == f"t=1700000000,v1={independent(SECRET, 1_700_000_000, body)}"


@given(body=st.binary(max_size=2000), timestamp=st.integers(0, 4_000_000_000))
def test_signature_matches_an_independent_hmac(body: bytes, timestamp: int) -> None:
    assert signing.signature(SECRET, timestamp, body) == independent(SECRET, timestamp, body)


def test_verify_accepts_a_fresh_signature_and_refuses_tampering() -> None:
    body = b'{"a":1}'
    header = signing.signature_header(SECRET, 1000, body)
    assert signing.verify(SECRET, header, body, now=1000)
    assert signing.verify(SECRET, header, body, now=1000 + 300)
    assert not signing.verify(SECRET, header, body, now=1000 + 301)  # replayed later
    assert not signing.verify(SECRET, header, b'{"a":2}', now=1000)
    assert not signing.verify("whsec_other", header, body, now=1000)
    for bad in ("", "t=abc,v1=00", "v1=" + "0" * 64, "t=1000", f"t=1000,v1={'0' * 64}"):
        assert not signing.verify(SECRET, bad, body, now=1000), bad


def test_body_is_compact_utf8_json() -> None:
    assert signing.encode_body({"name": "Müller", "n": [1, 2]}) == (
        '{"name":"Müller","n":[1,2]}'.encode()
    )


def test_secrets_are_long_random_and_prefixed() -> None:
    secrets = {signing.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) > 40 for s in secrets)


def test_the_verification_snippet_in_the_docs_works() -> None:
    """docs/webhooks.md shows receivers how to verify; that code must accept our signatures."""
    import re
    import time
    from pathlib import Path

    from django.conf import settings

    text = (Path(settings.PROJECT_DIR) / "docs" / "webhooks.md").read_text()
    section = text[text.index("## Verifying the signature") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(code.group(1), namespace)  # our own documentation
    verify = namespace["verify"]
    body = signing.encode_body({"id": "x", "type": "ping", "data": {"name": "Müller"}})
    now = int(time.time())
    header = signing.signature_header(SECRET, now, body)
    assert verify(SECRET, header, body) is True  # type: ignore[operator]
    assert verify(SECRET, header, body + b" ") is False  # type: ignore[operator]
    assert verify("whsec_wrong", header, body) is False  # type: ignore[operator]
    old = signing.signature_header(SECRET, now - 3600, body)
    assert verify(SECRET, old, body) is False  # type: ignore[operator]
