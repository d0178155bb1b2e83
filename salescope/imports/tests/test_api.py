"""The imports REST resource: upload, dry run, run, status, errors."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from salescope.imports import progress
from salescope.imports.models import ImportJob, JobStatus
from salescope.pipeline.models import Opportunity
from salescope.restapi.tests.conftest import ApiClient

pytestmark = pytest.mark.django_db

DEALS = (
    "Deal Name,Company,Stage,Amount,Created,Owner\n"
    "Big order,Acme Ltd,Proposal,1200.50,2025-04-03,manager\n"
    "Renewal,Beta Inc,Meeting,800,2025-05-06,manager\n"
)
BAD = DEALS.replace("800", "eight hundred")
MAPPING = {
    "tables": [
        {
            "entity": "opportunities",
            "columns": {
                "Deal Name": "name",
                "Company": "account",
                "Stage": "stage",
                "Amount": "amount",
                "Created": "created_at",
                "Owner": "owner",
            },
        }
    ]
}


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def api(org_setup: Any) -> ApiClient:
    return ApiClient(org_setup.admin)


def upload(client: ApiClient, text: str = DEALS, **data: Any) -> Any:
    files = [SimpleUploadedFile("deals.csv", text.encode(), content_type="text/csv")]
    return client.client.post(
        "/api/v1/imports",
        {"files": files, **data},
        headers=client._headers(None),
    )


def created(client: ApiClient, text: str = DEALS) -> dict[str, Any]:
    response = upload(client, text, mapping=json.dumps(MAPPING))
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_upload_creates_a_job(api: ApiClient) -> None:
    body = created(api)
    assert body["status"] == "uploaded"
    assert body["files"] == [{"name": "deals.csv", "size": len(DEALS.encode())}]
    assert body["created_by"] == "admin"
    assert body["summary"] == {} and body["error_count"] == 0
    assert ImportJob.objects.get().mapping["tables"][0]["columns"]["Amount"] == "amount"


def test_upload_needs_a_file(api: ApiClient) -> None:
    response = api.client.post("/api/v1/imports", {}, headers=api._headers(None))
    assert response.status_code == 422
    assert not ImportJob.objects.exists()


def test_upload_refuses_an_empty_file_by_name(api: ApiClient) -> None:
    response = upload(api, "")
    assert response.status_code == 422
    assert "deals.csv is empty." in json.dumps(response.json())
    assert not ImportJob.objects.exists()


def test_upload_refuses_a_binary_file(api: ApiClient) -> None:
    files = [SimpleUploadedFile("x.csv", bytes(range(256)) * 10)]
    response = api.client.post("/api/v1/imports", {"files": files}, headers=api._headers(None))
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["files"]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"tables": [{"entity": "planets"}]}), "planets"),
    ],
)
def test_upload_refuses_a_bad_mapping(api: ApiClient, mapping: str, message: str) -> None:
    response = upload(api, mapping=mapping)
    assert response.status_code == 422
    assert message in json.dumps(response.json())
    assert not ImportJob.objects.exists()


def test_upload_refuses_an_unknown_preset(api: ApiClient) -> None:
    response = upload(api, preset="nope")
    assert response.status_code == 422
    assert "Unknown preset" in json.dumps(response.json())
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("who", ["rep", "marketing", "readonly"])
def test_only_admins_and_managers_may_import(org_setup: Any, who: str) -> None:
    client = ApiClient(getattr(org_setup, who))
    assert upload(client).status_code == 403
    assert client.get("/imports").status_code == 403
    assert not ImportJob.objects.exists()


def test_without_credentials_is_401(db: Any) -> None:
    from django.test import Client

    assert Client().get("/api/v1/imports").status_code == 401


def test_dry_run_reports_counts_and_writes_nothing(api: ApiClient) -> None:
    job = created(api)
    response = api.post(f"/imports/{job['id']}/dry-run")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["job"]["dry_run"] is True
    assert body["job"]["summary"]["opportunities"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert body["errors"] == []
    assert not Opportunity.objects.exists()


def test_dry_run_lists_rejected_rows(api: ApiClient) -> None:
    job = created(api, BAD)
    body = api.post(f"/imports/{job['id']}/dry-run").json()
    assert body["job"]["error_count"] == 1
    [error] = body["errors"]
    assert error["table"] == "deals.csv"
    assert error["row"] == 3 and error["column"] == "Amount" and error["value"] == "eight hundred"
    assert error["message"]
    page = api.get(f"/imports/{job['id']}/errors").json()
    assert page["count"] == 1 and page["items"] == body["errors"]
    csv_response = api.get(f"/imports/{job['id']}/errors.csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "eight hundred" in csv_response.content.decode("utf-8-sig")


def run(api: ApiClient, job_id: str, body: Any = None) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api.post(f"/imports/{job_id}/run", body)


def test_run_is_accepted_and_imports_in_the_background(api: ApiClient) -> None:
    job = created(api)
    response = run(api, job["id"])
    assert response.status_code == 202, response.content
    assert response.json()["status"] in ("queued", "succeeded")
    status = api.get(f"/imports/{job['id']}").json()
    assert status["status"] == "succeeded" and status["dry_run"] is False
    assert status["summary"]["opportunities"]["created"] == 2
    assert status["progress"] is None
    assert Opportunity.objects.count() == 2
    again = api.post(f"/imports/{job['id']}/run")
    assert again.status_code == 422
    assert "already been carried out" in json.dumps(again.json())
    assert Opportunity.objects.count() == 2


def test_run_with_rejected_rows_writes_nothing_unless_skipping(api: ApiClient) -> None:
    job = created(api, BAD)
    run(api, job["id"])
    status = api.get(f"/imports/{job['id']}").json()
    assert status["status"] == "failed"
    assert status["error_count"] == 1
    assert not Opportunity.objects.exists()
    run(api, job["id"], {"skip_invalid": True})
    status = api.get(f"/imports/{job['id']}").json()
    assert status["status"] == "succeeded"
    assert list(Opportunity.objects.values_list("name", flat=True)) == ["Big order"]


def test_run_refuses_a_bad_body(api: ApiClient) -> None:
    job = created(api)
    response = api.post(f"/imports/{job['id']}/run", {"skip_invalid": "perhaps"})
    assert response.status_code == 422
    assert ImportJob.objects.get().status == JobStatus.UPLOADED


def test_status_shows_progress_while_running(api: ApiClient) -> None:
    job = created(api)
    ImportJob.objects.filter(pk=job["id"]).update(status=JobStatus.RUNNING)
    progress.set_progress(job["id"], "opportunities", 1, 4)
    try:
        body = api.get(f"/imports/{job['id']}").json()
        assert body["progress"] == {"phase": "opportunities", "done": 1, "total": 4, "percent": 25}
        assert api.post(f"/imports/{job['id']}/dry-run").status_code == 422
        assert api.post(f"/imports/{job['id']}/run").status_code == 422
    finally:
        progress.clear_progress(job["id"])


def test_list_is_paginated_and_scoped(api: ApiClient, org_setup: Any) -> None:
    first = created(api)
    created(api)
    page = api.get("/imports", {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["items"]) == 1 and page["next"]
    manager = ApiClient(org_setup.manager)
    assert manager.get("/imports").json()["count"] == 0
    assert manager.get(f"/imports/{first['id']}").status_code == 404
    assert manager.post(f"/imports/{first['id']}/dry-run").status_code == 404
    assert manager.get(f"/imports/{first['id']}/errors.csv").status_code == 404


def test_unknown_and_malformed_ids(api: ApiClient) -> None:
    assert api.get(f"/imports/{uuid.uuid4()}").status_code == 404
    assert api.get("/imports/not-a-uuid").status_code == 422
    assert api.get(f"/imports/{uuid.uuid4()}/errors").status_code == 404


def test_openapi_describes_the_resource(api: ApiClient) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    assert "/api/v1/imports/{job_id}/dry-run" in paths
    csv = paths["/api/v1/imports/{job_id}/errors.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv["content"]
    assert paths["/api/v1/imports"]["post"]["tags"] == ["imports"]


# --- a full export (salescope export --all) -------------------------------------------------


def upload_zip(client: ApiClient, data: bytes, **extra: Any) -> Any:
    files = [SimpleUploadedFile("export.zip", data, content_type="application/zip")]
    return client.client.post(
        "/api/v1/imports", {"files": files, **extra}, headers=client._headers(None)
    )


def test_full_export_is_recognised_dry_run_then_run(org_setup: Any) -> None:
    from salescope.imports.tests.test_views import full_export
    from salescope.leads.models import Lead
    from salescope.pipeline.models import Pipeline

    data = full_export(org_setup)
    api = ApiClient(org_setup.admin)
    response = upload_zip(api, data, preset="maven")  # the archive wins, as on the CLI
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["preset"] == "salescope"
    dry = api.post(f"/imports/{job['id']}/dry-run")
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body["job"]["dry_run"] is True and body["errors"] == []
    summary = body["job"]["summary"]
    assert summary["leads"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    assert summary["pipelines"]["created"] == 2
    assert not Lead.objects.exists() and not Pipeline.objects.exists()
    response = run(api, job["id"])
    assert response.status_code == 202, response.content
    status = api.get(f"/imports/{job['id']}").json()
    assert status["status"] == "succeeded" and status["dry_run"] is False
    assert status["summary"] == summary
    assert Lead.objects.get().email == "archiv@example.de"
    assert Pipeline.objects.count() == 2


def test_full_export_dry_run_names_the_problem(api: ApiClient, org_setup: Any) -> None:
    from salescope.imports import native
    from salescope.leads.models import Lead

    data = native.export_bytes(actor=org_setup.admin)  # this instance is not empty
    job = upload_zip(api, data).json()
    response = api.post(f"/imports/{job['id']}/dry-run")
    assert response.status_code == 422
    assert "empty instance" in json.dumps(response.json())
    status = api.get(f"/imports/{job['id']}").json()
    assert status["status"] == "failed" and "empty instance" in status["message"]
    assert not Lead.objects.exists()


def test_full_export_is_for_admins_only(org_setup: Any) -> None:
    from salescope.imports import native

    data = native.export_bytes(actor=org_setup.admin)
    response = upload_zip(ApiClient(org_setup.manager), data)
    assert response.status_code == 403
    assert not ImportJob.objects.exists()
