"""Tables of the webhooks app."""

from __future__ import annotations
