from __future__ import annotations

from django.urls import path

from salescope.restapi import views

app_name = "restapi"

urlpatterns = [
    path("", views.tokens, name="tokens"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
]
