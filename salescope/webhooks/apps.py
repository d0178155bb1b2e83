from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "salescope.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from salescope.activities.services import activity_completed
        from salescope.imports.signals import import_finished
        from salescope.pipeline.services import opportunity_changed
        from salescope.webhooks import receivers

        opportunity_changed.connect(
            receivers.on_opportunity_changed, dispatch_uid="webhooks.opportunity_changed"
        )
        activity_completed.connect(
            receivers.on_activity_completed, dispatch_uid="webhooks.activity_completed"
        )
        import_finished.connect(
            receivers.on_import_finished, dispatch_uid="webhooks.import_finished"
        )
