"""Every write of the kpis app: dashboards, their widgets, and the flash tiles.

Keyword-only arguments, one transaction per use case, a ValidationError naming the field for
bad input (nothing written), PermissionDenied for someone else's dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.core.errors import PermissionDenied
from salescope.kpis import builtins, registry
from salescope.kpis.models import Dashboard, FlashTiles, Sharing, Widget, WidgetSize
from salescope.kpis.queries import can_edit_dashboard, visible_dashboards
from salescope.kpis.widgets import WidgetSpec
from salescope.org.models import User
from salescope.visibility import require_writer

MAX_WIDGETS = 40


def _clean_name(name: Any) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationError({"name": [_("Give the dashboard a name.")]})
    if len(text) > 120:
        raise ValidationError({"name": [_("A dashboard name has at most 120 characters.")]})
    return text


def _clean_sharing(actor: User, sharing: Any) -> tuple[str, Any]:
    if sharing not in Sharing.values:
        raise ValidationError(
            {
                "sharing": [
                    _("Share with one of %(allowed)s.") % {"allowed": ", ".join(Sharing.values)}
                ]
            }
        )
    if sharing == Sharing.TEAM:
        if actor.team_id is None:
            raise ValidationError(
                {"sharing": [_("You belong to no team; share with everyone or keep it private.")]}
            )
        return sharing, actor.team_id
    return sharing, None


def _clean_size(size: Any) -> str:
    if size not in WidgetSize.values:
        raise ValidationError({"size": [_("Size is half or full.")]})
    return str(size)


def _require_edit(actor: User, dashboard: Dashboard) -> None:
    require_writer(actor, _("change dashboards"))
    if not can_edit_dashboard(actor, dashboard):
        raise PermissionDenied(
            _("Only the owner changes dashboard “%(name)s”; copy it to make your own.")
            % {"name": dashboard.name}
        )


@transaction.atomic
def create_dashboard(*, actor: User, name: str, sharing: str = Sharing.PRIVATE) -> Dashboard:
    require_writer(actor, _("create dashboards"))
    clean_name = _clean_name(name)
    clean_sharing, team_id = _clean_sharing(actor, sharing)
    now = clock.now()
    last = Dashboard.objects.filter(owner=actor).aggregate(m=Max("position"))["m"]
    return Dashboard.objects.create(
        name=clean_name,
        owner=actor,
        sharing=clean_sharing,
        team_id=team_id,
        position=0 if last is None else last + 1,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def update_dashboard(
    *, actor: User, dashboard: Dashboard, name: str | None = None, sharing: str | None = None
) -> Dashboard:
    _require_edit(actor, dashboard)
    if name is not None:
        dashboard.name = _clean_name(name)
    if sharing is not None:
        dashboard.sharing, dashboard.team_id = _clean_sharing(dashboard.owner, sharing)
    dashboard.updated_at = clock.now()
    dashboard.save()
    return dashboard


@transaction.atomic
def move_dashboard(*, actor: User, dashboard: Dashboard, offset: int) -> None:
    """Move one of the actor's dashboards ``offset`` places (−1 up, +1 down) in their list."""
    require_writer(actor, _("change dashboards"))
    if dashboard.owner_id != actor.pk:
        raise PermissionDenied(_("Only the owner orders their dashboards."))
    ids = list(
        Dashboard.objects.select_for_update()
        .filter(owner=actor)
        .order_by("position", "name", "pk")
        .values_list("pk", flat=True)
    )
    index = ids.index(dashboard.pk)
    target = max(0, min(len(ids) - 1, index + int(offset)))
    ids.insert(target, ids.pop(index))
    for position, pk in enumerate(ids):
        Dashboard.objects.filter(pk=pk).exclude(position=position).update(position=position)


@transaction.atomic
def delete_dashboard(*, actor: User, dashboard: Dashboard) -> None:
    _require_edit(actor, dashboard)
    dashboard.delete()


def _touch(dashboard: Dashboard) -> None:
    Dashboard.objects.filter(pk=dashboard.pk).update(updated_at=clock.now())


@transaction.atomic
def add_widget(
    *,
    actor: User,
    dashboard: Dashboard,
    spec: WidgetSpec,
    size: str = WidgetSize.HALF,
    title: str = "",
) -> Widget:
    _require_edit(actor, dashboard)
    spec.check()
    clean_size = _clean_size(size)
    locked = Dashboard.objects.select_for_update().get(pk=dashboard.pk)
    count = locked.widgets.count()
    if count >= MAX_WIDGETS:
        raise ValidationError(
            {"dashboard": [_("A dashboard holds at most %(max)s widgets.") % {"max": MAX_WIDGETS}]}
        )
    last = locked.widgets.aggregate(m=Max("position"))["m"]
    widget = Widget.objects.create(
        dashboard=locked,
        position=0 if last is None else last + 1,
        title=" ".join(str(title or spec.title).split())[:200],
        spec=spec.to_json(),
        size=clean_size,
    )
    _touch(locked)
    return widget


@transaction.atomic
def save_widget(
    *,
    actor: User,
    spec: WidgetSpec,
    dashboard: Dashboard | None = None,
    new_dashboard: str = "",
    size: str = WidgetSize.HALF,
    title: str = "",
) -> Widget:
    """Save a widget from the Analysis page to ``dashboard`` or to a new one named
    ``new_dashboard`` (created in the same transaction: nothing is written on an error)."""
    if dashboard is None:
        dashboard = create_dashboard(actor=actor, name=new_dashboard)
    return add_widget(actor=actor, dashboard=dashboard, spec=spec, size=size, title=title)


@transaction.atomic
def update_widget(
    *,
    actor: User,
    widget: Widget,
    spec: WidgetSpec | None = None,
    size: str | None = None,
    title: str | None = None,
) -> Widget:
    _require_edit(actor, widget.dashboard)
    if spec is not None:
        spec.check()
        widget.spec = spec.to_json()
    if size is not None:
        widget.size = _clean_size(size)
    if title is not None:
        widget.title = " ".join(str(title).split())[:200]
    widget.save()
    _touch(widget.dashboard)
    return widget


@transaction.atomic
def remove_widget(*, actor: User, widget: Widget) -> None:
    _require_edit(actor, widget.dashboard)
    dashboard = widget.dashboard
    widget.delete()
    _touch(dashboard)


@transaction.atomic
def reorder_widgets(*, actor: User, dashboard: Dashboard, widget_ids: Sequence[int]) -> None:
    """Put the dashboard's widgets in the order of ``widget_ids`` (all of them, once each)."""
    _require_edit(actor, dashboard)
    current = set(dashboard.widgets.values_list("pk", flat=True))
    wanted = [int(i) for i in widget_ids]
    if set(wanted) != current or len(wanted) != len(current):
        raise ValidationError({"order": [_("Give every widget of the dashboard exactly once.")]})
    for position, pk in enumerate(wanted):
        Widget.objects.filter(pk=pk).update(position=position)
    _touch(dashboard)


@transaction.atomic
def move_widget(*, actor: User, widget: Widget, offset: int) -> None:
    """Move a widget ``offset`` places (−1 up, +1 down), clamped to the ends."""
    dashboard = widget.dashboard
    ids = list(dashboard.widgets.order_by("position", "pk").values_list("pk", flat=True))
    index = ids.index(widget.pk)
    target = max(0, min(len(ids) - 1, index + int(offset)))
    ids.insert(target, ids.pop(index))
    reorder_widgets(actor=actor, dashboard=dashboard, widget_ids=ids)


@transaction.atomic
def copy_dashboard(
    *, actor: User, name: str, source: Dashboard | None = None, builtin: str | None = None
) -> Dashboard:
    """A private copy of a visible dashboard or of a built-in (``builtin`` key)."""
    require_writer(actor, _("create dashboards"))
    if (source is None) == (builtin is None):
        raise ValueError("copy either a dashboard or a built-in")
    if builtin is not None:
        if builtin not in builtins.BUILTINS:
            raise ValidationError({"builtin": [_("Unknown built-in dashboard.")]})
        items = [(w.spec, w.size, w.spec.title) for w in builtins.BUILTINS[builtin].widgets]
    else:
        assert source is not None
        if not visible_dashboards(actor).filter(pk=source.pk).exists():
            raise PermissionDenied(_("You cannot see this dashboard."))
        items = [(WidgetSpec.from_json(w.spec), w.size, w.title) for w in source.widgets.all()]
    copy = create_dashboard(actor=actor, name=name)
    for position, (spec, size, title) in enumerate(items):
        Widget.objects.create(
            dashboard=copy, position=position, title=title, spec=spec.to_json(), size=size
        )
    return copy


@transaction.atomic
def set_flash_tiles(*, actor: User, kpis: Sequence[str]) -> FlashTiles:
    """The KPIs of the user's home tiles, in order (an empty list restores the defaults)."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("Sign in to choose your flash figures."))
    keys: list[str] = []
    for key in kpis:
        registry.get(key)  # ValidationError for an unknown KPI
        if key not in keys:
            keys.append(key)
    if len(keys) > builtins.MAX_TILES:
        raise ValidationError(
            {"kpis": [_("Pin at most %(max)s flash figures.") % {"max": builtins.MAX_TILES}]}
        )
    tiles, _created = FlashTiles.objects.update_or_create(
        user=actor, defaults={"kpis": keys, "updated_at": clock.now()}
    )
    return tiles
