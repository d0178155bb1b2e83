"""Tables of the kpis app."""

from __future__ import annotations
