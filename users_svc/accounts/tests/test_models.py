"""The User model and its manager."""

import pytest
from django.db import IntegrityError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_user_lowercases_email_and_hashes_password():
    user = User.objects.create_user("  Grace.Hopper@Example.COM ", "s3cret-enough-pass")

    assert user.email == "grace.hopper@example.com"
    assert user.password != "s3cret-enough-pass"
    assert user.check_password("s3cret-enough-pass")
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert user.id.version == 4


def test_create_user_without_email_fails():
    with pytest.raises(ValueError):
        User.objects.create_user("", "whatever-pass-123")


def test_create_superuser_is_staff_and_superuser():
    user = User.objects.create_superuser("root@example.com", "s3cret-enough-pass")

    assert user.is_staff and user.is_superuser


def test_create_superuser_refuses_non_staff():
    with pytest.raises(ValueError):
        User.objects.create_superuser("root@example.com", "s3cret-enough-pass", is_staff=False)


def test_emails_differing_only_in_case_cannot_both_exist():
    User.objects.create(email="same@example.com")

    with pytest.raises(IntegrityError):
        User.objects.create(email="SAME@example.com")


def test_natural_key_lookup_ignores_case():
    user = User.objects.create_user("mixed@example.com", "s3cret-enough-pass")

    assert User.objects.get_by_natural_key("MiXeD@Example.com") == user


def test_clean_lowercases_email():
    user = User(email="Upper@Example.com")
    user.clean()

    assert user.email == "upper@example.com"
