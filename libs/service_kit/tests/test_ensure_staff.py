"""ensure_staff: creates the ADMIN_EMAIL superuser once, and keeps its password current."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

EMAIL = "admin@example.com"


@pytest.fixture
def admin_env(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", EMAIL)
    monkeypatch.setenv("ADMIN_PASSWORD", "first-Secret-42")
    return monkeypatch


def test_creates_a_superuser(admin_env):
    call_command("ensure_staff")

    user = get_user_model().objects.get(username=EMAIL)
    assert user.email == EMAIL
    assert user.is_staff
    assert user.is_superuser
    assert user.check_password("first-Secret-42")


def test_rerun_does_not_duplicate_and_updates_the_password(admin_env):
    call_command("ensure_staff")
    admin_env.setenv("ADMIN_PASSWORD", "second-Secret-43")

    call_command("ensure_staff")

    user = get_user_model().objects.get(username=EMAIL)
    assert get_user_model().objects.count() == 1
    assert user.check_password("second-Secret-43")


def test_rerun_restores_lost_staff_rights(admin_env):
    call_command("ensure_staff")
    get_user_model().objects.filter(username=EMAIL).update(is_staff=False, is_superuser=False)

    call_command("ensure_staff")

    user = get_user_model().objects.get(username=EMAIL)
    assert user.is_staff
    assert user.is_superuser


def test_missing_environment_is_an_error(monkeypatch):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)

    with pytest.raises(CommandError):
        call_command("ensure_staff")

    assert not get_user_model().objects.exists()
