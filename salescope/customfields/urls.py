from django.urls import path  # noqa: F401

from salescope.customfields import views  # noqa: F401

app_name = "customfields"

urlpatterns: list = []
