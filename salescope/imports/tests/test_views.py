"""The import wizard: upload → match columns → check (dry run) → import → history."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse

from salescope.imports import progress
from salescope.imports.models import ImportJob, JobStatus, SavedMapping
from salescope.pipeline.models import Opportunity, OpportunityEvent

pytestmark = pytest.mark.django_db

GERMAN = (
    "Verkaufschance;Firma;Phase;Betrag;Erstellt am;Verkäufer\n"
    "Großauftrag Nord;Müller GmbH;Proposal;12.500,50;03.04.2025;manager\n"
    "Wartung 2025;Schmidt AG;Meeting;1.200,00;05.06.2025;manager\n"
    "Lizenz Süd;Müller GmbH;Qualification;800;07.08.2025;manager\n"
)
# The third row's amount cannot be read: one rejected row.
GERMAN_BAD = GERMAN.replace("800;", "achthundert;")


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def admin_client(org_setup: Any) -> Client:
    client = Client()
    client.force_login(org_setup.admin)
    return client


def start(client: Client, text: str = GERMAN, name: str = "deals.csv", **extra: Any) -> ImportJob:
    response = client.post(reverse("imports:index"), {"upload": [upload(name, text)], **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])
    return job


def mapping_data(client: Client, job: ImportJob, **changes: str) -> dict[str, str]:
    """The mapping form as the browser would post it, with ``changes``."""
    html = client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    data: dict[str, str] = {}
    for match in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        name, body = match.groups()
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        data[name] = selected.group(1) if selected else ""
    for match in re.finditer(
        r'<input type="hidden" name="(t\d+_previous_entity)" value="([^"]*)"', html
    ):
        data[match.group(1)] = match.group(2)
    data.update(changes)
    return data


def run(client: Client, job: ImportJob, **data: str) -> Any:
    """Start the import; the task (run inline in tests) starts when the request commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("imports:run", args=[job.pk]), data)


def check(client: Client, job: ImportJob, **changes: str) -> Any:
    return client.post(
        reverse("imports:mapping", args=[job.pk]), mapping_data(client, job, **changes)
    )


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "marketing", "readonly"])
def test_only_admins_and_managers_may_import(org_setup: Any, who: str) -> None:
    client = Client()
    client.force_login(getattr(org_setup, who))
    assert client.get(reverse("imports:index")).status_code == 403
    response = client.post(reverse("imports:index"), {"upload": [upload("d.csv", GERMAN)]})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_anonymous_users_are_sent_to_the_login(db: Any) -> None:
    response = Client().get(reverse("imports:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_managers_see_only_their_own_jobs(org_setup: Any, admin_client: Client) -> None:
    job = start(admin_client)
    manager = Client()
    manager.force_login(org_setup.manager)
    assert manager.get(reverse("imports:index")).status_code == 200
    assert manager.get(reverse("imports:mapping", args=[job.pk])).status_code == 404
    assert manager.get(reverse("imports:job", args=[job.pk])).status_code == 404
    assert manager.get(reverse("imports:errors_csv", args=[job.pk])).status_code == 404
    assert manager.post(reverse("imports:run", args=[job.pk])).status_code == 404
    assert "deals.csv" not in manager.get(reverse("imports:history")).content.decode()


def test_unknown_job_is_404(admin_client: Client) -> None:
    assert admin_client.get(reverse("imports:job", args=[uuid.uuid4()])).status_code == 404


# --- upload ---------------------------------------------------------------------------------


def test_upload_page_explains_and_offers_the_formats(admin_client: Client) -> None:
    html = admin_client.get(reverse("imports:index")).content.decode()
    assert "Import your data" in html
    assert 'type="file"' in html and "multiple" in html
    assert "Recognise automatically" in html
    assert 'value="maven"' in html


def test_upload_without_a_file_is_refused(admin_client: Client) -> None:
    response = admin_client.post(reverse("imports:index"), {})
    assert response.status_code == 400
    assert "Choose at least one file to import." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_empty_file_is_refused_by_name(admin_client: Client) -> None:
    response = admin_client.post(reverse("imports:index"), {"upload": [upload("leer.csv", "")]})
    assert response.status_code == 400
    assert "leer.csv is empty" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_too_large_file_is_refused_with_the_limit(admin_client: Client, settings: Any) -> None:
    settings.SALESCOPE_IMPORT_MAX_BYTES = 10
    response = admin_client.post(reverse("imports:index"), {"upload": [upload("big.csv", GERMAN)]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "big.csv is" in html and "files can be at most" in html
    assert not ImportJob.objects.exists()


def test_binary_file_is_refused_with_a_clear_message(admin_client: Client) -> None:
    blob = SimpleUploadedFile("photo.csv", bytes(range(256)) * 20)
    response = admin_client.post(reverse("imports:index"), {"upload": [blob]})
    assert response.status_code == 400
    assert "We could not read that upload" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_unknown_preset_is_refused(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("imports:index"), {"upload": [upload("d.csv", GERMAN)], "preset": "nope"}
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_several_files_make_one_job(admin_client: Client) -> None:
    accounts = "Firma;Ort\nMüller GmbH;Berlin\n"
    response = admin_client.post(
        reverse("imports:index"),
        {"upload": [upload("deals.csv", GERMAN), upload("firmen.csv", accounts)]},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert sorted(f.name for f in job.files.all()) == ["deals.csv", "firmen.csv"]
    html = admin_client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert "deals.csv" in html and "firmen.csv" in html


# --- mapping --------------------------------------------------------------------------------


def test_mapping_suggests_fields_for_german_headers(admin_client: Client) -> None:
    job = start(admin_client)
    html = admin_client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    data = mapping_data(admin_client, job)
    assert data["t0_entity"] == "opportunities"
    assert [data[f"t0_c{j}"] for j in range(6)] == [
        "name",
        "account",
        "stage",
        "amount",
        "created_at",
        "owner",
    ]
    # parsed samples: the decimal comma is understood
    assert "12.500,50" in html
    assert "12,500.5" in html
    assert "Decimal comma" in html


def test_ambiguous_dates_are_asked_and_required(admin_client: Client) -> None:
    job = start(admin_client)
    html = admin_client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert "How are the dates in “Erstellt am” written?" in html
    assert "would be 3 April 2025" in html
    assert "would be 4 March 2025" in html
    response = check(admin_client, job)
    assert response.status_code == 422
    assert "Tell us how the dates in “Erstellt am” are written." in response.content.decode()
    job.refresh_from_db()
    assert job.summary == {}


def test_dry_run_shows_counts_and_writes_nothing(admin_client: Client) -> None:
    job = start(admin_client)
    response = check(admin_client, job, t0_d4="dmy")
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:review", args=[job.pk])
    assert not Opportunity.objects.exists()
    job.refresh_from_db()
    assert job.dry_run and job.summary["opportunities"]["created"] == 3
    assert job.mapping["tables"][0]["date_formats"] == {"Erstellt am": "dmy"}
    html = admin_client.get(response["Location"]).content.decode()
    assert "Everything can be imported." in html
    assert re.search(r'class="num created some">3<', html)
    assert "Import now" in html


def test_rejected_rows_are_listed_with_row_column_value_and_message(admin_client: Client) -> None:
    job = start(admin_client, GERMAN_BAD)
    response = check(admin_client, job, t0_d4="dmy")
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert "1 row would be rejected." in html
    assert "achthundert" in html
    assert re.search(r'<td class="num">4</td>\s*<td>Betrag</td>', html)
    assert reverse("imports:errors_csv", args=[job.pk]) in html
    assert 'name="skip_invalid"' in html
    assert "Import the 2 good rows" in html
    csv_text = admin_client.get(reverse("imports:errors_csv", args=[job.pk])).content.decode(
        "utf-8-sig"
    )
    lines = csv_text.strip().splitlines()
    assert len(lines) == 2
    assert "achthundert" in lines[1] and "Betrag" in lines[1]


def test_changing_a_column_and_the_entity_re_renders_the_table(admin_client: Client) -> None:
    job = start(admin_client)
    data = mapping_data(admin_client, job, t0_c3="-")
    response = admin_client.post(reverse("imports:preview", args=[job.pk]) + "?table=0", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card im-table" id="im-table-0"')
    assert "12,500.5" not in html  # the amount column is not read any more
    data = mapping_data(admin_client, job, t0_entity="accounts")
    html = admin_client.post(
        reverse("imports:preview", args=[job.pk]) + "?table=0", data
    ).content.decode()
    assert 'value="t0_previous_entity"' not in html
    assert 'name="t0_previous_entity" value="accounts"' in html
    assert "Accounts: fields" in html


def test_preview_of_an_unknown_table_is_404(admin_client: Client) -> None:
    job = start(admin_client)
    url = reverse("imports:preview", args=[job.pk])
    assert admin_client.post(url + "?table=7", {}).status_code == 404
    assert admin_client.post(url + "?table=x", {}).status_code == 404


def test_a_field_chosen_twice_is_refused(admin_client: Client) -> None:
    job = start(admin_client)
    response = check(admin_client, job, t0_d4="dmy", t0_c1="name")
    assert response.status_code == 422
    assert "“Name” is already filled from column “Verkaufschance”." in response.content.decode()
    assert not Opportunity.objects.exists()


def test_a_field_of_another_entity_is_refused(admin_client: Client) -> None:
    job = start(admin_client)
    response = check(admin_client, job, t0_d4="dmy", t0_c1="postal_code")
    assert response.status_code == 422
    assert "Deals have no field “postal_code”." in response.content.decode()


def test_a_missing_required_field_is_named(admin_client: Client) -> None:
    job = start(admin_client)
    html = admin_client.post(
        reverse("imports:preview", args=[job.pk]) + "?table=0",
        mapping_data(admin_client, job, t0_c2="-"),
    ).content.decode()
    assert "Still needed:" in html and "Stage or Outcome (won/lost)" in html
    response = check(admin_client, job, t0_d4="dmy", t0_c2="-")
    assert response.status_code == 422
    assert "required column missing" in response.content.decode()
    assert not Opportunity.objects.exists()


def test_skipping_every_table_is_refused(admin_client: Client) -> None:
    job = start(admin_client)
    response = check(admin_client, job, t0_entity="")
    assert response.status_code == 422
    assert "Choose what at least one table holds." in response.content.decode()


def test_save_mapping_and_reuse_it_for_the_next_file(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy", t0_c5="-", save_name="Alte CRM Deals", save_shared="on")
    saved = SavedMapping.objects.get()
    assert saved.name == "Alte CRM Deals" and saved.shared
    assert saved.spec["tables"][0]["columns"]["Verkäufer"] == "-"
    assert "file" not in saved.spec["tables"][0]  # a one-table mapping fits the next export
    ImportJob.objects.all().delete()
    html = admin_client.get(reverse("imports:index")).content.decode()
    assert "Alte CRM Deals" in html
    job = start(admin_client, name="deals-april.csv", saved_mapping=str(saved.pk))
    data = mapping_data(admin_client, job)
    assert data["t0_c5"] == "-"
    html = admin_client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert 'value="dmy" id="id_t0_d4_0" checked' in html  # the saved answer is preselected


def test_unknown_saved_mapping_is_refused(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("imports:index"), {"upload": [upload("d.csv", GERMAN)], "saved_mapping": "999"}
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_apply_a_saved_mapping_on_the_mapping_step(admin_client: Client, org_setup: Any) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy", t0_c0="-", t0_c1="name", save_name="Firmen als Namen")
    other = start_again(admin_client)
    saved = SavedMapping.objects.get()
    response = admin_client.post(
        reverse("imports:mapping", args=[other.pk]), {"apply_saved": str(saved.pk)}
    )
    assert response.status_code == 302
    assert mapping_data(admin_client, other)["t0_c1"] == "name"


def start_again(client: Client) -> ImportJob:
    before = set(ImportJob.objects.values_list("pk", flat=True))
    client.post(reverse("imports:index"), {"upload": [upload("deals2.csv", GERMAN)]})
    return ImportJob.objects.exclude(pk__in=before).get()


# --- run --------------------------------------------------------------------------------------


def test_run_imports_in_the_background_and_shows_the_summary(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy")
    response = run(admin_client, job)
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and not job.dry_run
    deal = Opportunity.objects.get(name="Großauftrag Nord")
    assert deal.amount == Decimal("12500.50")
    assert deal.created_at.date().isoformat() == "2025-04-03"
    assert OpportunityEvent.objects.filter(opportunity=deal).exists()
    html = admin_client.get(response["Location"]).content.decode()
    assert "Import finished" in html
    assert 'aria-valuenow="100"' in html
    assert reverse("lists:deals") in html and "Open the imported deals" in html
    # the job is done: the wizard's earlier steps lead to the result
    assert admin_client.get(reverse("imports:mapping", args=[job.pk]))["Location"] == reverse(
        "imports:job", args=[job.pk]
    )
    history = admin_client.get(reverse("imports:history")).content.decode()
    assert "deals.csv" in history and "Imported" in history


def test_run_with_rejected_rows_writes_nothing(admin_client: Client) -> None:
    job = start(admin_client, GERMAN_BAD)
    check(admin_client, job, t0_d4="dmy")
    run(admin_client, job)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert not Opportunity.objects.exists()
    html = admin_client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Nothing was written." in html and "achthundert" in html


def test_run_skipping_rejected_rows_imports_the_others(admin_client: Client) -> None:
    job = start(admin_client, GERMAN_BAD)
    check(admin_client, job, t0_d4="dmy")
    run(admin_client, job, skip_invalid="on")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert sorted(Opportunity.objects.values_list("name", flat=True)) == [
        "Großauftrag Nord",
        "Wartung 2025",
    ]
    html = admin_client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "1 rejected row was left out." in html


def test_run_before_a_check_is_refused(admin_client: Client) -> None:
    job = start(admin_client)
    response = run(admin_client, job)
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.ANALYSED
    assert not Opportunity.objects.exists()


def test_run_needs_post(admin_client: Client) -> None:
    job = start(admin_client)
    assert admin_client.get(reverse("imports:run", args=[job.pk])).status_code == 405


def test_corrected_file_is_checked_with_the_same_mapping(admin_client: Client) -> None:
    job = start(admin_client, GERMAN_BAD)
    check(admin_client, job, t0_d4="dmy")
    response = admin_client.post(
        reverse("imports:reupload", args=[job.pk]), {"upload": [upload("deals-fixed.csv", GERMAN)]}
    )
    assert response.status_code == 302
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("imports:review", args=[new.pk])
    assert new.summary["opportunities"] == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert not Opportunity.objects.exists()


def test_corrected_file_must_be_readable(admin_client: Client) -> None:
    job = start(admin_client, GERMAN_BAD)
    check(admin_client, job, t0_d4="dmy")
    response = admin_client.post(reverse("imports:reupload", args=[job.pk]), {})
    assert response.status_code == 422
    assert ImportJob.objects.count() == 1


def test_second_import_of_the_same_file_changes_nothing(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy")
    run(admin_client, job)
    events = OpportunityEvent.objects.count()
    again = start_again(admin_client)
    check(admin_client, again, t0_d4="dmy")
    again.refresh_from_db()
    assert again.summary["opportunities"]["created"] == 0
    assert again.summary["opportunities"]["unchanged"] == 3
    run(admin_client, again)
    assert OpportunityEvent.objects.count() == events


# --- progress -------------------------------------------------------------------------------


def test_progress_fragment_polls_while_running(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy")
    job.refresh_from_db()
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, dry_run=False)
    progress.set_progress(job.pk, "opportunities", 1, 2)
    response = admin_client.get(reverse("imports:progress", args=[job.pk]))
    html = response.content.decode()
    assert 'role="progressbar"' in html
    assert 'hx-trigger="every 1s"' in html
    # the deals are the last phase, half done
    phases = 1 + len(job.summary)
    expected = int(100 * (phases - 1 + 0.5) / phases)
    assert f'aria-valuenow="{expected}"' in html
    assert "Importing deals… 1 of 2" in html
    assert "HX-Refresh" not in response
    page = admin_client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Importing…" in page and "You can leave this page" in page
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    response = admin_client.get(reverse("imports:progress", args=[job.pk]))
    assert 'aria-valuenow="100"' in response.content.decode()
    assert "every 1s" not in response.content.decode()
    assert response["HX-Refresh"] == "true"
    progress.clear_progress(job.pk)


def test_queued_job_waits_for_the_worker(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy")
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, dry_run=False)
    progress.set_progress(job.pk, "queued", 0, 1)
    html = admin_client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert "Waiting for the background worker" in html
    assert "indeterminate" in html
    # a queued job cannot be started twice
    run(admin_client, job)
    assert not Opportunity.objects.exists()
    progress.clear_progress(job.pk)


def test_history_lists_jobs_with_counts(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy")
    run(admin_client, job)
    html = admin_client.get(reverse("imports:history")).content.decode()
    assert reverse("imports:job", args=[job.pk]) in html
    created = sum(c["created"] for c in ImportJob.objects.get().summary.values())
    assert created >= 3
    assert f'<td class="num">{created}</td>' in html
    assert admin_client.get(reverse("imports:history") + "?page=abc").status_code == 200


# --- a full export (salescope export --all) -------------------------------------------------


def full_export(org: Any) -> bytes:
    """A small company exported as a whole, then the instance emptied (the admin stays)."""
    from salescope.imports import native
    from salescope.imports.tests.test_native import _wipe
    from salescope.leads.models import Lead

    now = org.admin.date_joined
    Lead.objects.create(
        last_name="Archiv", email="archiv@example.de", created_at=now, updated_at=now
    )
    data = native.export_bytes(actor=org.admin)
    _wipe(org.admin)
    return data


def zip_upload(data: bytes, name: str = "export.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_full_export_is_recognised_checked_and_imported(
    admin_client: Client, org_setup: Any
) -> None:
    from salescope.leads.models import Lead
    from salescope.pipeline.models import Pipeline

    data = full_export(org_setup)
    response = admin_client.post(reverse("imports:index"), {"upload": [zip_upload(data)]})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:review", args=[job.pk])  # nothing to map
    assert job.preset == "salescope" and job.options["format"] == "salescope-export"
    assert job.status == JobStatus.ANALYSED and job.dry_run
    assert job.summary["leads"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    assert job.summary["pipelines"]["created"] == 2
    assert not Lead.objects.exists() and not Pipeline.objects.exists()  # a dry run
    html = admin_client.get(reverse("imports:review", args=[job.pk])).content.decode()
    assert "leads" in html
    # The mapping step has nothing to ask: it goes to the check.
    response = admin_client.get(reverse("imports:mapping", args=[job.pk]))
    assert response["Location"] == reverse("imports:review", args=[job.pk])
    run(admin_client, job)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and not job.dry_run
    assert Lead.objects.get().email == "archiv@example.de"
    assert Pipeline.objects.count() == 2
    assert job.total_rows == sum(c["created"] for c in job.summary.values())
    progress.clear_progress(job.pk)


def test_full_export_into_an_instance_with_data_is_refused(
    admin_client: Client, org_setup: Any
) -> None:
    from salescope.imports import native

    data = native.export_bytes(actor=org_setup.admin)  # the instance keeps its data
    response = admin_client.post(reverse("imports:index"), {"upload": [zip_upload(data)]})
    assert response.status_code == 400
    assert "empty instance" in response.content.decode()
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED and "empty instance" in job.message
    # The job page sends the failed check to a page that names the problem.
    response = admin_client.get(reverse("imports:job", args=[job.pk]), follow=True)
    assert response.status_code == 422
    assert "empty instance" in response.content.decode()


def test_full_export_only_for_admins_and_alone(admin_client: Client, org_setup: Any) -> None:
    from salescope.imports import native

    data = native.export_bytes(actor=org_setup.admin)
    manager = Client()
    manager.force_login(org_setup.manager)
    response = manager.post(reverse("imports:index"), {"upload": [zip_upload(data)]})
    assert response.status_code == 400
    assert "Only administrators may import a full Salescope export." in response.content.decode()
    response = admin_client.post(
        reverse("imports:index"), {"upload": [zip_upload(data), upload("deals.csv", GERMAN)]}
    )
    assert response.status_code == 400
    assert "export.zip is a full Salescope export" in response.content.decode()
    assert not ImportJob.objects.exists()


# --- deleting saved mappings ----------------------------------------------------------------


def saved_mapping(owner: Any, name: str = "Alte CRM Deals", shared: bool = True) -> SavedMapping:
    from salescope.imports import services

    spec = {"tables": [{"entity": "accounts", "columns": {"Firma": "name"}}]}
    return services.save_mapping(name=name, spec=spec, actor=owner, shared=shared)


def test_delete_mapping_service_own_or_admin(org_setup: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from salescope.imports import services

    mine = saved_mapping(org_setup.manager)
    with pytest.raises(PermissionDenied):  # shared with everyone, but not theirs
        services.delete_mapping(mapping=mine, actor=org_setup.other_manager)
    with pytest.raises(PermissionDenied):  # not an importer at all
        services.delete_mapping(mapping=mine, actor=org_setup.rep)
    assert SavedMapping.objects.filter(pk=mine.pk).exists()
    services.delete_mapping(mapping=mine, actor=org_setup.manager)
    assert not SavedMapping.objects.exists()
    other = saved_mapping(org_setup.other_manager, shared=False)
    services.delete_mapping(mapping=other, actor=org_setup.admin)  # admins delete any
    assert not SavedMapping.objects.exists()


def test_delete_a_saved_mapping_from_the_upload_page(admin_client: Client, org_setup: Any) -> None:
    mine = saved_mapping(org_setup.admin, name="Meine")
    theirs = saved_mapping(org_setup.manager, name="Seine")
    html = admin_client.get(reverse("imports:index")).content.decode()
    assert html.count(reverse("imports:delete_mapping")) == 2  # admins may delete both
    assert "data-confirm=" in html and "csrfmiddlewaretoken" in html
    manager = Client()
    manager.force_login(org_setup.manager)
    html = manager.get(reverse("imports:index")).content.decode()
    assert html.count(reverse("imports:delete_mapping")) == 1  # only their own
    response = manager.post(reverse("imports:delete_mapping"), {"mapping": str(mine.pk)})
    assert response.status_code == 302 and response["Location"] == reverse("imports:index")
    assert SavedMapping.objects.filter(pk=mine.pk).exists()
    page = manager.get(response["Location"]).content.decode()
    assert "Only its owner or an administrator may delete" in page
    response = admin_client.post(reverse("imports:delete_mapping"), {"mapping": str(theirs.pk)})
    assert response.status_code == 302
    assert list(SavedMapping.objects.values_list("name", flat=True)) == ["Meine"]
    page = admin_client.get(reverse("imports:index")).content.decode()
    assert "Deleted the saved mapping “Seine”." in page


def test_delete_mapping_needs_post_csrf_and_an_existing_mapping(
    admin_client: Client, org_setup: Any
) -> None:
    saved = saved_mapping(org_setup.admin)
    url = reverse("imports:delete_mapping")
    assert admin_client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(org_setup.admin)
    assert strict.post(url, {"mapping": str(saved.pk)}).status_code == 403
    response = admin_client.post(url, {"mapping": "999"}, follow=True)
    assert "That saved mapping no longer exists." in response.content.decode()
    response = admin_client.post(url, {"mapping": "x"})
    assert response.status_code == 302
    rep = Client()
    rep.force_login(org_setup.rep)
    assert rep.post(url, {"mapping": str(saved.pk)}).status_code in (302, 403)
    assert SavedMapping.objects.filter(pk=saved.pk).exists()


def test_delete_the_chosen_mapping_on_the_mapping_step(
    admin_client: Client, org_setup: Any
) -> None:
    job = start(admin_client)
    saved = saved_mapping(org_setup.admin)
    here = reverse("imports:mapping", args=[job.pk])
    html = admin_client.get(here).content.decode()
    assert 'id="im-delete-saved"' in html
    assert f'formaction="{reverse("imports:delete_mapping")}"' in html
    response = admin_client.post(
        reverse("imports:delete_mapping"), {"apply_saved": str(saved.pk), "next": here}
    )
    assert response["Location"] == here  # back to the step
    assert not SavedMapping.objects.exists()
    response = admin_client.post(
        reverse("imports:delete_mapping"), {"mapping": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("imports:index")  # no open redirect
    # Someone else's shared mapping: applied yes, deleted no (no button for a manager).
    saved_mapping(org_setup.other_manager)
    manager = Client()
    manager.force_login(org_setup.manager)
    mjob = start_again(manager)
    html = manager.get(reverse("imports:mapping", args=[mjob.pk])).content.decode()
    assert "Alte CRM Deals" in html and 'id="im-delete-saved"' not in html


# --- large uploads: the check runs in the background ----------------------------------------


def test_large_upload_is_checked_in_the_background(admin_client: Client, settings: Any) -> None:
    settings.SALESCOPE_IMPORT_SYNC_ROWS = 1
    job = start(admin_client)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = check(admin_client, job, t0_d4="dmy")
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:job", args=[job.pk])  # the progress bar
    job.refresh_from_db()  # the immediate backend ran the task inline
    assert job.status == JobStatus.ANALYSED and job.dry_run and job.finished_at is not None
    assert job.summary["opportunities"]["created"] == 3
    assert not Opportunity.objects.exists()
    done = progress.get_progress(job.pk)
    assert done is not None and done["phase"] == "done"
    # The job page leads to the review with the dry run's counts.
    response = admin_client.get(reverse("imports:job", args=[job.pk]), follow=True)
    assert response.redirect_chain == [(reverse("imports:review", args=[job.pk]), 302)]
    html = response.content.decode()
    assert "Check before importing" in html and "Everything can be imported." in html
    assert re.search(r'class="num created some">3<', html)
    # The progress bar, polled at that moment, is full and reloads the page.
    response = admin_client.get(reverse("imports:progress", args=[job.pk]))
    assert 'aria-valuenow="100"' in response.content.decode()
    assert response["HX-Refresh"] == "true"
    progress.clear_progress(job.pk)


def test_corrected_large_file_is_checked_in_the_background(
    admin_client: Client, settings: Any
) -> None:
    job = start(admin_client, GERMAN_BAD)
    check(admin_client, job, t0_d4="dmy")  # small: checked at once
    settings.SALESCOPE_IMPORT_SYNC_ROWS = 1
    response = admin_client.post(
        reverse("imports:reupload", args=[job.pk]), {"upload": [upload("deals-fixed.csv", GERMAN)]}
    )
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("imports:job", args=[new.pk])
    new.refresh_from_db()
    assert new.status == JobStatus.ANALYSED and new.dry_run
    assert new.summary["opportunities"]["created"] == 3
    progress.clear_progress(new.pk)


def test_small_upload_is_checked_at_once(admin_client: Client, settings: Any) -> None:
    settings.SALESCOPE_IMPORT_SYNC_ROWS = 3  # the file has 3 rows: not more than that
    job = start(admin_client)
    response = check(admin_client, job, t0_d4="dmy")
    assert response["Location"] == reverse("imports:review", args=[job.pk])
    assert progress.get_progress(job.pk) is None  # no background run


def test_progress_of_a_background_check(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy", t0_c5="-")
    # A first check of this mapping: the phases come from the mapping (no summary yet).
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, dry_run=True, summary={})
    progress.set_progress(job.pk, "queued", 0, 1)
    response = admin_client.get(reverse("imports:progress", args=[job.pk]))
    html = response.content.decode()
    assert "Waiting for the background worker" in html and "indeterminate" in html
    assert 'aria-label="Check progress"' in html
    page = admin_client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Checking…" in page and "Importing…" not in page
    assert 'aria-current="step">Check (dry run)' in page
    assert "Nothing is saved" in page
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    progress.set_progress(job.pk, "opportunities", 1, 2)
    response = admin_client.get(reverse("imports:progress", args=[job.pk]))
    html = response.content.decode()
    assert "Checking deals… 1 of 2" in html and "Importing" not in html
    assert 'hx-trigger="every 1s"' in html and "HX-Refresh" not in response
    # reading, users, deals: the deals are the last phase, half done
    assert f'aria-valuenow="{int(100 * 2.5 / 3)}"' in html
    # The mapping step and the review wait for the check.
    for step in ("imports:mapping", "imports:review"):
        response = admin_client.get(reverse(step, args=[job.pk]))
        assert response["Location"] == reverse("imports:job", args=[job.pk])
    progress.clear_progress(job.pk)


def test_failed_background_check_leads_back_to_the_mapping(admin_client: Client) -> None:
    job = start(admin_client)
    check(admin_client, job, t0_d4="dmy")
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, dry_run=True, message="The file went away."
    )
    progress.set_progress(job.pk, "failed", 1, 1)
    response = admin_client.get(reverse("imports:progress", args=[job.pk]))
    assert "Stopped." in response.content.decode()
    assert response["HX-Refresh"] == "true"
    response = admin_client.get(reverse("imports:job", args=[job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("imports:mapping", args=[job.pk])
    html = response.content.decode()
    assert "The check stopped:" in html and "The file went away." in html
    progress.clear_progress(job.pk)
