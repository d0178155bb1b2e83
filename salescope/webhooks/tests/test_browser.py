"""In a real browser: an admin subscribes a receiver, sends a test ping and sees it logged."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from salescope.testing.browser import login
from salescope.webhooks.models import WebhookSubscription
from salescope.webhooks.tests.conftest import Receiver

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_subscription_pings_it_and_sees_the_log(
    live_server: LiveServer, page: Page, org_setup: Any, receiver: Receiver
) -> None:
    from playwright.sync_api import expect

    login(page, live_server.url, "admin", "a-Long-pass-123")
    page.locator(".usermenu summary").click()  # settings live in the user menu
    page.locator(".usermenu").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    page.get_by_role("link", name="New subscription").click()
    page.get_by_label("Name").fill("Local receiver")
    page.get_by_label("Target URL").fill(receiver.url)
    page.get_by_label("Deal won").check()
    page.get_by_label("Activity done").check()
    page.get_by_role("button", name="Create subscription").click()

    sub = WebhookSubscription.objects.get()
    assert sub.event_types == ["deal.won", "activity.done"]
    expect(page).to_have_url(live_server.url + reverse("webhooks:detail", args=[sub.pk]))
    expect(page.locator("[data-role=secret]")).to_have_text(sub.secret)
    expect(page.get_by_text("No deliveries yet")).to_be_visible()

    page.get_by_role("button", name="Send test ping").click()
    expect(page.get_by_role("status")).to_contain_text("Test ping sent")
    row = page.locator("tr[data-delivery]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("ping")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("200")
    row.get_by_text("Payload").click()
    expect(row.locator("pre").first).to_contain_text('"type": "ping"')

    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].body)["type"] == "ping"
    assert receiver.requests[0].headers["Salescope-Signature"].startswith("t=")

    page.locator(".usermenu summary").click()
    page.locator(".usermenu").get_by_role("link", name="Webhooks").click()
    listed = page.locator(f"tr[data-subscription='{sub.pk}']")
    expect(listed).to_contain_text("Local receiver")
    expect(listed.locator(".wh-last")).to_contain_text("Succeeded")
