"""The REST API root (``/api/v1/``). Each domain app contributes a ninja router.

Every operation needs a personal token (``Authorization: Bearer …``) or the browser
session, except ``/health``; errors share one body (``salescope.restapi.errors``).
How to write an endpoint: see ``salescope/restapi/__init__.py``; for clients: docs/api.md.
"""

from __future__ import annotations

from django.db import connection
from ninja import NinjaAPI, Schema

from salescope.restapi import errors
from salescope.restapi.auth import AUTH
from salescope.restapi.docs import OfflineSwagger

api = NinjaAPI(
    title="Salescope API",
    version="1",
    description=(
        "REST API over the Salescope CRM. OpenAPI description at /api/v1/openapi.json. "
        "Authenticate with a personal API token (`Authorization: Bearer <token>`, created "
        "under Settings › API tokens) or the browser session. Errors: "
        '`{"error": {"code", "message", "fields"}}`. Updates need the version you loaded '
        "(`If-Match` with the ETag, or `version` in the body)."
    ),
    urls_namespace="api-v1",
    auth=AUTH,
    docs=OfflineSwagger(),
)
errors.install(api)


class Health(Schema):
    status: str
    database: str


@api.get("/health", response=Health, auth=None, tags=["system"])
def health(request) -> Health:  # type: ignore[no-untyped-def]
    """Liveness check: the server answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return Health(status="ok", database=connection.vendor)


def _mount() -> None:
    from salescope.accounts.api import router as accounts
    from salescope.activities.api import router as activities
    from salescope.customfields.api import router as customfields
    from salescope.imports.api import router as imports
    from salescope.kpis.api import router as kpis
    from salescope.leads.api import router as leads
    from salescope.org.api import router as org
    from salescope.pipeline.api import router as pipeline
    from salescope.restapi.api import router as tokens
    from salescope.webhooks.api import router as webhooks

    for router in (
        accounts,
        pipeline,
        activities,
        org,
        customfields,
        leads,
        imports,
        webhooks,
        kpis,
        tokens,
    ):
        api.add_router("/", router)


_mount()
