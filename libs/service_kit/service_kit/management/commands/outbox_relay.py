"""The outbox relay process: sends what the after-commit publish left, the receipts in batches, sends again
what got no receipt, prunes, and runs the service's periodic work."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string

from service_kit.conf import kit_settings
from service_kit.outbox import outbox_prune, outbox_publish, outbox_redeliver, receipts_send

logger = logging.getLogger("service_kit.relay")
PRUNE_EVERY = 3600.0


class Command(BaseCommand):
    help = "Publish unsent outbox messages until stopped (SIGTERM/SIGINT)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")

    def handle(self, *args, once=False, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        periodic = [(path, import_string(path)) for path in kit_settings.RELAY_PERIODIC]
        last_prune = -PRUNE_EVERY
        logger.info("outbox relay started")
        while self.running:
            close_old_connections()
            sent = 0
            try:
                sent = outbox_publish()
                receipts_send()
                sent += outbox_redeliver()
                for path, job in periodic:
                    try:
                        job()
                    except Exception:  # one failing job must not stop the others
                        logger.exception("periodic job failed", extra={"job": path})
                if time.monotonic() - last_prune > PRUNE_EVERY:
                    outbox_prune()
                    last_prune = time.monotonic()
            except Exception:  # a database or broker outage: keep going, the next sweep retries
                logger.exception("relay sweep failed")
                close_old_connections()
            if once:
                break
            if not sent:
                time.sleep(kit_settings.RELAY_INTERVAL)
        logger.info("outbox relay stopped")

    def stop(self, *args):
        self.running = False
