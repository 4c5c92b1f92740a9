"""The outbox relay process: the scheduler running the relay's jobs (messaging/scheduling.py) until stopped,
with its heartbeat and its watchdog (heartbeat.py)."""

import logging
from functools import partial

from django.core.management.base import BaseCommand

from service_kit import heartbeat
from service_kit.conf import kit_settings
from service_kit.messaging.scheduling import Scheduler, relay_jobs
from service_kit.metrics import serve_metrics

logger = logging.getLogger("service_kit.relay")


class Command(BaseCommand):
    help = "Publish unsent outbox messages and run the periodic jobs until stopped (SIGTERM/SIGINT)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one sweep, then exit")

    def handle(self, *args, once=False, **options):
        if not once:
            serve_metrics()
        scheduler = Scheduler(
            relay_jobs(),
            interval=kit_settings.RELAY_INTERVAL,
            on_healthy_sweep=partial(heartbeat.beat, "relay"),
            watchdog=None if once else heartbeat.Watchdog(kit_settings.RELAY_STALL_AFTER),
        )
        if not once:  # a one-off sweep beside a running relay must not hide that relay's heartbeat
            heartbeat.forget("relay")
        logger.info("outbox relay started")
        scheduler.run(once=once)
        logger.info("outbox relay stopped")
