from django.urls import path

from salescope.pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("pipeline/", views.board, name="board"),
    path("deals/new/", views.deal_create, name="create"),
    path("deals/<int:pk>/", views.deal_detail, name="detail"),
    path("deals/<int:pk>/timeline/", views.deal_timeline, name="timeline"),
    path("deals/<int:pk>/move/", views.deal_move, name="move"),
    path("deals/<int:pk>/won/", views.deal_won, name="won"),
    path("deals/<int:pk>/lost/", views.deal_lost, name="lost"),
    path("deals/<int:pk>/reopen/", views.deal_reopen, name="reopen"),
    path("deals/<int:pk>/edit/custom/", views.deal_custom, name="edit_custom"),
    path("deals/<int:pk>/edit/<str:field>/", views.deal_field, name="edit"),
    path("deals/<int:pk>/comments/", views.deal_comment, name="comment"),
    path("deals/<int:pk>/attachments/", views.deal_attach, name="attach"),
    path(
        "deals/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
]
