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


def test_the_heartbeat_follows_a_sweep_that_reached_everything_and_not_one_that_failed():
    beats: list[int] = []
    outage = {"on": False}

    def publish():
        if outage["on"]:
            raise ConnectionError("database gone")
        return 0

    scheduler = Scheduler(
        [Job("publish", publish, isolated=False)], interval=0, on_healthy_sweep=lambda: beats.append(1)
    )
    scheduler.run(once=True)
    outage["on"] = True
    scheduler.run(once=True)

    assert beats == [1]
    assert scheduler.last_sweep_healthy is False


def test_an_isolated_periodic_job_failing_does_not_make_the_sweep_unhealthy():
    def reconcile():
        raise RuntimeError("another service is down")

    scheduler = Scheduler([Job("publish", lambda: 0, isolated=False), Job("reconcile", reconcile)], interval=0)
    scheduler.sweep()

    assert scheduler.last_sweep_healthy is True
