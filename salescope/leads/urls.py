from __future__ import annotations

from django.urls import URLPattern, path

from salescope.leads import views

app_name = "leads"

urlpatterns: list[URLPattern] = [
    path("", views.lead_list, name="list"),
]
