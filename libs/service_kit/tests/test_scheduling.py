"""The scheduler of periodic jobs: what runs on each sweep, what ends one, when the next follows at once."""

import logging

from service_kit.messaging.scheduling import Job, Scheduler


def test_a_job_with_a_period_runs_on_the_first_sweep_then_waits_for_its_period():
    calls: list[str] = []
    scheduler = Scheduler(
        [Job("each", lambda: calls.append("each")), Job("hourly", lambda: calls.append("hourly"), every=3600)],
        interval=0,
    )

    scheduler.sweep()
    scheduler.sweep()

    assert calls == ["each", "hourly", "each"]


def test_a_failing_sweep_job_ends_the_sweep_and_is_logged(caplog):
    calls: list[str] = []

    def outage():
        raise ConnectionError("database gone")

    scheduler = Scheduler(
        [Job("publish", outage, isolated=False), Job("periodic", lambda: calls.append("periodic"))], interval=0
    )

    assert scheduler.sweep() == 0

    assert calls == []
    [failure] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert failure.exc_info[0] is ConnectionError


def test_the_sweep_counts_what_the_counting_jobs_sent_and_nothing_else():
    scheduler = Scheduler(
        [Job("publish", lambda: 2, counts=True), Job("receipts", lambda: 5), Job("redeliver", lambda: 1, counts=True)],
        interval=0,
    )

    assert scheduler.sweep() == 3
