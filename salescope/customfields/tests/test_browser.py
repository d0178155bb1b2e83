"""In a real browser: an admin adds a mandatory-from-stage field, and the board's stage gate
asks for it; screenshots of the custom fields screens at desktop and phone width."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.services import define_field
from salescope.pipeline.services import move_to_stage
from salescope.testing.browser import login
from salescope.testing.factories import make_opportunity

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def shoot(page: Page, name: str) -> None:
    folder = settings.PROJECT_DIR / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=folder / f"{name}-{suffix}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_admin_adds_a_gate_field_and_the_board_asks_for_it(
    live_server: LiveServer, page: Page, org_setup: Any
) -> None:
    from playwright.sync_api import expect

    proposal = org_setup.stages["Proposal"]
    deal = make_opportunity(
        owner=org_setup.admin, actor=org_setup.admin, stage=org_setup.stages["Meeting"],
        name="Rollout Hamburg",
    )  # fmt: skip
    define_field(
        target="opportunity", key="competitor", label="Main competitor", field_type="choice",
        choices=["Pipedrive", "HubSpot", "Salesforce"], help_text="Who else is in the race?",
    )  # fmt: skip
    define_field(
        target="opportunity", key="contract_value", label="Contract value", field_type="money",
        required_on_create=True, order=1,
    )  # fmt: skip
    login(page, live_server.url, "admin", PASSWORD)

    page.goto(f"{live_server.url}{reverse('customfields:list')}?target=opportunity")
    page.get_by_role("link", name="New Opportunity field").first.click()
    page.get_by_label("Label").fill("Budget confirmed")
    expect(page.get_by_label("Key")).to_have_value("budget_confirmed")  # suggested
    expect(page.locator("[data-role=choices]")).to_be_hidden()
    page.get_by_label("Type").select_option("choice")
    expect(page.locator("[data-role=choices]")).to_be_visible()
    page.get_by_label("Type").select_option("boolean")
    page.get_by_label("Mandatory from stage").select_option(str(proposal.pk))
    page.get_by_label("Help text").fill("Has the customer confirmed a budget?")
    page.get_by_role("button", name="Add field").click()

    row = page.locator("tr[data-key=budget_confirmed]")
    expect(row).to_contain_text("Yes/no")
    expect(row).to_contain_text("Proposal")
    expect(page.get_by_role("status")).to_contain_text("Budget confirmed")
    field = CustomFieldDefinition.objects.get(key="budget_confirmed")
    assert field.required_from_stage_id == proposal.pk and field.field_type == "boolean"
    shoot(page, "customfields")

    page.get_by_role("link", name="Edit Budget confirmed").click()
    expect(page.get_by_label("Mandatory from stage")).to_have_value(str(proposal.pk))
    shoot(page, "customfields-edit")

    # The gate, in the board's "Move to…" dialog (the keyboard path of drag and drop).
    page.goto(live_server.url + reverse("pipeline:board"))
    card = page.locator(f"li.deal[data-id='{deal.pk}']")
    card.locator(".move-btn").click()
    page.locator("#move-stage").select_option(str(proposal.pk))
    page.locator("#move-dialog").get_by_role("button", name="Move", exact=True).click()
    gate = page.locator("#gate-dialog")
    expect(gate).to_be_visible()
    expect(gate).to_contain_text("Budget confirmed")
    deal.refresh_from_db()
    assert deal.stage_id == org_setup.stages["Meeting"].pk  # refused until it is filled

    # The same rule at service level, naming the field.
    with pytest.raises(ValidationError) as exc:
        move_to_stage(opportunity=deal, stage=proposal, actor=org_setup.admin)
    assert "Budget confirmed" in exc.value.message_dict["custom.budget_confirmed"][0]


def test_rep_gets_403(live_server: LiveServer, page: Page, org_setup: Any) -> None:
    login(page, live_server.url, "rep", PASSWORD)
    response = page.goto(live_server.url + reverse("customfields:list"))
    assert response is not None and response.status == 403
