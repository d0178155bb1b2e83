"""Signals of the imports app.

``import_finished`` is sent once an import job has finished (after its transaction
committed), with ``job=`` the ``ImportJob``. Bulk imports write deals without sending
``opportunity_changed`` per row; listeners (webhooks) react to this one signal instead.
"""

from django.dispatch import Signal

import_finished = Signal()
