"""Tables of the kpis app: saved dashboards, their widgets, and each user's flash tiles.

A widget stores its :class:`salescope.kpis.widgets.WidgetSpec` as JSON (KPI, dimension,
grain, period, comparison, filters, chart); the numbers are always computed live.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sharing(models.TextChoices):
    PRIVATE = "private", _("Only me")
    TEAM = "team", _("My team")
    EVERYONE = "everyone", _("Everyone")


class Dashboard(models.Model):
    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="dashboards",
    )
    sharing = models.CharField(
        _("shared with"), max_length=16, choices=Sharing.choices, default=Sharing.PRIVATE
    )
    #: the team a ``team`` dashboard is shared with (the owner's team when shared)
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dashboards",
    )
    #: order in the owner's list of dashboards
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")
        ordering = ["position", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class WidgetSize(models.TextChoices):
    HALF = "half", _("Half width")
    FULL = "full", _("Full width")


class Widget(models.Model):
    dashboard = models.ForeignKey(
        Dashboard, verbose_name=_("dashboard"), on_delete=models.CASCADE, related_name="widgets"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=200, blank=True)
    #: the widget's :class:`~salescope.kpis.widgets.WidgetSpec` as JSON
    spec = models.JSONField(_("definition"))
    size = models.CharField(
        _("size"), max_length=8, choices=WidgetSize.choices, default=WidgetSize.HALF
    )

    class Meta:
        verbose_name = _("widget")
        verbose_name_plural = _("widgets")
        ordering = ["dashboard", "position", "pk"]

    def __str__(self) -> str:
        return self.title or str(self.spec.get("kpi", ""))


class FlashTiles(models.Model):
    """The KPIs a user chose for the home page tiles (role defaults when absent)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="flash_tiles",
    )
    kpis = models.JSONField(_("KPIs"), default=list)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("flash figures")
        verbose_name_plural = _("flash figures")

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.kpis)}"
