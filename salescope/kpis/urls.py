"""URLs of the kpis app, mounted at /analysis/: the Analysis page and drill-down
(views_analysis), dashboards (views_dashboards), and the flash tiles (views_flash)."""

from __future__ import annotations

from django.urls import URLPattern

from salescope.kpis import views_analysis, views_dashboards, views_flash

app_name = "kpis"

urlpatterns: list[URLPattern] = [
    *views_analysis.urlpatterns,
    *views_dashboards.urlpatterns,
    *views_flash.urlpatterns,
]
