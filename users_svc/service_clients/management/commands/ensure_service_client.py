"""Create or update the service client named by SERVICE_CLIENT_ID with SERVICE_CLIENT_SECRET; safe to run again.

The secret comes from the environment, never the command line (which other users can see in `ps`).
"""

import os

from django.core.management.base import BaseCommand, CommandError

from service_clients.services import service_client_ensure


class Command(BaseCommand):
    help = "Create or update the service client given by SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scope", action="append", dest="scopes", default=None, help="a scope to grant (repeatable)"
        )

    def handle(self, *args, scopes=None, **options):
        name = os.environ.get("SERVICE_CLIENT_ID")
        secret = os.environ.get("SERVICE_CLIENT_SECRET")
        if not name or not secret:
            raise CommandError("SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET must be set.")
        if len(secret) < 24:
            raise CommandError("SERVICE_CLIENT_SECRET must be at least 24 characters long.")
        client, created = service_client_ensure(name=name, secret=secret, scopes=scopes or ["reconcile:read"])
        self.stdout.write(f"service client {client.name} ({client.scopes}): {'created' if created else 'present'}")
