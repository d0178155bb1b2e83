"""The REST API root (``/api/v1/``). Each domain app contributes a ninja router."""

from __future__ import annotations

from django.db import connection
from ninja import NinjaAPI, Schema

api = NinjaAPI(
    title="Salescope API",
    version="1",
    description="REST API over the Salescope CRM. OpenAPI description at /api/v1/openapi.json.",
    urls_namespace="api-v1",
)


class Health(Schema):
    status: str
    database: str


@api.get("/health", response=Health, auth=None, tags=["system"])
def health(request) -> Health:  # type: ignore[no-untyped-def]
    """Liveness check: the server answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Health(status="ok", database=connection.vendor)
