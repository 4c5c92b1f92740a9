"""Create or update the staff account named by ADMIN_EMAIL / ADMIN_PASSWORD; safe to run again."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or update the superuser given by ADMIN_EMAIL and ADMIN_PASSWORD."

    def handle(self, *args, **options):
        email = os.environ.get("ADMIN_EMAIL")
        password = os.environ.get("ADMIN_PASSWORD")
        if not email or not password:
            raise CommandError("ADMIN_EMAIL and ADMIN_PASSWORD must be set.")
        user_model = get_user_model()
        lookup = {user_model.USERNAME_FIELD: email}
        defaults = {"is_staff": True, "is_superuser": True}
        if user_model.USERNAME_FIELD != "email" and hasattr(user_model, "email"):
            defaults["email"] = email
        user, created = user_model.objects.get_or_create(**lookup, defaults=defaults)
        if created or not user.check_password(password) or not user.is_staff:
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        self.stdout.write(f"staff account {email}: {'created' if created else 'present'}")
