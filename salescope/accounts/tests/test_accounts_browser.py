"""End to end in Chromium: a rep creates an account with a contact; duplicates are caught."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from salescope.accounts.models import AccountContact, ContactRole, Tier
from salescope.activities.services import add_comment
from salescope.pipeline.services import move_to_stage
from salescope.testing.browser import login
from salescope.testing.factories import make_opportunity

PASSWORD = "a-Long-pass-123"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_rep_creates_account_with_contact_and_sees_duplicate_warning(live_server, page, org_setup):
    ContactRole.objects.create(name="Decision maker")
    Tier.objects.create(name="Gold", colour="#c9a227")
    base = live_server.url
    login(page, base, "rep", PASSWORD)

    page.goto(base + reverse("accounts:create"))
    page.get_by_label("Company name").fill("Nordlicht Leuchten GmbH")
    page.get_by_label("Tier").select_option(label="Gold")
    page.get_by_label("Website").fill("https://www.nordlicht.example")
    page.get_by_label("City").fill("Bremen")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/*/")
    assert page.locator("h1").inner_text() == "Nordlicht Leuchten GmbH"

    page.get_by_test_id("add-contact").click()
    page.wait_for_url("**/contacts/new/?account=*")
    page.get_by_label("First name").fill("Hanna")
    page.get_by_label("Last name").fill("Brandt")
    page.get_by_label("Email").fill("hanna@nordlicht.example")
    page.get_by_label("Decision maker").check()
    page.get_by_role("button", name="Create contact").click()
    page.wait_for_url("**/accounts/*/")
    contacts = page.locator(".people")
    assert "Hanna Brandt" in contacts.inner_text()
    assert "Decision maker" in contacts.inner_text()
    membership = AccountContact.objects.get(contact__last_name="Brandt")
    assert [r.name for r in membership.roles.all()] == ["Decision maker"]

    # Some life on the account for the screenshots.
    account = membership.account
    deal = make_opportunity(owner=org_setup.rep, stage=org_setup.stages["Meeting"],
                            account=account, amount="48000.00", name="Hall lighting",
                            actor=org_setup.rep)  # fmt: skip
    move_to_stage(opportunity=deal, stage=org_setup.stages["Proposal"], actor=org_setup.rep)
    add_comment(actor=org_setup.rep, body="Wants an offer before the fair.", account=account)
    page.reload()
    shots = settings.PROJECT_DIR / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "account-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / "account-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The same company again: the duplicate is shown, with open / merge / create anyway.
    page.goto(base + reverse("accounts:create"))
    page.get_by_label("Company name").fill("NORDLICHT Leuchten")
    page.get_by_role("button", name="Create account").click()
    warning = page.get_by_test_id("duplicates")
    warning.wait_for()
    assert "Nordlicht Leuchten GmbH" in warning.inner_text()
    assert warning.get_by_role("link", name="Open").count() == 1
    assert warning.get_by_role("button", name="Merge into this one").count() == 1
    page.screenshot(path=str(shots / "account-duplicate-desktop.png"), full_page=True)
    page.get_by_test_id("create-anyway").click()
    page.wait_for_url("**/accounts/*/")
    assert page.locator("h1").inner_text() == "NORDLICHT Leuchten"

    # Global search finds the contact.
    page.fill("#global-search", "Brandt")
    page.locator("#search-results a", has_text="Hanna Brandt").wait_for()
