"""Reading configuration from the environment, and refusing an insecure production start."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false).")


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def check_production(
    *, secret_key: str, dev_secret: str, debug: bool, allowed_hosts: list[str], database_url: str
) -> None:
    """Raise ImproperlyConfigured listing every insecure production setting at once."""
    problems: list[str] = []
    if secret_key == dev_secret or len(secret_key) < 50 or len(set(secret_key)) < 5:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if debug:
        problems.append("DEBUG must be false")
    if not allowed_hosts or "*" in allowed_hosts:
        problems.append("ALLOWED_HOSTS must list the host names Salescope is served on (no '*')")
    if "DATABASE_URL" not in os.environ:
        problems.append("DATABASE_URL must be set explicitly (PostgreSQL is recommended)")
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with SALESCOPE_ENV=production:\n  - " + "\n  - ".join(problems)
        )
    del database_url
