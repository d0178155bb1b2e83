"""End-to-end: an admin imports a German deals spreadsheet through the wizard.

Upload → suggested mapping for German headers with decimal commas read → the ambiguous date
question → dry run with a rejected row → corrected file → import in the background (a real
task worker) with the progress bar reaching 100 % → the imported deals.
Screenshots go to ``var/screenshots/imports-*.png``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from salescope.imports.models import ImportJob, JobStatus
from salescope.pipeline.models import Opportunity
from salescope.testing.browser import login, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"

GOOD = (
    "Verkaufschance;Firma;Phase;Betrag;Erstellt am;Verkäufer\n"
    "Großauftrag Nord;Müller GmbH;Proposal;12.500,50;03.04.2025;manager\n"
    "Wartung 2025;Schmidt AG;Meeting;1.200,00;05.06.2025;manager\n"
    "Lizenz Süd;Müller GmbH;Qualification;800;07.08.2025;manager\n"
)
BAD = GOOD.replace("800;", "achthundert;")


def shot(page: Page, name: str) -> None:
    screenshot(page, f"imports-{name}")


def csv_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def test_import_german_deals_with_the_wizard(
    live_server: LiveServer, page: Page, org_setup: Any, settings: Any
) -> None:
    from playwright.sync_api import expect

    # The real set-up: runs are queued in the database and a worker carries them out.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    login(page, live_server.url, org_setup.admin.username, PASSWORD)
    page.goto(live_server.url + reverse("home"))
    page.locator("#mainnav").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import your data")).to_be_visible()
    page.set_input_files("#id_upload", csv_file("deals.csv", BAD))
    expect(page.locator("#im-chosen")).to_contain_text("deals.csv")
    shot(page, "1-upload")
    page.get_by_role("button", name="Upload and continue").click()

    # Step 2: the suggested mapping, with the values as they will be read.
    expect(page.get_by_role("heading", name="Match your columns")).to_be_visible()
    expect(page.locator("#id_t0_entity")).to_have_value("opportunities")
    expect(page.locator("#id_t0_c0")).to_have_value("name")
    expect(page.locator("#id_t0_c3")).to_have_value("amount")
    amount_row = page.locator("tr[data-column='Betrag']")
    expect(amount_row).to_contain_text("12.500,50")
    expect(amount_row).to_contain_text("12,500.5")
    expect(amount_row).to_contain_text("Decimal comma")
    question = page.locator("fieldset.im-question")
    expect(question).to_contain_text("How are the dates in “Erstellt am” written?")
    expect(question).to_contain_text("would be 3 April 2025")
    shot(page, "2-mapping")
    # Forgetting the question gets a clear answer, next to the question.
    page.get_by_role("button", name="Check the import").click()
    expect(page.locator("#im-mapping-errors")).to_be_visible()
    expect(page.locator("fieldset.im-question")).to_contain_text("Tell us how the dates")
    page.get_by_label("Day first").check()
    expect(page.locator("tr[data-column='Erstellt am']")).to_contain_text("3 Apr 2025")
    page.get_by_role("button", name="Check the import").click()

    # Step 3: the dry run with its rejected row; nothing is written yet.
    expect(page.get_by_role("heading", name="Check before importing")).to_be_visible()
    expect(page.locator("#im-verdict")).to_contain_text("1 row would be rejected.")
    expect(page.locator("#im-counts tr[data-entity='opportunities']")).to_contain_text("2")
    errors = page.locator("table.im-errors")
    expect(errors).to_contain_text("achthundert")
    expect(errors).to_contain_text("Betrag")
    expect(page.locator("#im-errors-csv")).to_be_visible()
    shot(page, "3-dry-run-rejected")
    assert not Opportunity.objects.exists()

    # The corrected file is checked with the same mapping.
    page.set_input_files("#im-reupload input[type=file]", csv_file("deals-fixed.csv", GOOD))
    page.get_by_role("button", name="Upload and check again").click()
    expect(page.locator("#im-verdict")).to_contain_text("Everything can be imported.")
    expect(page.locator("#im-counts tr[data-entity='opportunities']")).to_contain_text("3")
    shot(page, "4-dry-run-ok")
    page.get_by_role("button", name="Import now").click()

    # Step 4: queued for the worker; the bar follows the worker to 100 %.
    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
    shot(page, "5-queued")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#im-verdict")).to_contain_text("Imported: 5 new, 0 updated.")
    shot(page, "6-finished")
    job = ImportJob.objects.get(files__name="deals-fixed.csv")
    assert job.status == JobStatus.SUCCEEDED
    assert Opportunity.objects.count() == 3

    page.get_by_role("link", name="Open the imported deals").click()
    expect(page.locator("main")).to_contain_text("Großauftrag Nord")
    expect(page.locator("main")).to_contain_text("Lizenz Süd")

    page.goto(live_server.url + reverse("imports:history"))
    expect(page.locator("table.im-jobs")).to_contain_text("deals-fixed.csv")
    expect(page.locator("table.im-jobs")).to_contain_text("Imported")
    shot(page, "7-history")
