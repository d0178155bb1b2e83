from django.urls import path  # noqa: F401

from salescope.pipeline import views  # noqa: F401

app_name = "pipeline"

urlpatterns: list = []
