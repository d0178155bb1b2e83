"""The KPI API, the ``salescope kpi`` command and the generated ``docs/kpis.md``.

Data: rep wins W1 (1000 EUR, 03-10) and W2 (3000 EUR, 03-20), other_rep loses L1 (03-12).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from salescope.core import clock
from salescope.kpis import docs, registry
from salescope.kpis.tests.conftest import NOW, at
from salescope.pipeline import services
from salescope.testing.factories import make_opportunity

MARCH_ARGS = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def deals(org_setup: Any) -> Any:
    o = org_setup
    q = o.stages["Qualification"]
    for owner, amount, day, won in (
        (o.rep, "1000", 10, True),
        (o.rep, "3000", 20, True),
        (o.other_rep, "500", 12, False),
    ):
        with clock.frozen(at(3, 1)):
            opp = make_opportunity(owner=owner, stage=q, amount=amount)
        with clock.frozen(at(3, day)):
            if won:
                services.mark_won(opportunity=opp, actor=None)
            else:
                services.mark_lost(opportunity=opp, actor=None, reason=o.reason)
    return o


@pytest.fixture
def frozen() -> Any:
    with clock.frozen(NOW):
        yield NOW


def _get(client: Any, user: Any, path: str, **params: Any) -> Any:
    client.force_login(user)
    return client.get(f"/api/v1{path}", params)


# --- API --------------------------------------------------------------------------------------


def test_catalogue_lists_every_kpi_with_its_formula(client: Any, deals: Any, frozen: Any) -> None:
    response = _get(client, deals.rep, "/kpis")
    assert response.status_code == 200
    body = response.json()
    assert [k["key"] for k in body] == list(registry.keys())
    win = next(k for k in body if k["key"] == "win_rate")
    assert win["formula"] == "won / (won + lost), deals closed in the period"
    assert win["unit"] == "percent" and win["direction"] == "higher"
    assert win["inputs"] == ["deals_won", "deals_lost"]
    assert "rep" in win["dimensions"]


def test_values_grouped_with_comparison(client: Any, deals: Any, frozen: Any) -> None:
    response = _get(
        client, deals.admin, "/kpis/won_revenue", by="rep", compare="previous", **MARCH_ARGS
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"start": "2026-03-01", "last_day": "2026-03-31"}
    assert body["compare_period"] == {"start": "2026-02-01", "last_day": "2026-02-28"}
    assert body["currency"] == "EUR"
    # rep: 1000 + 3000 = 4000 (nothing in February)
    [row] = body["rows"]
    assert (row["group"], row["group_label"]) == (deals.rep.pk, deals.rep.get_full_name())
    assert (row["value"], row["compare"], row["change"]) == ("4000.00", "0.00", None)
    assert body["total"]["value"] == "4000.00"


def test_values_with_grain_and_filter(client: Any, deals: Any, frozen: Any) -> None:
    response = _get(
        client,
        deals.admin,
        "/kpis/win_rate",
        grain="week",
        filter=[f"team:{deals.team.pk}"],
        **MARCH_ARGS,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    weeks = {r["bucket"]: r["value"] for r in body["rows"]}
    # team North: W1 (03-10, week of 03-09) and W2 (03-20, week of 03-16) won, nothing lost
    assert weeks["2026-03-09"] == "1.000000"
    assert weeks["2026-03-16"] == "1.000000"
    assert weeks["2026-03-02"] is None  # nothing closed: no value
    # with other_rep's team too: 2 won / 3 closed
    both = _get(client, deals.admin, "/kpis/win_rate", **MARCH_ARGS).json()
    assert both["total"]["value"] == "0.666667"


def test_values_respect_the_callers_scope(client: Any, deals: Any, frozen: Any) -> None:
    # other_rep only sees their lost deal: win rate 0 / 1 = 0; deals won 0
    body = _get(client, deals.other_rep, "/kpis/win_rate", **MARCH_ARGS).json()
    assert body["total"]["value"] == "0.000000"
    body = _get(client, deals.other_rep, "/kpis/deals_won", by="rep", **MARCH_ARGS).json()
    assert body["rows"] == [] and body["total"]["value"] == "0"
    # rep sees their two wins
    assert _get(client, deals.rep, "/kpis/deals_won", **MARCH_ARGS).json()["total"]["value"] == "2"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grain": "fortnight"}, "grain"),
        ({"by": "colour"}, "by"),
        ({"by": "activity_type"}, "by"),
        ({"compare": "lastweek"}, "compare"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"filter": "team"}, "filter"),
        ({"filter": "team:x"}, "filter.team"),
        ({"filter": "colour:1"}, "filter.colour"),
        ({"currency": "ZZZ"}, "currency"),
        ({"from": "1200-01-01"}, "from"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: Any, deals: Any, frozen: Any, params: dict[str, Any], field: str
) -> None:
    response = _get(client, deals.admin, "/kpis/deals_won", **params)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]


def test_unknown_kpi_is_404_and_anonymous_is_401(client: Any, deals: Any, frozen: Any) -> None:
    assert _get(client, deals.admin, "/kpis/nope").status_code == 404
    client.logout()
    assert client.get("/api/v1/kpis").status_code == 401
    assert client.get("/api/v1/kpis/deals_won").status_code == 401


def test_openapi_describes_the_endpoints(client: Any, deals: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/kpis" in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/api/v1/kpis/{key}"]["get"]["parameters"]}
    assert {"by", "grain", "from", "to", "compare", "filter", "currency"} <= params


# --- command line -----------------------------------------------------------------------------


def _run(*args: str) -> str:
    out = io.StringIO()
    with clock.frozen(NOW):
        call_command("kpi", *args, stdout=out)
    return out.getvalue()


def test_cli_list(deals: Any) -> None:
    text = _run("list")
    assert "win_rate" in text and "regularity" in text
    listed = json.loads(_run("list", "--json"))
    assert [k["key"] for k in listed] == list(registry.keys())


def test_cli_show_prints_the_same_numbers_as_the_api(client: Any, deals: Any, frozen: Any) -> None:
    args = "won_revenue --by rep --from 2026-03-01 --to 2026-03-31 --compare previous --json"
    cli = json.loads(_run("show", *args.split()))
    api = _get(
        client, deals.admin, "/kpis/won_revenue", by="rep", compare="previous", **MARCH_ARGS
    ).json()
    assert cli == api
    table = _run("show", "won_revenue", "--by", "rep", "--from", "2026-03-01", "--to", "2026-03-31")
    assert "€4,000.00" in table and deals.rep.get_full_name() in table


def test_cli_show_as_a_user_and_with_a_grain(deals: Any) -> None:
    args = "deals_won --as other_rep --from 2026-03-01 --to 2026-03-31 --json"
    mine = json.loads(_run("show", *args.split()))
    assert mine["total"]["value"] == "0"
    weekly = _run(
        "show", "deals_won", "--grain", "week", "--from", "2026-03-01", "--to", "2026-03-31"
    )
    assert "2026-W11" in weekly and "2026-W12" in weekly


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "nope"), "Unknown KPI"),
        (("show", "deals_won", "--as", "ghost"), "no user named"),
        (("show", "deals_won", "--from", "yesterday"), "from"),
        (("show", "deals_won", "--by", "colour"), "by"),
        (("show", "deals_won", "--filter", "rep:abc"), "filter.rep"),
    ],
)
def test_cli_bad_input(deals: Any, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)


# --- docs ---------------------------------------------------------------------------------------


def test_docs_kpis_md_is_current() -> None:
    current = docs.DOCS_PATH.read_text(encoding="utf-8") if docs.DOCS_PATH.exists() else ""
    assert current == docs.generate(), "docs/kpis.md is out of date: run `salescope kpi docs`"


def test_docs_name_every_kpi_with_formula_and_rules() -> None:
    text = docs.generate()
    for kpi in registry.all_kpis():
        assert f"## {kpi.key}\n" in text
        assert str(kpi.formula) in text
    assert "latest close" in text and "percentile_cont" in text


def test_cli_docs_check(tmp_path: Any, monkeypatch: Any) -> None:
    assert "is current" in _run("docs", "--check")
    stale = tmp_path / "kpis.md"
    stale.write_text("old", encoding="utf-8")
    monkeypatch.setattr(docs, "DOCS_PATH", stale)
    with pytest.raises(CommandError, match="not current"):
        _run("docs", "--check")
    assert docs.write(stale) is True
    assert stale.read_text(encoding="utf-8") == docs.generate()


def test_period_defaults_to_the_current_month(deals: Any) -> None:
    with clock.frozen(at(3, 25)):
        out = io.StringIO()
        call_command("kpi", "show", "deals_won", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["period"] == {"start": "2026-03-01", "last_day": "2026-03-31"}
    assert body["total"]["value"] == "2"
    assert dt.date.fromisoformat(body["period"]["start"]).day == 1
