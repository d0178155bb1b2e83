from django.urls import path

from salescope.accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/new/", views.account_create, name="create"),
    path("accounts/<int:pk>/", views.account_detail, name="detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="edit"),
    path("accounts/<int:pk>/timeline/", views.account_timeline, name="timeline"),
    path("accounts/<int:pk>/comments/", views.account_comment, name="comment"),
    path("accounts/<int:pk>/files/", views.account_attachment, name="attach"),
    path("accounts/<int:pk>/merge/<int:other>/", views.account_merge, name="merge"),
    path("files/<int:pk>/", views.attachment_download, name="attachment"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/accounts/", views.contact_link, name="contact_link"),
    path(
        "contacts/<int:pk>/accounts/<int:account_pk>/remove/",
        views.contact_unlink,
        name="contact_unlink",
    ),
    path("contacts/<int:pk>/merge/<int:other>/", views.contact_merge, name="contact_merge"),
]
