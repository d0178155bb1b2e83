"""Tables of the restapi app."""

from __future__ import annotations
