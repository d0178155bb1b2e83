"""Export of the current list to CSV and XLSX: same rows, columns, order and scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from salescope.lists.exports import neutralise
from salescope.pipeline.models import Opportunity
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db

COLS = "cols=name&cols=account&cols=amount&cols=probability&cols=expected_close&cols=next_step"


def csv_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response: Any) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def test_csv_has_the_visible_columns_in_the_list_order(client, world) -> None:
    client.force_login(world.org.manager)
    response = client.get(f"/lists/deals/export/csv/?sort=-amount&{COLS}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="deals-2026-03-16.csv"'
    rows = csv_rows(response)
    assert rows[0] == [
        "Deal",
        "Account",
        "Amount",
        "Amount currency",
        "Probability",
        "Expected close",
        "Next step",
    ]
    assert rows[1] == ["Acme lighting", "Acme GmbH", "5000.00", "EUR", "60%", "2026-04-10", ""]
    assert rows[2] == [
        "Globex retrofit",
        "Globex AG",
        "1200.50",
        "USD",
        "10%",
        "2026-06-01",
        "",
    ]
    assert len(rows) == 3  # the other team's deal is not exported


def test_xlsx_has_numeric_amounts_currency_column_and_real_dates(client, world) -> None:
    client.force_login(world.org.manager)
    response = client.get(f"/lists/deals/export/xlsx/?sort=-amount&{COLS}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(response)
    assert rows[0][:4] == ("Deal", "Account", "Amount", "Amount currency")
    name, account, amount, currency, probability, close, _step = rows[1]
    assert (name, account, currency) == ("Acme lighting", "Acme GmbH", "EUR")
    assert amount == 5000 and isinstance(amount, int | float)
    assert probability == pytest.approx(0.6)
    assert isinstance(close, dt.datetime) and close.date() == dt.date(2026, 4, 10)
    assert rows[2][2] == pytest.approx(1200.5) and rows[2][3] == "USD"


def test_export_uses_the_filters_and_every_page(client, world, frozen_now) -> None:
    org = world.org
    for i in range(60):
        make_opportunity(
            owner=org.rep, stage=org.stages["Meeting"], name=f"Many {i:02d}", amount=str(10 + i)
        )
    client.force_login(org.manager)
    query = f"stage={org.stages['Meeting'].pk}&sort=name&per_page=25&page=2&cols=name"
    rows = csv_rows(client.get(f"/lists/deals/export/csv/?{query}"))
    assert len(rows) == 61
    assert rows[1] == ["Many 00"] and rows[-1] == ["Many 59"]
    assert len(xlsx_rows(client.get(f"/lists/deals/export/xlsx/?{query}"))) == 61


def test_a_rep_exports_only_their_scope(client, world) -> None:
    client.force_login(world.org.rep)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/lists/deals/export/{fmt}/?q=&cols=name")
        content = b"".join(response.streaming_content) if fmt == "csv" else response.content
        rows = csv_rows_from(content) if fmt == "csv" else xlsx_rows(response)
        names = [r[0] for r in rows[1:]]
        assert names == ["Acme lighting"], fmt
    body = b"".join(client.get("/lists/activities/export/csv/").streaming_content).decode()
    assert "Initech" not in body and "Call Acme" in body


def csv_rows_from(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8")[1:])))


DANGEROUS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rcr"]


def test_formula_injection_is_neutralised_in_csv_and_xlsx(client, world) -> None:
    from salescope.pipeline.services import update_details

    org = world.org
    for i, text in enumerate(DANGEROUS):
        opp = make_opportunity(
            owner=org.rep, stage=org.stages["Meeting"], name=f"Evil {i}", amount="1.00"
        )
        update_details(opportunity=opp, actor=None, next_step=text)
    client.force_login(org.manager)
    query = "q=Evil&sort=name&cols=name&cols=next_step&cols=amount"
    rows = csv_rows(client.get(f"/lists/deals/export/csv/?{query}"))
    assert rows[0] == ["Deal", "Amount", "Amount currency", "Next step"]
    stored = [
        o.next_step for o in Opportunity.objects.filter(name__startswith="Evil").order_by("name")
    ]
    steps = [r[3] for r in rows[1:]]
    assert steps == ["'" + text if text[0] in "=+-@\t\r" else text for text in stored]
    assert all(s.startswith("'") for s in steps[:4])
    assert all(r[1] == "1.00" for r in rows[1:])  # numbers are left alone

    response = client.get(f"/lists/deals/export/xlsx/?{query}")
    sheet = load_workbook(io.BytesIO(response.content)).active
    for row_index, text in enumerate(stored, start=2):
        cell = sheet.cell(row=row_index, column=4)
        assert cell.data_type == "s", (text, cell.data_type)
        assert cell.value == text  # kept as typed, stored as text: never run as a formula


def test_neutralise() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("Acme = good") == "Acme = good"
    assert neutralise("") == ""


def test_csv_quotes_separators_quotes_and_line_breaks(client, world) -> None:
    from salescope.pipeline.services import update_details

    org = world.org
    opp = make_opportunity(
        owner=org.rep, stage=org.stages["Meeting"], name='Semi; "quoted", x', amount="1.00"
    )
    update_details(opportunity=opp, actor=None, next_step="line one\nline two")
    client.force_login(org.manager)
    response = client.get("/lists/deals/export/csv/?q=Semi&cols=name&cols=next_step")
    body = b"".join(response.streaming_content).decode()
    assert '"Semi; ""quoted"", x"' in body
    assert list(csv.reader(io.StringIO(body[1:])))[1] == ['Semi; "quoted", x', "line one\nline two"]
    # A spreadsheet splitting on semicolons still sees the name as one quoted cell.
    line = body.splitlines()[1]
    assert next(iter(csv.reader([line], delimiter=";")))[0].startswith("Semi; ")


def test_export_query_count_does_not_grow_with_rows(client, world, frozen_now) -> None:
    org = world.org
    client.force_login(org.manager)
    url = "/lists/accounts/export/csv/?cols=name&cols=tags&cols=tier&cols=owner&cols=status"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            b"".join(client.get(url).streaming_content)
        return len(ctx.captured_queries)

    from salescope.testing.factories import AccountFactory

    for i in range(5):
        AccountFactory(name=f"A{i}", owner=org.rep).tags.set([world.hot])
    few = count()
    for i in range(30):
        AccountFactory(name=f"B{i}", owner=org.rep).tags.set([world.hot, world.cold])
    assert count() == few


def test_money_custom_field_exports_amount_and_currency(client, world) -> None:
    from salescope.customfields.services import define_field
    from salescope.pipeline.services import update_opportunity

    define_field(target="opportunity", key="budget", label="Budget", field_type="money")
    update_opportunity(
        opportunity=world.rep_deal,
        actor=None,
        changes={"custom": {"budget": {"amount": "750.25", "currency": "USD"}}},
    )
    client.force_login(world.org.manager)
    rows = xlsx_rows(client.get("/lists/deals/export/xlsx/?q=Acme&cols=name&cols=cf_budget"))
    assert rows[0] == ("Deal", "Budget", "Budget currency")
    assert rows[1][1] == pytest.approx(750.25) and rows[1][2] == "USD"
    assert Decimal(
        csv_rows(client.get("/lists/deals/export/csv/?q=Acme&cols=cf_budget"))[1][1]
    ) == Decimal("750.25")
