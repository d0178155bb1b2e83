"""End to end in Chromium: log a meeting with minutes from the agenda, send them, see it in
the week in its colour, drag an activity to another day; screenshots of the pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.utils import timezone

from salescope.accounts.services import create_account, create_contact
from salescope.activities import services
from salescope.activities.models import Activity
from salescope.core import clock
from salescope.testing.browser import login
from salescope.testing.factories import ActivityTypeFactory, make_opportunity

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"
SHOTS = settings.PROJECT_DIR / "var" / "screenshots"


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def workspace(org_setup):
    s = org_setup
    meeting = ActivityTypeFactory(
        code="meeting", name="Meeting", is_meeting=True, colour="#e15759", order=1
    )
    call = ActivityTypeFactory(code="call", name="Call", colour="#4e79a7", order=0)
    ActivityTypeFactory(
        code="visit", name="Customer visit", is_meeting=True, colour="#59a14f", order=2
    )
    acme = create_account(actor=s.rep, name="Acme GmbH")
    jane = create_contact(
        actor=s.rep, first_name="Jane", last_name="Doe", email="jane@acme.example", account=acme
    )
    deal = make_opportunity(
        owner=s.rep, stage=s.stages["Proposal"], account=acme, name="Acme lighting"
    )
    return s, meeting, call, acme, jane, deal


def _week_days() -> tuple[dt.date, dt.date, dt.date]:
    """Today and two other days of this week (Monday to Sunday)."""
    today = clock.today()
    monday = today - dt.timedelta(days=today.weekday())
    others = [
        monday + dt.timedelta(days=i) for i in range(7) if monday + dt.timedelta(days=i) != today
    ]
    return today, others[0], others[-1]


def test_log_a_meeting_with_minutes_send_them_and_find_it_in_the_week(
    live_server: LiveServer, page: Page, workspace, mailoutbox
) -> None:
    from playwright.sync_api import expect

    s, _meeting, call, acme, _jane, deal = workspace
    today, first_other, last_other = _week_days()
    services.create_activity(
        actor=s.rep, activity_type=call, subject="Call back Jane", account=acme, due_on=first_other
    )
    visit = ActivityTypeFactory(code="visit")
    afternoon = timezone.make_aware(dt.datetime.combine(first_other, dt.time(14, 0)))
    services.create_activity(
        actor=s.rep, activity_type=visit, subject="Site visit: new hall", opportunity=deal,
        starts_at=afternoon, ends_at=afternoon + dt.timedelta(minutes=90),
    )  # fmt: skip
    services.create_activity(
        actor=s.manager, owner=s.rep, activity_type=call, subject="Ask Jane for the budget",
        account=acme, due_on=today,
    )  # fmt: skip
    login(page, live_server.url, "rep", PASSWORD)

    # From the agenda: the "+" of today opens the create form prefilled with the day.
    page.goto(live_server.url + "/agenda/?view=week")
    page.locator(f'section[data-drop-date="{today:%Y-%m-%d}"] a.add').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New activity")
    expect(page.locator("#id_due_on")).to_have_value(f"{today:%Y-%m-%d}")
    page.select_option("#id_activity_type", label="Meeting")
    page.fill("#id_subject", "Kick-off with Acme")
    page.select_option("#id_opportunity", label="Acme lighting")
    expect(page.get_by_label("Jane Doe")).to_be_visible()  # the deal's contacts are offered
    page.get_by_label("Jane Doe").check()
    page.fill("#id_due_on", "")
    page.fill("#id_starts_at", f"{today:%Y-%m-%d}T00:05")
    page.fill("#id_ends_at", f"{today:%Y-%m-%d}T00:50")
    page.check("#id_done")
    page.get_by_role("button", name="Save").click()

    # Logged as done: straight to its minutes.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Minutes of")
    expect(
        page.locator("#contacts-field, fieldset")
        .filter(has_text="Customer participants")
        .get_by_label("Jane Doe")
    ).to_be_checked()
    page.locator("fieldset").filter(has_text="Internal participants").get_by_label(
        s.manager.display_name
    ).check()
    page.fill("#id_discussion", "Lighting for the new hall; budget approved.")
    page.fill("#id_agreements-0-text", "Send the floor plan")
    page.select_option("#id_agreements-0-responsible", label="Jane Doe")
    page.fill("#id_agreements-0-due_on", f"{today + dt.timedelta(days=7):%Y-%m-%d}")
    page.get_by_role("button", name="Add agreement").click()
    page.fill("#id_agreements-1-text", "Send the offer")
    page.select_option("#id_agreements-1-responsible", label=s.rep.display_name)
    page.get_by_role("button", name="Save minutes").click()

    # The detail page, then send.
    expect(page.get_by_role("heading", level=1)).to_have_text("Kick-off with Acme")
    expect(page.locator(".agreements")).to_contain_text("Send the floor plan")
    expect(page.locator(".agreements")).to_contain_text("Send the offer")
    page.set_viewport_size({"width": 1280, "height": 800})
    _shoot(page, "activity-detail-desktop")
    page.get_by_role("button", name="Send minutes").click()
    expect(page.locator(".messages")).to_contain_text("Minutes sent to")
    expect(page.locator('[data-testid="minutes-sent"]')).to_be_visible()
    assert len(mailoutbox) == 1
    assert "jane@acme.example" in " ".join(mailoutbox[0].to)
    assert "Send the floor plan" in mailoutbox[0].body
    act = Activity.objects.get(subject="Kick-off with Acme")
    assert act.minutes_sent_at is not None and act.opportunity == deal

    # The week: the meeting in its type's colour.
    page.get_by_role("link", name="Agenda", exact=True).first.click()
    block = page.locator(f'.event[data-activity="{act.pk}"]')
    expect(block).to_be_visible()
    colour = block.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(225, 87, 89)"
    _shoot(page, "agenda-week-desktop")

    # Drag the call to another day of the week; it moves there.
    task = Activity.objects.get(subject="Call back Jane")
    source = page.locator(f'.event[data-activity="{task.pk}"]')
    target = page.locator(f'section.daycol[data-drop-date="{last_other:%Y-%m-%d}"] .daybody')
    source.drag_to(target)
    moved = page.locator(
        f'section.daycol[data-drop-date="{last_other:%Y-%m-%d}"] .event[data-activity="{task.pk}"]'
    )
    expect(moved).to_be_visible()
    page.wait_for_function("() => !document.querySelector('.event.dragging')")
    for _ in range(50):
        task.refresh_from_db()
        if task.due_on == last_other:
            break
        page.wait_for_timeout(100)
    assert task.due_on == last_other
    page.reload()
    expect(moved).to_be_visible()

    # Phone width: the week is a list of days, still usable.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(block).to_be_visible()
    box = page.locator("section.daycol").first.bounding_box()
    assert box is not None and box["width"] > 300  # stacked, not seven slivers
    _shoot(page, "agenda-week-phone")
    page.goto(live_server.url + f"/activities/{act.pk}/")
    _shoot(page, "activity-detail-phone")
    page.goto(live_server.url + "/agenda/?view=month")
    _shoot(page, "agenda-month-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    _shoot(page, "agenda-month-desktop")
    assert re.search(r"Kick-off", page.content())
