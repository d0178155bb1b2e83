"""Flash figures (K1): home tiles month to date against the same days last month, today, per rep.

The hand-made data set; the clock stands at 2026-03-17 12:00 in Berlin (the company time zone).
rep, rep2 and manager are team North (managed by manager); other_rep is team South.

=====  =========  ============  ===========================  ======
deal   owner      created       life                         amount
=====  =========  ============  ===========================  ======
A      rep        03-01         won 03-05                    1000
B      rep        03-02         won 03-17 (today)            2000
C      rep        02-01         won 02-10                    500
D      rep        02-01         won 02-20 (after the 17th)   700
E      rep        03-03         lost 03-03                   100
F      rep        02-02         lost 02-05                   100
G      rep2       03-04         won 03-10                    3000
H      other_rep  03-05         won 03-12                    4000
K      rep        03-01         open, Proposal 60 %,         1000
                                expected close 03-25
=====  =========  ============  ===========================  ======

Activities done: rep 03-17 (60 min), rep 03-02 (30 min), rep 02-16 (45 min), rep 02-25
(20 min, after the 17th), rep2 03-05 (15 min), other_rep 03-06 (90 min).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from salescope.core import clock
from salescope.kpis import builtins, engine, flash, queries, registry, services
from salescope.kpis.flash import FlashPeriods
from salescope.kpis.models import FlashTiles
from salescope.kpis.periods import Period
from salescope.kpis.tests.conftest import at
from salescope.kpis.widgets import WidgetSpec
from salescope.org.models import Role
from salescope.pipeline import services as pipeline
from salescope.testing.factories import ActivityFactory, ActivityTypeFactory, make_opportunity

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 17)
NOW = at(3, 17, 12)


def _deal(owner: Any, stage: Any, created: dt.datetime, amount: str, **kw: Any) -> Any:
    with clock.frozen(created):
        return make_opportunity(owner=owner, stage=stage, amount=amount, **kw)


def _won(owner: Any, stage: Any, created: dt.datetime, won: dt.datetime, amount: str) -> Any:
    opp = _deal(owner, stage, created, amount, expected_close=won.date())
    with clock.frozen(won):
        pipeline.mark_won(opportunity=opp, actor=None)
    return opp


def _lost(owner: Any, stage: Any, created: dt.datetime, lost: dt.datetime, reason: Any) -> Any:
    opp = _deal(owner, stage, created, "100", expected_close=lost.date())
    with clock.frozen(lost):
        pipeline.mark_lost(opportunity=opp, actor=None, reason=reason)
    return opp


@pytest.fixture
def world(org_setup: Any) -> Iterator[Any]:
    o = org_setup
    q = o.stages["Qualification"]
    _won(o.rep, q, at(3, 1), at(3, 5), "1000")  # A
    _won(o.rep, q, at(3, 2), at(3, 17, 9), "2000")  # B, today
    _won(o.rep, q, at(2, 1), at(2, 10), "500")  # C
    _won(o.rep, q, at(2, 1), at(2, 20), "700")  # D, after the same days
    _lost(o.rep, q, at(3, 3), at(3, 3, 15), o.reason)  # E
    _lost(o.rep, q, at(2, 2), at(2, 5), o.reason)  # F
    _won(o.rep2, q, at(3, 4), at(3, 10), "3000")  # G
    _won(o.other_rep, q, at(3, 5), at(3, 12), "4000")  # H, team South
    _deal(o.rep, o.stages["Proposal"], at(3, 1), "1000", expected_close=dt.date(2026, 3, 25))
    call = ActivityTypeFactory(code="call")
    for owner, done, minutes in [
        (o.rep, at(3, 17, 8), 60),
        (o.rep, at(3, 2), 30),
        (o.rep, at(2, 16), 45),
        (o.rep, at(2, 25), 20),
        (o.rep2, at(3, 5), 15),
        (o.other_rep, at(3, 6), 90),
    ]:
        with clock.frozen(done):
            ActivityFactory(owner=owner, activity_type=call, done_at=done, duration_minutes=minutes)
    with clock.frozen(NOW):
        yield o


def _tiles(user: Any) -> dict[str, flash.Tile]:
    return {t.key: t for t in flash.flash_tiles(user)}


def _records_total(url: str, user: Any) -> Decimal:
    """What the drill-down behind ``url`` adds up to."""
    params = QueryDict(urlsplit(url).query)
    query = WidgetSpec.from_params(params).query(user)
    group: Any = params.get("group")
    if group is None:
        return engine.records(query).total()
    return engine.records(query, group=None if group == "none" else int(group)).total()


# --- periods ----------------------------------------------------------------------------------


def test_month_to_date_compares_with_the_same_days_of_last_month() -> None:
    fp = FlashPeriods.on(TODAY)
    assert fp.month_to_date == Period(dt.date(2026, 3, 1), dt.date(2026, 3, 18))
    assert fp.previous == Period(dt.date(2026, 2, 1), dt.date(2026, 2, 18))
    assert fp.day == Period(TODAY, dt.date(2026, 3, 18))
    assert fp.month == Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))


@pytest.mark.parametrize(
    ("today", "previous_last_day"),
    [
        (dt.date(2026, 3, 31), dt.date(2026, 2, 28)),  # 31st -> the end of February
        (dt.date(2026, 3, 29), dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 31), dt.date(2024, 2, 29)),  # leap year
        (dt.date(2026, 5, 31), dt.date(2026, 4, 30)),  # 31st -> 30th
        (dt.date(2026, 1, 15), dt.date(2025, 12, 15)),  # across the year
        (dt.date(2026, 3, 1), dt.date(2026, 2, 1)),
    ],
)
def test_the_comparison_is_clamped_to_the_previous_month(
    today: dt.date, previous_last_day: dt.date
) -> None:
    previous = FlashPeriods.on(today).previous
    assert previous.start == previous_last_day.replace(day=1)
    assert previous.last_day == previous_last_day


# --- tiles ------------------------------------------------------------------------------------


def test_manager_tiles_month_to_date_against_the_same_days_and_today(world: Any) -> None:
    tiles = _tiles(world.manager)
    assert list(tiles) == list(builtins.DEFAULT_TILES[Role.MANAGER])

    won = tiles["deals_won"]
    assert (won.main.value, won.compare and won.compare.value, won.today and won.today.value) == (
        3,  # A, B, G (H is team South)
        1,  # C (D was won on 20 February, after the same days)
        1,  # B
    )
    assert won.change == Decimal(2)
    assert (won.trend, won.good) == ("up", True)
    assert won.scope == "month to date"

    lost = tiles["deals_lost"]
    assert (lost.main.value, lost.compare and lost.compare.value) == (1, 1)
    assert (lost.change, lost.trend, lost.good) == (0, "flat", None)
    assert lost.today is not None and lost.today.value == 0

    rate = tiles["win_rate"]
    assert rate.main.value == Decimal("0.75")
    assert rate.compare is not None and rate.compare.value == Decimal("0.5")
    assert rate.today is not None and rate.today.value == 1
    assert rate.good is True
    # a rate moves in percentage points (75 % − 50 %), not by +50 % of itself
    assert (rate.change, rate.change_display) == (Decimal(25), "+25.0 pp")

    revenue = tiles["won_revenue"]
    assert revenue.main.value == Decimal("6000.00")
    assert revenue.compare is not None and revenue.compare.value == Decimal("500.00")
    assert revenue.today is not None and revenue.today.value == Decimal("2000.00")

    created = tiles["opportunities_created"]
    # March 1–17: A, B, E, G, K; 1–17 February: C, D, F; today: none
    assert created.main.value == 5
    assert created.compare is not None and created.compare.value == 3
    assert created.today is not None and created.today.value == 0

    weighted = tiles["weighted_pipeline"]
    assert weighted.main.value == Decimal("600.00")  # K: 1000 × 60 %, expected 25 March
    assert weighted.scope == "expected to close this month"
    assert weighted.compare is None and weighted.today is None

    activities = tiles["activities_done"]
    assert activities.main.value == 3  # rep 03-17, rep 03-02, rep2 03-05
    assert activities.compare is not None and activities.compare.value == 1  # rep 02-16
    assert activities.today is not None and activities.today.value == 1

    hours = tiles["time_spent"]
    assert hours.main.value == Decimal("1.75")  # 60 + 30 + 15 minutes
    assert hours.compare is not None and hours.compare.value == Decimal("0.75")
    assert hours.today is not None and hours.today.value == 1


def test_no_change_from_zero_and_a_flat_change(world: Any) -> None:
    services.set_flash_tiles(actor=world.rep, kpis=["deals_lost", "won_revenue"])
    with clock.frozen(at(3, 4, 12)):
        lost, revenue = flash.flash_tiles(world.rep)
    # 1–4 March: E lost; 1–4 February: none (F was lost on the 5th)
    assert (lost.main.value, lost.compare and lost.compare.value) == (1, 0)
    assert (lost.change, lost.trend, lost.good, lost.change_display) == (None, "", None, "")
    assert revenue.main.display == "€0.00"  # A was won on 5 March
    assert revenue.formula.startswith("sum of")
    with clock.frozen(at(3, 6, 12)):
        lost, _revenue = flash.flash_tiles(world.rep)
    assert (lost.main.value, lost.compare and lost.compare.value) == (1, 1)
    assert (lost.trend, lost.good) == ("flat", None)


def test_a_rise_of_a_lower_is_better_kpi_is_bad(world: Any) -> None:
    q = world.stages["Qualification"]
    _lost(world.rep, q, at(3, 1), at(3, 6), world.reason)
    services.set_flash_tiles(actor=world.rep, kpis=["deals_lost"])
    (lost,) = flash.flash_tiles(world.rep)
    assert (lost.main.value, lost.compare and lost.compare.value) == (2, 1)
    assert (lost.change_display, lost.trend, lost.good) == ("+100.0%", "up", False)


def test_the_31st_compares_with_the_whole_of_february(world: Any) -> None:
    q = world.stages["Qualification"]
    _won(world.rep, q, at(2, 1), at(2, 28, 20), "100")
    with clock.frozen(at(3, 31, 12)):
        tiles = {t.key: t for t in flash.flash_tiles(world.rep)}
    won = tiles["deals_won"]
    assert won.main.value == 2  # A, B
    assert won.compare is not None and won.compare.value == 3  # C, D, and the one of 28 Feb
    assert won.today is not None and won.today.value == 0
    assert "from=2026-02-01&to=2026-02-28" in won.compare.url


def test_snapshot_kpis_show_now_only(world: Any) -> None:
    tiles = _tiles(world.rep)
    assert list(tiles) == list(builtins.DEFAULT_TILES[Role.REP])
    stale = tiles["stale_opportunities"]
    assert stale.main.value == 1  # K, not updated since 1 March
    assert stale.scope == "as of now"
    assert stale.compare is None and stale.today is None and stale.trend == ""


def test_a_reps_tiles_exclude_another_reps_deals(world: Any) -> None:
    rep = _tiles(world.rep)
    assert rep["deals_won"].main.value == 2  # A, B; not G (rep2) nor H (other_rep)
    assert rep["won_revenue"].main.value == Decimal("3000.00")
    assert rep["activities_done"].main.value == 2
    rep2 = _tiles(world.rep2)
    assert rep2["deals_won"].main.value == 1
    assert rep2["deals_lost"].main.value == 0
    assert rep2["win_rate"].main.value == 1
    other = _tiles(world.other_rep)
    assert other["deals_won"].main.value == 1
    assert other["time_spent"].main.value == Decimal("1.50")
    admin = _tiles(world.admin)
    assert admin["deals_won"].main.value == 4


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.REP, Role.MARKETING,
                                  Role.READ_ONLY])  # fmt: skip
def test_role_defaults(world: Any, role: str) -> None:
    user = {
        Role.ADMIN: world.admin,
        Role.MANAGER: world.manager,
        Role.REP: world.rep,
        Role.MARKETING: world.marketing,
        Role.READ_ONLY: world.readonly,
    }[role]
    assert [t.key for t in flash.flash_tiles(user)] == list(builtins.DEFAULT_TILES[role])


def test_a_users_chosen_tiles_in_their_order(world: Any) -> None:
    services.set_flash_tiles(actor=world.rep, kpis=["time_spent", "deals_won", "sales_velocity"])
    assert [t.key for t in flash.flash_tiles(world.rep)] == [
        "time_spent",
        "deals_won",
        "sales_velocity",
    ]
    # another user keeps the defaults
    assert [t.key for t in flash.flash_tiles(world.rep2)] == list(builtins.DEFAULT_TILES[Role.REP])


def test_every_number_adds_up_to_its_drill_down(world: Any) -> None:
    for user in (world.manager, world.rep, world.admin):
        for tile in flash.flash_tiles(user):
            numbers = [tile.main, tile.compare, tile.today]
            for number in numbers:
                if number is None:
                    continue
                assert number.url.startswith(flash.records_url() + "?kpi=")
                if tile.kpi.kind in ("count", "sum"):
                    assert _records_total(number.url, user) == number.value, (tile.key, number)


def test_tile_links_name_the_kpi_and_the_days(world: Any) -> None:
    won = _tiles(world.manager)["deals_won"]
    assert won.main.url.endswith("?kpi=deals_won&chart=number&period=custom&from=2026-03-01"
                                 "&to=2026-03-17")  # fmt: skip
    assert won.compare is not None and "from=2026-02-01&to=2026-02-17" in won.compare.url
    assert won.today is not None and "from=2026-03-17&to=2026-03-17" in won.today.url


def test_a_missing_exchange_rate_is_shown_on_its_tile(world: Any) -> None:
    q = world.stages["Qualification"]
    _won(world.rep, q, at(3, 1), at(3, 2), "100")
    from salescope.pipeline.models import Opportunity

    Opportunity.objects.filter(amount=Decimal("100"), outcome="won").update(currency_id="CHF")
    tiles = _tiles(world.rep)
    assert tiles["won_revenue"].main.display == "–"
    assert "CHF" in tiles["won_revenue"].error
    assert tiles["deals_won"].main.value == 3


# --- per rep ----------------------------------------------------------------------------------


def test_manager_sees_their_teams_reps(world: Any) -> None:
    table = flash.flash_by_rep(world.manager)
    assert [k.key for k in table.kpis] == list(builtins.DEFAULT_TILES[Role.MANAGER])
    ids = {row.user_id for row in table.rows}
    assert ids == {world.manager.pk, world.rep.pk, world.rep2.pk}
    won = table.kpis.index(next(k for k in table.kpis if k.key == "deals_won"))
    by_id = {row.user_id: row for row in table.rows}
    values = {pk: row.cells[won].value for pk, row in by_id.items()}  # type: ignore[union-attr]
    assert values == {world.manager.pk: 0, world.rep.pk: 2, world.rep2.pk: 1}
    rate = [k.key for k in table.kpis].index("win_rate")
    assert by_id[world.manager.pk].cells[rate].value is None  # type: ignore[union-attr]
    assert by_id[world.manager.pk].cells[rate].display == "–"  # type: ignore[union-attr]
    assert by_id[world.rep.pk].cells[rate].value == Decimal("0.666667")  # type: ignore[union-attr]
    assert table.totals[won] is not None and table.totals[won].value == 3
    for user_row in table.rows:
        for kpi, cell in zip(table.kpis, user_row.cells, strict=True):
            assert cell is not None
            assert "by=rep" in cell.url and cell.url.endswith(f"&group={user_row.user_id}")
            if kpi.kind in ("count", "sum"):
                assert _records_total(cell.url, world.manager) == cell.value, (kpi.key, cell)


def test_admin_sees_every_rep(world: Any) -> None:
    table = flash.flash_by_rep(world.admin)
    ids = {row.user_id for row in table.rows}
    assert {world.rep.pk, world.rep2.pk, world.other_rep.pk, world.manager.pk} <= ids
    assert world.marketing.pk not in ids


def test_per_rep_view(world: Any, client: Client) -> None:
    url = reverse("kpis:flash_reps")
    client.force_login(world.manager)
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert world.rep.display_name in html and world.rep2.display_name in html
    assert world.other_rep.display_name not in html
    page = client.get(url)  # without JavaScript: a whole page
    assert page.status_code == 200 and "<html" in page.content.decode()
    for user in (world.rep, world.marketing, world.readonly):
        client.force_login(user)
        assert client.get(url).status_code == 403


# --- choosing the tiles -----------------------------------------------------------------------


def test_tiles_page_lists_the_catalogue(world: Any, client: Client) -> None:
    client.force_login(world.rep)
    response = client.get(reverse("kpis:flash_tiles"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Outcomes", "Pipeline", "Activity", "Regularity", "Stale opportunities"):
        assert name in html
    assert 'value="deals_won" id="tile-deals_won" checked' in html
    assert 'value="sales_velocity" id="tile-sales_velocity">' in html
    assert 'name="position-deals_won" value="1"' in html
    assert "Restore defaults" in html


def test_tiles_page_saves_in_the_numbered_order(world: Any, client: Client) -> None:
    client.force_login(world.rep)
    response = client.post(
        reverse("kpis:flash_tiles"),
        {
            "kpi": ["deals_won", "win_rate", "activities_done", "regularity"],
            "position-deals_won": "3",
            "position-win_rate": "1",
            "position-activities_done": "2",
            "position-regularity": "nan",  # not a number: after the numbered ones
            "position-time_spent": "4",  # not ticked: ignored
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert [k.key for k in queries.flash_kpis(world.rep)] == [
        "win_rate",
        "activities_done",
        "deals_won",
        "regularity",
    ]
    home = client.get(reverse("home")).content.decode()
    assert home.index('data-kpi="win_rate"') < home.index('data-kpi="deals_won"')
    assert "Your flash figures are saved." in home


def test_tiles_page_restores_the_defaults(world: Any, client: Client) -> None:
    services.set_flash_tiles(actor=world.rep, kpis=["regularity"])
    client.force_login(world.rep)
    response = client.post(
        reverse("kpis:flash_tiles"), {"kpi": ["regularity"], "action": "restore"}
    )
    assert response.status_code == 302
    assert not queries.has_custom_tiles(world.rep)
    assert [k.key for k in queries.flash_kpis(world.rep)] == list(builtins.DEFAULT_TILES[Role.REP])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kpi": ["deals_won", "no_such_kpi"]}, "Unknown KPI"),
        ({"kpi": "13 of the catalogue"}, "at most 12"),
        ({}, "Choose at least one"),
    ],
)
def test_tiles_page_rejects_bad_choices_and_writes_nothing(
    world: Any, client: Client, data: dict[str, Any], message: str
) -> None:
    services.set_flash_tiles(actor=world.rep, kpis=["regularity"])
    client.force_login(world.rep)
    if data.get("kpi") == "13 of the catalogue":
        data = {"kpi": list(registry.keys())[:13]}
    response = client.post(reverse("kpis:flash_tiles"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert FlashTiles.objects.get(user=world.rep).kpis == ["regularity"]
    assert FlashTiles.objects.count() == 1


# --- the home page ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "manager", "rep", "marketing", "readonly"])
def test_home_renders_for_every_role(world: Any, client: Client, username: str) -> None:
    user = getattr(world, username)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Flash figures" in html and "My next actions" in html
    assert reverse("kpis:flash_tiles") in html
    for key in builtins.DEFAULT_TILES[user.role]:
        assert f'data-kpi="{key}"' in html
    assert ('hx-get="' + reverse("kpis:flash_reps")) in html or username not in (
        "admin",
        "manager",
    )
    if username in ("admin", "manager"):
        assert 'hx-trigger="load"' in html
    else:
        assert reverse("kpis:flash_reps") not in html


def test_home_tile_shows_the_numbers_and_links(world: Any, client: Client) -> None:
    client.force_login(world.manager)
    html = client.get(reverse("home")).content.decode()
    tile = html[html.index('data-kpi="deals_won"') :]
    tile = tile[: tile.index("</article>")]
    assert 'data-testid="tile-value">3</a>' in tile
    assert "vs same days last month:" in tile and '"tile-compare">1</a>' in tile
    assert "today:" in tile and '"tile-today">1</a>' in tile
    assert "+200.0%" in tile and "flash-change good" in tile
    assert 'title="count of opportunities whose outcome became won' in tile
    assert "period=custom&amp;from=2026-03-01&amp;to=2026-03-17" in tile


def test_clicking_a_number_lands_on_its_records(world: Any, client: Client) -> None:
    client.force_login(world.manager)
    tiles = _tiles(world.manager)
    won = tiles["deals_won"]
    response = client.get(won.main.url)
    assert response.status_code == 200
    assert 'data-count="3"' in response.content.decode()
    assert won.compare is not None
    assert 'data-count="1"' in client.get(won.compare.url).content.decode()
    table = flash.flash_by_rep(world.manager)
    rep_row = next(r for r in table.rows if r.user_id == world.rep.pk)
    cell = rep_row.cells[[k.key for k in table.kpis].index("deals_won")]
    assert cell is not None
    assert 'data-count="2"' in client.get(cell.url).content.decode()
