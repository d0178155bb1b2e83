from django.urls import path

from salescope.activities import views

app_name = "activities"

urlpatterns = [
    path("agenda/", views.agenda, name="agenda"),
    path("agenda/overdue/", views.overdue, name="overdue"),
    path("activities/new/", views.activity_create, name="create"),
    path("activities/<int:pk>/", views.activity_detail, name="detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="edit"),
    path("activities/<int:pk>/minutes/", views.minutes_edit, name="minutes"),
    path("activities/<int:pk>/minutes/send/", views.send_minutes, name="send_minutes"),
    path("activities/<int:pk>/complete/", views.complete, name="complete"),
    path("activities/<int:pk>/reopen/", views.reopen, name="reopen"),
    path("activities/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
]
