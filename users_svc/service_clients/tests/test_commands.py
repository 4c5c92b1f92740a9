"""`manage.py ensure_service_client`: the client of SERVICE_CLIENT_ID / SERVICE_CLIENT_SECRET, idempotent."""

import pytest
from django.core.management import CommandError, call_command

from service_clients.models import ServiceClient

pytestmark = pytest.mark.django_db

SECRET = "a-long-random-client-secret-0123456789"


def test_creates_the_client_with_a_hashed_secret_then_changes_nothing(monkeypatch):
    monkeypatch.setenv("SERVICE_CLIENT_ID", "orders-reconciler")
    monkeypatch.setenv("SERVICE_CLIENT_SECRET", SECRET)

    call_command("ensure_service_client", "--scope", "reconcile:read")
    first = ServiceClient.objects.get()
    call_command("ensure_service_client", "--scope", "reconcile:read")
    second = ServiceClient.objects.get()

    assert first.name == "orders-reconciler"
    assert first.scopes == "reconcile:read"
    assert SECRET not in first.secret_hash
    assert first.check_secret(SECRET)
    assert second.secret_hash == first.secret_hash


def test_a_new_secret_replaces_the_old_one(monkeypatch):
    monkeypatch.setenv("SERVICE_CLIENT_ID", "orders-reconciler")
    monkeypatch.setenv("SERVICE_CLIENT_SECRET", SECRET)
    call_command("ensure_service_client")
    monkeypatch.setenv("SERVICE_CLIENT_SECRET", SECRET + "-rotated")

    call_command("ensure_service_client")

    client = ServiceClient.objects.get()
    assert client.check_secret(SECRET + "-rotated")
    assert not client.check_secret(SECRET)


def test_refuses_to_run_without_credentials(monkeypatch):
    monkeypatch.delenv("SERVICE_CLIENT_ID", raising=False)
    monkeypatch.delenv("SERVICE_CLIENT_SECRET", raising=False)

    with pytest.raises(CommandError):
        call_command("ensure_service_client")
