"""Concurrent edits of one account: one writer wins, the other gets a conflict."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from salescope.accounts import services
from salescope.accounts.models import Account
from salescope.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_truly_concurrent_account_writers_one_wins_one_conflicts(org_setup):
    """Two threads save version 1 at the same moment; the row lock (PostgreSQL) or the
    IMMEDIATE write lock (SQLite) makes the second one see version 2."""
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def writer(user, city):
        try:
            barrier.wait(timeout=10)
            services.update_account(account=account, actor=user, expected_version=1, city=city)
            results.append("ok")
        except ConflictError:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=writer, args=(s.rep, "Berlin")),
        threading.Thread(target=writer, args=(s.manager, "Hamburg")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["conflict", "ok"]
    stored = Account.objects.get(pk=account.pk)
    assert stored.version == 2 and stored.city in ("Berlin", "Hamburg")
