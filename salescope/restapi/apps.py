from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RestApiConfig(AppConfig):
    name = "salescope.restapi"
    label = "restapi"
    verbose_name = _("REST API and tokens")
