"""Dashboards: the services that change them, who sees which, and the pages.

The hand-made deals (March 2026, Berlin; "now" is 2026-04-02, so "last month" is March):

=====  =========  =======  ======
deal   owner      won      amount
=====  =========  =======  ======
A      rep        03-10    1000
B      rep        03-20    3000
C      rep2       03-12     500
E      other_rep  03-15    4000
=====  =========  =======  ======

rep and rep2 are in team North (manager), other_rep in South (manager2).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from salescope.core import clock
from salescope.core.errors import PermissionDenied
from salescope.kpis import builtins, queries, services
from salescope.kpis.models import Dashboard, Sharing, Widget
from salescope.kpis.tests.conftest import NOW, at
from salescope.kpis.widgets import WidgetSpec
from salescope.pipeline import services as pipeline
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db

WON = WidgetSpec(kpi="deals_won", chart="number", period="last_month")
REVENUE_BY_REP = WidgetSpec(kpi="won_revenue", chart="bar", by="rep", period="last_month")


def _deal(owner: Any, stage: Any, won: Any, amount: str) -> Any:
    with clock.frozen(at(3, 1)):
        opp = make_opportunity(owner=owner, stage=stage, amount=amount)
    with clock.frozen(won):
        pipeline.mark_won(opportunity=opp, actor=None)
    return opp


@pytest.fixture
def world(org_setup: Any) -> Any:
    o = org_setup
    q = o.stages["Qualification"]
    _deal(o.rep, q, at(3, 10), "1000")
    _deal(o.rep, q, at(3, 20), "3000")
    _deal(o.rep2, q, at(3, 12), "500")
    _deal(o.other_rep, q, at(3, 15), "4000")
    return o


def _counts() -> tuple[int, int]:
    return Dashboard.objects.count(), Widget.objects.count()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(user: Any, url: str) -> Any:
    with clock.frozen(NOW):
        return _client(user).get(url)


def _post(user: Any, url: str, data: Any) -> Any:
    with clock.frozen(NOW):
        return _client(user).post(url, data)


def _numbers(html: str) -> list[str]:
    return re.findall(r'class="kw-value"[^>]*>([^<]+)<', html)


# --- services -------------------------------------------------------------------------------


def test_create_update_share_and_delete(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.rep, name="  My   month ")
    second = services.create_dashboard(actor=o.rep, name="Second")
    assert (board.name, board.sharing, board.team_id) == ("My month", Sharing.PRIVATE, None)
    assert second.position == board.position + 1
    services.update_dashboard(actor=o.rep, dashboard=board, name="Team month", sharing="team")
    board.refresh_from_db()
    assert (board.name, board.sharing, board.team_id) == ("Team month", "team", o.team.pk)
    services.update_dashboard(actor=o.rep, dashboard=board, sharing="everyone")
    board.refresh_from_db()
    assert (board.sharing, board.team_id) == ("everyone", None)
    services.delete_dashboard(actor=o.rep, dashboard=board)
    assert list(Dashboard.objects.values_list("name", flat=True)) == ["Second"]


def test_add_move_reorder_resize_and_remove_widgets(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="Board")
    a = services.add_widget(actor=o.manager, dashboard=board, spec=WON)
    b = services.add_widget(actor=o.manager, dashboard=board, spec=REVENUE_BY_REP, size="full")
    c = services.add_widget(actor=o.manager, dashboard=board, spec=WON, title="  Won  again ")
    assert (b.size, c.title) == ("full", "Won again")
    assert WidgetSpec.from_json(b.spec) == REVENUE_BY_REP

    def order() -> list[int]:
        return list(board.widgets.order_by("position").values_list("pk", flat=True))

    assert order() == [a.pk, b.pk, c.pk]
    services.move_widget(actor=o.manager, widget=c, offset=-1)
    assert order() == [a.pk, c.pk, b.pk]
    services.move_widget(actor=o.manager, widget=a, offset=-1)  # already first: stays
    assert order() == [a.pk, c.pk, b.pk]
    services.reorder_widgets(actor=o.manager, dashboard=board, widget_ids=[b.pk, a.pk, c.pk])
    assert order() == [b.pk, a.pk, c.pk]
    services.update_widget(actor=o.manager, widget=a, size="full")
    a.refresh_from_db()
    assert a.size == "full"
    services.remove_widget(actor=o.manager, widget=b)
    assert order() == [a.pk, c.pk]


def test_copy_a_shared_dashboard_and_a_builtin(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="Team", sharing="team")
    services.add_widget(actor=o.manager, dashboard=board, spec=WON, title="Won")
    copy = services.copy_dashboard(actor=o.rep, name="Mine", source=board)
    assert (copy.owner, copy.sharing) == (o.rep, "private")
    assert [w.title for w in copy.widgets.all()] == ["Won"]
    manager = services.copy_dashboard(actor=o.rep, name="Manager", builtin="manager")
    assert manager.widgets.count() == len(builtins.MANAGER.widgets)
    with pytest.raises(PermissionDenied):  # a team the rep is not in
        hidden = services.create_dashboard(actor=o.other_manager, name="South", sharing="team")
        services.copy_dashboard(actor=o.rep, name="Theirs", source=hidden)


def test_only_the_owner_changes_a_dashboard(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="Team", sharing="team")
    widget = services.add_widget(actor=o.manager, dashboard=board, spec=WON)
    before = _counts()
    for call in (
        lambda: services.update_dashboard(actor=o.rep, dashboard=board, name="Mine"),
        lambda: services.delete_dashboard(actor=o.rep, dashboard=board),
        lambda: services.add_widget(actor=o.rep, dashboard=board, spec=WON),
        lambda: services.remove_widget(actor=o.rep, widget=widget),
        lambda: services.move_widget(actor=o.rep, widget=widget, offset=1),
        lambda: services.create_dashboard(actor=o.readonly, name="Read only"),
        lambda: services.copy_dashboard(actor=o.readonly, name="Copy", builtin="rep"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    board.refresh_from_db()
    assert (board.name, _counts()) == ("Team", before)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Board", "sharing": "friends"}, "sharing"),
    ],
)
def test_bad_dashboard_input_writes_nothing(org_setup: Any, kwargs: Any, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_dashboard(actor=org_setup.rep, **kwargs)
    assert field in error.value.message_dict
    assert _counts() == (0, 0)


def test_team_sharing_needs_a_team(org_setup: Any) -> None:
    board = services.create_dashboard(actor=org_setup.marketing, name="Campaigns")
    with pytest.raises(ValidationError) as error:
        services.update_dashboard(actor=org_setup.marketing, dashboard=board, sharing="team")
    assert "sharing" in error.value.message_dict
    board.refresh_from_db()
    assert board.sharing == "private"


def test_bad_widgets_are_refused(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="Board")
    with pytest.raises(ValidationError) as error:
        services.add_widget(actor=o.manager, dashboard=board, spec=WON.with_(chart="pie"))
    assert "chart" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.add_widget(actor=o.manager, dashboard=board, spec=WON, size="huge")
    assert "size" in error.value.message_dict
    Widget.objects.bulk_create(
        Widget(dashboard=board, position=i, spec=WON.to_json()) for i in range(services.MAX_WIDGETS)
    )
    with pytest.raises(ValidationError) as error:
        services.add_widget(actor=o.manager, dashboard=board, spec=WON)
    assert "dashboard" in error.value.message_dict
    assert board.widgets.count() == services.MAX_WIDGETS


def test_visible_dashboards(org_setup: Any) -> None:
    o = org_setup
    private = services.create_dashboard(actor=o.manager, name="Private")
    north = services.create_dashboard(actor=o.manager, name="North", sharing="team")
    everyone = services.create_dashboard(actor=o.other_manager, name="All", sharing="everyone")
    south = services.create_dashboard(actor=o.other_rep, name="South", sharing="team")

    def names(user: Any) -> set[str]:
        return set(queries.visible_dashboards(user).values_list("name", flat=True))

    assert names(o.manager) == {"Private", "North", "All"}
    assert names(o.rep) == {"North", "All"}  # a member of North
    assert names(o.other_rep) == {"All", "South"}  # another team
    assert names(o.other_manager) == {"All", "South"}  # manages South
    assert names(o.readonly) == {"All"}
    assert queries.can_edit_dashboard(o.manager, north)
    assert not queries.can_edit_dashboard(o.rep, north)
    assert not queries.can_edit_dashboard(o.readonly, everyone)
    assert {private, north, everyone, south}


# --- pages ----------------------------------------------------------------------------------


def test_the_list_shows_builtins_mine_and_shared(org_setup: Any) -> None:
    o = org_setup
    services.create_dashboard(actor=o.rep, name="Rep board")
    services.create_dashboard(actor=o.manager, name="Team board", sharing="team")
    response = _get(o.rep, reverse("kpis:dashboards"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Sales manager", "Rep", "Rep board", "Team board", "North", "New dashboard"):
        assert text in html
    assert html.index("Sales manager") < html.index("Rep board") < html.index("Team board")
    readonly = _get(o.readonly, reverse("kpis:dashboards")).content.decode()
    assert "New dashboard" not in readonly and "Sales manager" in readonly


def test_create_and_reorder_from_the_list(org_setup: Any) -> None:
    o = org_setup
    url = reverse("kpis:dashboards")
    response = _post(o.rep, url, {"name": "First", "sharing": "private"})
    first = Dashboard.objects.get(name="First")
    assert response["Location"] == reverse("kpis:dashboard", args=[first.pk])
    _post(o.rep, url, {"name": "Second", "sharing": "team"})
    bad = _post(o.rep, url, {"name": " ", "sharing": "private"})
    assert bad.status_code == 400 and "Give the dashboard a name." in bad.content.decode()
    second = Dashboard.objects.get(name="Second")
    assert second.team == o.team
    _post(o.rep, reverse("kpis:dashboard_move", args=[second.pk]), {"offset": "-1"})
    mine = queries.visible_dashboards(o.rep).filter(owner=o.rep)
    assert [d.name for d in mine] == ["Second", "First"]
    readonly = _post(o.readonly, url, {"name": "Nope", "sharing": "private"})
    assert readonly.status_code == 403
    assert Dashboard.objects.count() == 2


def test_builtins_are_computed_in_each_users_scope(world: Any) -> None:
    o = world
    url = reverse("kpis:builtin_dashboard", args=["rep"])
    assert _get(o.rep, url).status_code == 200
    index = next(i for i, w in enumerate(builtins.REP.widgets) if w.spec.kpi == "deals_won")
    spec = builtins.REP.widgets[index].spec.with_(period="last_month")
    # the built-in's own widget (this month: nothing yet) ...
    body = reverse("kpis:builtin_widget", args=["rep", index])
    assert _numbers(_get(o.rep, body).content.decode()) == ["0"]
    # ... and the same KPI for March, through a saved copy, per user
    board = services.create_dashboard(actor=o.manager, name="March", sharing="everyone")
    widget = services.add_widget(actor=o.manager, dashboard=board, spec=spec)
    body = reverse("kpis:widget", args=[widget.pk])
    assert _numbers(_get(o.rep, body).content.decode()) == ["2"]  # A, B
    assert _numbers(_get(o.rep2, body).content.decode()) == ["1"]  # C
    assert _numbers(_get(o.manager, body).content.decode()) == ["3"]  # the team North
    assert _numbers(_get(o.admin, body).content.decode()) == ["4"]  # everyone


def test_builtin_pages_render_inline_for_a_manager_and_a_rep(world: Any) -> None:
    o = world
    for user, key in ((o.manager, "manager"), (o.rep, "rep")):
        html = _get(user, reverse("kpis:builtin_dashboard", args=[key]) + "?all=1")
        assert html.status_code == 200
        text = html.content.decode()
        assert text.count("data-widget") == len(builtins.BUILTINS[key].widgets)
        assert "kw-error" not in text
    lazy = _get(o.rep, reverse("kpis:builtin_dashboard", args=["manager"])).content.decode()
    assert 'hx-trigger="load"' in lazy
    assert _get(o.rep, reverse("kpis:builtin_dashboard", args=["nope"])).status_code == 404
    assert _get(o.rep, reverse("kpis:builtin_widget", args=["rep", 99])).status_code == 404


def test_rep_builtin_numbers_exclude_other_reps_deals(world: Any) -> None:
    o = world
    later = at(4, 20)  # "this month" is April: two more deals, one each
    _deal(o.rep, o.stages["Qualification"], at(4, 3), "100")
    _deal(o.rep2, o.stages["Qualification"], at(4, 4), "100")
    _deal(o.rep2, o.stages["Qualification"], at(4, 5), "100")
    body = reverse("kpis:builtin_widget", args=["rep", 0])  # deals won, this month
    with clock.frozen(later):
        assert _numbers(_client(o.rep).get(body).content.decode()) == ["1"]
        assert _numbers(_client(o.rep2).get(body).content.decode()) == ["2"]
        assert _numbers(_client(o.manager).get(body).content.decode()) == ["3"]


def test_add_widget_to_a_new_and_an_existing_dashboard(world: Any) -> None:
    o = world
    url = reverse("kpis:widget_add")
    params = dict(REVENUE_BY_REP.params())
    response = _post(o.manager, url, {**params, "new_dashboard": "Revenue", "size": "full"})
    board = Dashboard.objects.get(name="Revenue")
    widget = board.widgets.get()
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("kpis:dashboard", args=[board.pk]))
    assert (widget.size, WidgetSpec.from_json(widget.spec)) == ("full", REVENUE_BY_REP)
    client = _client(o.manager)
    with clock.frozen(NOW):
        data = {**dict(WON.params()), "dashboard": board.pk, "title": "Wins"}
        page = client.post(url, data, follow=True).content.decode()
    assert [w.title for w in board.widgets.order_by("position")] == ["", "Wins"]
    assert "“Wins” saved to dashboard “Revenue”." in page


@pytest.mark.parametrize(
    "data",
    [
        {"kpi": "deals_won", "chart": "pie", "new_dashboard": "X"},  # a pie needs a dimension
        {"kpi": "no_such_kpi", "new_dashboard": "X"},
        {"kpi": "deals_won", "period": "someday", "new_dashboard": "X"},
        {"kpi": "deals_won"},  # no dashboard
        {"kpi": "deals_won", "new_dashboard": "X", "size": "huge"},
        {"kpi": "deals_won", "dashboard": "99999"},
        {"kpi": "deals_won", "dashboard": "abc"},
    ],
)
def test_add_widget_errors_write_nothing(org_setup: Any, data: dict[str, str]) -> None:
    response = _post(org_setup.manager, reverse("kpis:widget_add"), data)
    assert response.status_code == 400
    assert 'id="db-add-errors"' in response.content.decode()
    assert _counts() == (0, 0)


def test_add_widget_to_someone_elses_dashboard_is_refused(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="Team", sharing="team")
    data = {**dict(WON.params()), "dashboard": board.pk}
    assert _post(o.rep, reverse("kpis:widget_add"), data).status_code == 403
    readonly = _post(o.readonly, reverse("kpis:widget_add"), {**data, "new_dashboard": "Mine"})
    assert readonly.status_code == 403
    assert _counts() == (1, 0)


def test_invisible_dashboards_are_404(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="North", sharing="team")
    widget = services.add_widget(actor=o.manager, dashboard=board, spec=WON)
    for name, args in (
        ("kpis:dashboard", [board.pk]),
        ("kpis:dashboard_print", [board.pk]),
        ("kpis:widget", [widget.pk]),
    ):
        assert _get(o.rep, reverse(name, args=args)).status_code == 200
        assert _get(o.other_rep, reverse(name, args=args)).status_code == 404
    for name, args in (
        ("kpis:dashboard_delete", [board.pk]),
        ("kpis:dashboard_update", [board.pk]),
        ("kpis:widget_remove", [widget.pk]),
    ):
        assert _post(o.other_rep, reverse(name, args=args), {"name": "x"}).status_code == 404
        assert _post(o.rep, reverse(name, args=args), {"name": "x"}).status_code == 403
    assert _counts() == (1, 1)


def test_owner_changes_the_dashboard_through_the_page(org_setup: Any) -> None:
    o = org_setup
    board = services.create_dashboard(actor=o.manager, name="Board")
    a = services.add_widget(actor=o.manager, dashboard=board, spec=WON)
    b = services.add_widget(actor=o.manager, dashboard=board, spec=REVENUE_BY_REP)
    page = _get(o.manager, reverse("kpis:dashboard", args=[board.pk])).content.decode()
    assert "Rename, share or delete" in page and "Move down" in page
    _post(o.manager, reverse("kpis:widget_move", args=[b.pk]), {"offset": "-1"})
    assert list(board.widgets.values_list("pk", flat=True)) == [b.pk, a.pk]
    _post(o.manager, reverse("kpis:widget_size", args=[a.pk]), {"size": "full"})
    a.refresh_from_db()
    assert a.size == "full"
    update = reverse("kpis:dashboard_update", args=[board.pk])
    bad = _post(o.manager, update, {"name": "Board", "sharing": "nobody"})
    assert bad.status_code == 400 and "Not saved" in bad.content.decode()
    _post(o.manager, update, {"name": "Team board", "sharing": "team"})
    board.refresh_from_db()
    assert (board.name, board.sharing, board.team) == ("Team board", "team", o.team)
    rep_page = _get(o.rep, reverse("kpis:dashboard", args=[board.pk])).content.decode()
    assert "Rename, share or delete" not in rep_page and "Move down" not in rep_page
    assert ">Copy<" in rep_page
    copy = _post(o.rep, reverse("kpis:dashboard_copy", args=[board.pk]), {})
    mine = Dashboard.objects.get(owner=o.rep)
    assert copy["Location"] == reverse("kpis:dashboard", args=[mine.pk])
    assert mine.widgets.count() == 2
    _post(o.manager, reverse("kpis:widget_remove", args=[a.pk]), {})
    assert list(board.widgets.values_list("pk", flat=True)) == [b.pk]
    _post(o.manager, reverse("kpis:dashboard_delete", args=[board.pk]), {})
    assert not Dashboard.objects.filter(pk=board.pk).exists()


def test_copy_a_builtin_from_its_page(org_setup: Any) -> None:
    o = org_setup
    response = _post(o.rep, reverse("kpis:builtin_copy", args=["rep"]), {})
    copy = Dashboard.objects.get(owner=o.rep)
    assert response["Location"] == reverse("kpis:dashboard", args=[copy.pk])
    assert copy.name == "Copy of Rep"
    assert _post(o.readonly, reverse("kpis:builtin_copy", args=["rep"]), {}).status_code == 403


def test_the_printable_page(world: Any) -> None:
    o = world
    board = services.create_dashboard(actor=o.manager, name="March")
    services.add_widget(actor=o.manager, dashboard=board, spec=WON)
    services.add_widget(actor=o.manager, dashboard=board, spec=REVENUE_BY_REP, size="full")
    html = _get(o.manager, reverse("kpis:dashboard_print", args=[board.pk])).content.decode()
    assert 'class="mainnav"' not in html and "window.print()" in html
    assert "@page" not in html  # the print rules live in the stylesheet
    assert html.count('class="kw-formula"') == 2
    assert "kw-table" in html and "data-echarts" in html
    assert "1 Mar 2026" in html and "2 April 2026" in html  # the period and the day
    assert _numbers(html) == ["3"]
    builtin = _get(o.rep, reverse("kpis:builtin_dashboard_print", args=["manager"]))
    assert builtin.status_code == 200
    assert builtin.content.decode().count('class="kw-formula"') == len(builtins.MANAGER.widgets)
