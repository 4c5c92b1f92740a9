"""Reads of accounts."""

from .models import User


def user_get_active(*, user_id: str) -> User | None:
    """The active user with this id, or None (unknown, malformed or deactivated)."""
    try:
        return User.objects.filter(id=user_id, is_active=True).first()
    except ValueError:
        return None


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email__iexact=User.objects.normalize_email(email)).exists()
