"""End-to-end (S6): a rep switches to German in the user menu and sees the board and the deal
page in German, with German number, money and date formats."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.urls import reverse

from salescope.testing.browser import login
from salescope.testing.factories import AccountFactory, make_opportunity

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"
SPACES = re.compile(r"[\u00a0\u202f]")


def _text(page: Page, selector: str = "main") -> str:
    return SPACES.sub(" ", page.locator(selector).inner_text())


def test_switch_to_german_shows_german_labels_and_formats(
    live_server: LiveServer, page: Page, org_setup: Any
) -> None:
    from playwright.sync_api import expect

    rep = org_setup.rep
    account: Any = AccountFactory(name="Müller Maschinenbau GmbH", owner=rep)
    deal = make_opportunity(
        owner=rep,
        stage=org_setup.stages["Proposal"],
        account=account,
        name="Fräsmaschine FZ-200",
        amount="1234.56",
        expected_close=dt.date(2030, 3, 31),
    )

    login(page, live_server.url, rep.username, PASSWORD)
    page.goto(live_server.url + reverse("pipeline:board"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#mainnav")).to_contain_text("Accounts")
    assert "€1,235" in _text(page)

    # The user menu (a <details> whose summary is the user's name) holds the language select,
    # which submits itself on change and brings the user back to the same page.
    page.locator("details.dropdown > summary").click()
    with page.expect_navigation():
        page.select_option("#lang-select", "de")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert page.url.endswith(reverse("pipeline:board"))
    nav = page.locator("#mainnav")
    for label in ("Start", "Pipeline", "Deals", "Firmen", "Kontakte", "Kalender"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    board = _text(page)
    assert "1.235 €" in board  # cards and column totals show whole amounts
    assert "gewichtet" in board.lower()
    assert "€1,235" not in board

    page.goto(live_server.url + reverse("pipeline:detail", args=[deal.pk]))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    body = _text(page)
    assert "1.234,56 €" in body
    assert "31.03.2030" in body
    for label in ("Betrag", "Wahrscheinlichkeit", "Erwarteter Abschluss", "Verantwortlich"):
        assert label in body, label
    assert "Zeitleiste" in body
    assert "Expected close" not in body
    expect(page.get_by_role("button", name=re.compile("Gewonnen"))).to_be_visible()

    shots = settings.PROJECT_DIR / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "deal-german-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / "deal-german-phone.png"), full_page=True)

    # The choice sticks: the next page is German too.
    page.goto(live_server.url + reverse("home"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Guten Tag")
