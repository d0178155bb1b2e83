from django.urls import path

from salescope.lists import views

app_name = "lists"

urlpatterns = [
    path("deals/", views.deals, name="deals"),
    path("accounts/", views.accounts, name="accounts"),
    path("contacts/", views.contacts, name="contacts"),
    path("activities/", views.activities, name="activities"),
    path("lists/<slug:key>/export/<slug:fmt>/", views.export, name="export"),
    path("lists/<slug:key>/bulk/", views.bulk, name="bulk"),
    path("lists/<slug:key>/views/", views.save_view, name="save_view"),
    path("lists/<slug:key>/views/<int:pk>/delete/", views.delete_view, name="delete_view"),
]
