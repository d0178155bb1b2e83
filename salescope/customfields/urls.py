from django.urls import path

from salescope.customfields import views

app_name = "customfields"

urlpatterns = [
    path("", views.field_list, name="list"),
    path("new/<str:target>/", views.field_create, name="create"),
    path("<int:pk>/", views.field_edit, name="edit"),
    path("<int:pk>/deactivate/", views.field_set_active, {"active": False}, name="deactivate"),
    path("<int:pk>/activate/", views.field_set_active, {"active": True}, name="activate"),
]
