"""End to end in Chromium: create a deal, drag it and move it by keyboard across stages (with a
stage gate), read the history on the deal page, lose it (reason required) and reopen it;
screenshots of the board and the deal page at desktop and phone width."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.conf import settings

from salescope.testing.browser import login

PASSWORD = "a-Long-pass-123"
SHOTS = settings.PROJECT_DIR / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def column(page: Any, stage: Any) -> Any:
    return page.locator(f"#column-{stage.pk}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_deal_journey_on_board_and_deal_page(live_server: Any, page: Any, org_setup: Any) -> None:
    from playwright.sync_api import expect

    from salescope.customfields.services import define_field
    from salescope.pipeline.models import Opportunity
    from salescope.testing.factories import AccountFactory, make_opportunity

    stages = org_setup.stages
    account = AccountFactory(owner=org_setup.rep, name="Nordlicht Leuchten GmbH")
    define_field(
        target="opportunity", key="decision_date", label="Decision date", field_type="date",
        required_from_stage=stages["Negotiation"],
    )  # fmt: skip
    for i, (stage, amount) in enumerate([("Meeting", "18000.00"), ("Proposal", "42000.00")]):
        make_opportunity(owner=org_setup.rep, stage=stages[stage], name=f"Hall lighting {i + 1}",
                         amount=amount, account=account)  # fmt: skip
    url = live_server.url

    login(page, url, "rep", PASSWORD)

    # Create a deal through the form.
    page.goto(f"{url}/deals/new/?account={account.pk}")
    page.get_by_label("Deal name").fill("Warehouse LED retrofit")
    page.get_by_label("Amount").fill("24500")
    page.get_by_label("Expected close").fill((dt.date.today() + dt.timedelta(days=40)).isoformat())
    page.get_by_role("button", name="Create deal").click()
    expect(page.locator("#fact-name h1")).to_have_text("Warehouse LED retrofit")
    opp = Opportunity.objects.get(name="Warehouse LED retrofit")
    assert opp.account == account and opp.stage == stages["Qualification"]

    # Drag it from Qualification to Meeting: the columns update without a reload.
    page.goto(f"{url}/pipeline/")
    page.evaluate("window.__noReload = true")
    card = column(page, stages["Qualification"]).locator("li.deal", has_text="Warehouse")
    card.drag_to(column(page, stages["Meeting"]))
    moved = column(page, stages["Meeting"]).locator("li.deal", has_text="Warehouse")
    expect(moved).to_be_visible()
    expect(column(page, stages["Qualification"]).locator("li.deal")).to_have_count(0)
    expect(column(page, stages["Meeting"]).locator(".count")).to_have_text("2")
    expect(column(page, stages["Meeting"]).locator(".coltotals .total")).to_have_text("€42,500")

    # The keyboard alternative: "Move to…" then choose Proposal.
    moved.get_by_role("button", name=re.compile("Move to")).focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Move to")).to_be_focused()
    dialog.get_by_label("Move to").select_option(label="Proposal (60 %)")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Move")).to_be_focused()
    page.keyboard.press("Enter")
    expect(
        column(page, stages["Proposal"]).locator("li.deal", has_text="Warehouse")
    ).to_be_visible()
    expect(dialog).to_be_hidden()

    # Negotiation has a gate: the dialog asks for the missing field, then the move goes through.
    card = column(page, stages["Proposal"]).locator("li.deal", has_text="Warehouse")
    card.get_by_role("button", name=re.compile("Move to")).click()
    dialog.get_by_label("Move to").select_option(label="Negotiation (80 %)")
    dialog.get_by_role("button", name="Move").click()
    gate = page.locator("#gate-dialog")
    expect(gate).to_contain_text("Decision date")
    gate.get_by_label("Decision date").fill("2026-06-15")
    gate.get_by_role("button", name="Save and move").click()
    expect(
        column(page, stages["Negotiation"]).locator("li.deal", has_text="Warehouse")
    ).to_be_visible()
    assert page.evaluate("window.__noReload") is True  # still the same page
    opp.refresh_from_db()
    assert opp.stage == stages["Negotiation"] and opp.custom == {"decision_date": "2026-06-15"}

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "board-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    page.screenshot(path=SHOTS / "board-phone.png", full_page=False)
    page.set_viewport_size(DESKTOP)

    # The deal page: every stage change on the timeline and the stage bar.
    page.goto(f"{url}/deals/{opp.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Qualification → Meeting")
    expect(timeline).to_contain_text("Meeting → Proposal")
    expect(timeline).to_contain_text("Proposal → Negotiation")
    expect(page.locator("#stagebar .seg.current")).to_contain_text("Negotiation")
    expect(page.locator("#stagebar .seg.past")).to_have_count(3)
    page.screenshot(path=SHOTS / "deal-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=SHOTS / "deal-phone.png", full_page=True)
    page.set_viewport_size(DESKTOP)

    # Lost needs a reason: first without, refused; then with one.
    page.get_by_role("button", name="Lost").click()
    lost = page.locator("#lost-dialog")
    lost.get_by_role("button", name="Mark lost").click()
    expect(lost).to_contain_text("lost reason is mandatory")
    opp.refresh_from_db()
    assert opp.outcome == "open"
    lost.get_by_label("Reason").select_option(label="Price")
    lost.get_by_role("button", name="Mark lost").click()
    expect(page.locator(".badge.lost")).to_contain_text("Price")

    # Reopen: back in the stage it was lost from.
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator("#deal-header .badge").first).to_have_text("Open")
    opp.refresh_from_db()
    assert opp.outcome == "open" and opp.stage == stages["Negotiation"]
    expect(page.locator("#timeline")).to_contain_text("reopened the deal")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_inline_edit_and_quick_add(live_server: Any, page: Any, org_setup: Any) -> None:
    from playwright.sync_api import expect

    from salescope.pipeline.models import Opportunity
    from salescope.testing.factories import make_opportunity

    opp = make_opportunity(owner=org_setup.rep, stage=org_setup.stages["Meeting"], name="Atrium")
    url = live_server.url
    login(page, url, "rep", PASSWORD)

    page.goto(f"{url}/deals/{opp.pk}/")
    page.get_by_role("button", name="Edit Amount").click()
    amount = page.locator("#fact-amount input[name=value]")
    expect(amount).to_be_focused()
    amount.fill("7300")
    page.locator("#fact-amount").get_by_role("button", name="Save").click()
    expect(page.locator("#fact-amount dd")).to_contain_text("€7,300.00")
    expect(page.locator("#timeline")).to_contain_text("€1,000.00 → €7,300.00")
    # A second edit on the same page uses the new version (no false conflict).
    page.get_by_role("button", name="Edit Probability").click()
    page.locator("#fact-probability input[name=value]").fill("45")
    page.locator("#fact-probability").get_by_role("button", name="Save").click()
    expect(page.locator("#fact-probability dd")).to_contain_text("45 %")

    page.goto(f"{url}/pipeline/")
    meeting = org_setup.stages["Meeting"]
    page.get_by_role("link", name="Add a deal in Meeting").click()
    quick = page.locator("#quickadd-dialog")
    quick.get_by_label("Deal name").fill("Foyer")
    quick.get_by_label("Amount").fill("900")
    quick.get_by_label("Expected close").fill("2026-09-30")
    quick.get_by_role("button", name="Add deal").click()
    expect(column(page, meeting).locator("li.deal", has_text="Foyer")).to_be_visible()
    assert Opportunity.objects.get(name="Foyer").stage == meeting
