from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from salescope.api import api
from salescope.core import views as core_views
from salescope.core.search import search_view

admin.site.site_header = "Salescope back office"
admin.site.site_title = "Salescope"
admin.site.index_title = "Back office"

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("search/", search_view, name="search"),
    path("", include("salescope.pipeline.urls")),
    path("", include("salescope.accounts.urls")),
    path("", include("salescope.activities.urls")),
    path("", include("salescope.lists.urls")),
    path("settings/fields/", include("salescope.customfields.urls")),
    path("imports/", include("salescope.imports.urls")),
    path("leads/", include("salescope.leads.urls")),
    path("settings/tokens/", include("salescope.restapi.urls")),
    path("settings/webhooks/", include("salescope.webhooks.urls")),
    path("analysis/", include("salescope.kpis.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
