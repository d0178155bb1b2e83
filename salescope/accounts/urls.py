from django.urls import path  # noqa: F401

from salescope.accounts import views  # noqa: F401

app_name = "accounts"

urlpatterns: list = []
