"""Tables of the imports app."""

from __future__ import annotations
