"""End to end: a rep cannot reach a deal outside their scope by URL, search or list."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from salescope.testing.browser import login
from salescope.testing.factories import make_opportunity

PASSWORD = "a-Long-pass-123"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_rep_cannot_open_find_or_list_a_deal_outside_their_scope(
    live_server: Any, page: Any, org_setup: Any
) -> None:
    s = org_setup
    mine = make_opportunity(owner=s.rep, stage=s.stages["Meeting"], name="Zephyr retrofit mine")
    theirs = make_opportunity(
        owner=s.other_rep, stage=s.stages["Meeting"], name="Zephyr retrofit theirs"
    )
    login(page, live_server.url, "rep", PASSWORD)

    response = page.goto(live_server.url + reverse("pipeline:detail", args=[theirs.pk]))
    assert response is not None and response.status == 404
    assert "Zephyr retrofit theirs" not in page.content()

    page.goto(live_server.url + reverse("search") + "?q=Zephyr")
    results = page.locator("#search-results")
    assert "Zephyr retrofit mine" in results.inner_text()
    assert "Zephyr retrofit theirs" not in results.inner_text()

    page.goto(live_server.url + reverse("lists:deals") + "?q=Zephyr")
    body = page.locator("main").inner_text()
    assert "Zephyr retrofit mine" in body and "Zephyr retrofit theirs" not in body

    page.goto(live_server.url + reverse("pipeline:board"))
    board = page.locator("main").inner_text()
    assert "Zephyr retrofit mine" in board and "Zephyr retrofit theirs" not in board
    assert mine.pk != theirs.pk
