"""`manage.py jwt_keys`: make the RS256 signing key pair when missing; run before the web starts.

The stack runs it first among users_svc's set-up commands (natively and in the users-migrate container), so
settings only read the files. Idempotent: an existing private key is kept, and the public key file is
rewritten from it only when absent or stale.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.keys import signing_keys_ensure


class Command(BaseCommand):
    help = "Make users_svc's JWT signing key pair (JWT_PRIVATE_KEY_FILE, JWT_PUBLIC_KEY_FILE) when missing."

    def handle(self, *args, **options):
        private_path, public_path = settings.JWT_PRIVATE_KEY_FILE, settings.JWT_PUBLIC_KEY_FILE
        signing_keys_ensure(private_path=private_path, public_path=public_path)
        self.stdout.write(f"signing key pair: {private_path}, {public_path}")
