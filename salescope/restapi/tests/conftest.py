"""Fixtures of the API tests: clients authenticated with personal tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from salescope.restapi.services import create_token


class ApiClient:
    """A test client sending ``Authorization: Bearer <token>`` and JSON bodies."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.token = create_token(user=user, name="tests").plain
        self.client = Client()

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, data: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(f"/api/v1{path}", data, headers=self._headers(headers))

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            json if json is not None else {},
            content_type="application/json",
            headers=self._headers(headers),
        )

    def patch(self, path: str, json: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.patch(
            f"/api/v1{path}", json, content_type="application/json", headers=self._headers(headers)
        )

    def put(self, path: str, json: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.put(
            f"/api/v1{path}", json, content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self._headers(headers))


@pytest.fixture
def api_as(org_setup: Any) -> Any:
    """``api_as(user)`` → an :class:`ApiClient` acting as ``user``."""
    return ApiClient
