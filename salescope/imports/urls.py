from __future__ import annotations

from django.urls import path

from salescope.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("history/", views.history, name="history"),
    path("mappings/delete/", views.delete_mapping, name="delete_mapping"),
    path("<uuid:job_id>/", views.job, name="job"),
    path("<uuid:job_id>/mapping/", views.mapping, name="mapping"),
    path("<uuid:job_id>/preview/", views.preview, name="preview"),
    path("<uuid:job_id>/check/", views.review, name="review"),
    path("<uuid:job_id>/reupload/", views.reupload, name="reupload"),
    path("<uuid:job_id>/run/", views.run, name="run"),
    path("<uuid:job_id>/progress/", views.progress_fragment, name="progress"),
    path("<uuid:job_id>/errors.csv", views.errors_csv, name="errors_csv"),
]
