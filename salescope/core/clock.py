"""The one source of "now" for the whole product.

Services never call ``timezone.now()`` directly; they call :func:`now`. Tests, imports
and the demo generator move time with :func:`frozen`, so the same code writes history
with past timestamps and tests stay deterministic. All values are timezone-aware UTC.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator

from django.utils import timezone

_local = threading.local()


def _system_now() -> dt.datetime:
    return timezone.now()


def now() -> dt.datetime:
    source: Callable[[], dt.datetime] | None = getattr(_local, "source", None)
    value = source() if source is not None else _system_now()
    if timezone.is_naive(value):
        raise ValueError("The clock returned a naive datetime; use aware UTC datetimes.")
    return value


def today() -> dt.date:
    """Today's date in the active time zone."""
    return timezone.localdate(now())


@contextlib.contextmanager
def frozen(at: dt.datetime | Callable[[], dt.datetime]) -> Iterator[None]:
    """Make :func:`now` return ``at`` (or call it) inside the block, in this thread."""
    previous = getattr(_local, "source", None)
    if callable(at):
        _local.source = at
    else:
        if timezone.is_naive(at):
            raise ValueError("frozen() needs an aware datetime")
        _local.source = lambda: at
    try:
        yield
    finally:
        _local.source = previous
