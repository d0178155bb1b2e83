"""Tables of the leads app."""

from __future__ import annotations
