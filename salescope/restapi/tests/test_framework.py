"""Tokens, authentication, the error body, pagination and If-Match handling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, RequestFactory

from salescope.core import clock
from salescope.restapi.concurrency import expected_version
from salescope.restapi.errors import PreconditionFailed, PreconditionRequired
from salescope.restapi.models import ApiToken
from salescope.restapi.services import (
    authenticate_token,
    create_token,
    hash_token,
    revoke_token,
)

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_shown_once(org_setup: Any) -> None:
    new = create_token(user=org_setup.rep, name="ERP sync")
    token = ApiToken.objects.get()
    assert new.plain.startswith("sc_") and len(new.plain) > 40
    assert token.prefix == new.plain[:8]
    assert token.secret_hash == hash_token(new.plain)
    assert new.plain not in {token.secret_hash, token.name, token.prefix}
    assert authenticate_token(new.plain) == org_setup.rep
    assert authenticate_token(new.plain + "x") is None
    assert authenticate_token("") is None


@pytest.mark.parametrize(
    ("name", "expires", "field"),
    [
        ("", None, "name"),
        ("   ", None, "name"),
        ("x" * 101, None, "name"),
        ("ok", dt.timedelta(days=-1), "expires_at"),
    ],
)
def test_bad_token_input_writes_nothing(
    org_setup: Any, frozen_now: Any, name: str, expires: Any, field: str
) -> None:
    expires_at = frozen_now + expires if expires is not None else None
    with pytest.raises(ValidationError) as err:
        create_token(user=org_setup.rep, name=name, expires_at=expires_at)
    assert field in err.value.message_dict
    assert not ApiToken.objects.exists()


def test_tokens_only_for_yourself(org_setup: Any) -> None:
    with pytest.raises(PermissionDenied):
        create_token(user=org_setup.rep2, name="x", actor=org_setup.rep)
    token = create_token(user=org_setup.rep2, name="x").token
    with pytest.raises(PermissionDenied):
        revoke_token(token=token, actor=org_setup.rep)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoked_expired_and_inactive_tokens_fail(org_setup: Any, frozen_now: Any) -> None:
    revoked = create_token(user=org_setup.rep, name="a")
    revoke_token(token=revoked.token, actor=org_setup.rep)
    assert authenticate_token(revoked.plain) is None

    expiring = create_token(
        user=org_setup.rep, name="b", expires_at=frozen_now + dt.timedelta(hours=1)
    )
    assert authenticate_token(expiring.plain) == org_setup.rep
    with clock.frozen(frozen_now + dt.timedelta(hours=1)):
        assert authenticate_token(expiring.plain) is None

    inactive = create_token(user=org_setup.rep2, name="c")
    org_setup.rep2.is_active = False
    org_setup.rep2.save()
    assert authenticate_token(inactive.plain) is None


def test_last_used_is_recorded(org_setup: Any, frozen_now: Any) -> None:
    new = create_token(user=org_setup.rep, name="a")
    assert new.token.last_used_at is None
    authenticate_token(new.plain)
    new.token.refresh_from_db()
    assert new.token.last_used_at == frozen_now


def test_no_credentials_is_401_with_error_body(org_setup: Any) -> None:
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["fields"] == {}
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = Client().get("/api/v1/me", headers={"Authorization": "Bearer sc_nonsense"})
    assert bad.status_code == 401
    # A POST without credentials is a 401 too (not a CSRF 403).
    assert Client().post("/api/v1/tokens", {}, content_type="application/json").status_code == 401


def test_health_is_public() -> None:
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_session_auth_needs_csrf_for_writes(org_setup: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(org_setup.rep)
    assert client.get("/api/v1/me").json()["username"] == "rep"
    response = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not ApiToken.objects.exists()


def test_token_endpoints(api_as: Any, org_setup: Any) -> None:
    api = api_as(org_setup.rep)
    created = api.post("/tokens", {"name": "script"})
    assert created.status_code == 201
    plain = created.json()["token"]
    assert authenticate_token(plain) == org_setup.rep
    listed = api.get("/tokens").json()
    assert listed["count"] == 2 and all("token" not in t for t in listed["items"])
    other = create_token(user=org_setup.rep2, name="theirs").token
    assert api.delete(f"/tokens/{other.pk}").status_code == 404
    revoked = api.delete(f"/tokens/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert authenticate_token(plain) is None
    invalid = api.post("/tokens", {"name": ""})
    assert invalid.status_code == 422
    assert "name" in invalid.json()["error"]["fields"]


def test_unparsable_body_is_422(api_as: Any, org_setup: Any) -> None:
    api = api_as(org_setup.rep)
    response = api.client.post(
        "/api/v1/tokens",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_pagination_links(api_as: Any, org_setup: Any) -> None:
    api = api_as(org_setup.rep)
    for i in range(4):
        create_token(user=org_setup.rep, name=f"t{i}")
    first = api.get("/tokens", {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["items"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    last = api.get("/tokens", {"page_size": 2, "page": 3}).json()
    assert len(last["items"]) == 1 and last["next"] is None and "page=2" in last["previous"]
    beyond = api.get("/tokens", {"page_size": 2, "page": 9}).json()
    assert beyond["items"] == [] and beyond["next"] is None
    assert api.get("/tokens", {"page_size": 501}).status_code == 422
    assert api.get("/tokens", {"page": 0}).status_code == 422


def _request(**headers: str) -> Any:
    return RequestFactory().patch("/x", headers=headers)


def test_expected_version_from_if_match_or_body() -> None:
    assert expected_version(_request(**{"If-Match": '"3"'})) == 3
    assert expected_version(_request(**{"If-Match": 'W/"4"'})) == 4
    assert expected_version(_request(**{"If-Match": "5"})) == 5
    assert expected_version(_request(**{"If-Match": "*"})) is None
    assert expected_version(_request(), 7) == 7
    assert expected_version(_request(), None, required=False) is None
    with pytest.raises(PreconditionRequired):
        expected_version(_request())
    with pytest.raises(PreconditionFailed):
        expected_version(_request(**{"If-Match": "abc"}))
    with pytest.raises(ValidationError):
        expected_version(_request(**{"If-Match": '"3"'}), 4)


def test_offline_docs(org_setup: Any) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_token_screens(org_setup: Any) -> None:
    client = Client()
    client.force_login(org_setup.rep)
    page = client.get("/settings/tokens/")
    assert page.status_code == 200
    created = client.post("/settings/tokens/", {"name": "laptop"})
    assert created.status_code == 200
    token = ApiToken.objects.get(user=org_setup.rep)
    plain = created.context["new_token"]
    assert plain and plain.encode() in created.content
    assert hash_token(plain) == token.secret_hash
    again = client.get("/settings/tokens/")
    assert plain.encode() not in again.content and token.prefix.encode() in again.content
    bad = client.post("/settings/tokens/", {"name": ""})
    assert bad.status_code == 422 and ApiToken.objects.count() == 1
    past = client.post("/settings/tokens/", {"name": "old", "expires_on": "2000-01-01"})
    assert past.status_code == 422 and ApiToken.objects.count() == 1
    other = create_token(user=org_setup.rep2, name="theirs").token
    assert client.post(f"/settings/tokens/{other.pk}/revoke/").status_code == 404
    revoked = client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/settings/tokens/").status_code == 302  # login required
