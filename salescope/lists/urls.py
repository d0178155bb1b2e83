from django.urls import path  # noqa: F401

from salescope.lists import views  # noqa: F401

app_name = "lists"

urlpatterns: list = []
