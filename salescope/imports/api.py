"""REST endpoints of the imports app (mounted by ``salescope/api.py``)."""

from __future__ import annotations

from ninja import Router

router = Router()
