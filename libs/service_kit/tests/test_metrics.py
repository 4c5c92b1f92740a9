"""Metrics: requests and queries counted once each, messages' outcomes and hops, figures read when scraped,
the multiprocess folder emptied as a process group starts."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from prometheus_client import REGISTRY
from service_kit import metrics
from service_kit.messaging.envelope import Message
from service_kit.messaging.outbox import outbox_store
from service_kit.models import DeadLetter

pytestmark = pytest.mark.django_db


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(api_client) -> str:
    response = api_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_a_request_is_counted_by_its_view_method_and_status(api_client):
    labels = {"view": "health-live", "method": "GET", "status": "200"}
    before = sample("http_request_duration_seconds_count", **labels)

    assert api_client.get("/api/kit/health/live/").status_code == 200

    assert sample("http_request_duration_seconds_count", **labels) == before + 1
    assert sample("http_request_duration_seconds_bucket", **labels, le="+Inf") == before + 1


def test_an_unknown_path_is_counted_as_unmatched(api_client):
    labels = {"view": "unmatched", "method": "GET", "status": "404"}
    before = sample("http_request_duration_seconds_count", **labels)

    api_client.get("/no/such/page/")

    assert sample("http_request_duration_seconds_count", **labels) == before + 1


def test_each_statement_is_counted_once_also_after_a_reconnect():
    connection.ensure_connection()
    labels = {"alias": "default", "statement": "SELECT"}
    # Connecting again on the same wrapper runs connection_created again: the counter is not added twice.
    metrics.count_queries(connection=connection)
    before = sample("db_queries_total", **labels)

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("  select 2")

    assert sample("db_queries_total", **labels) == before + 2
    assert connection.execute_wrappers.count(metrics._count_query) == 1


def test_a_processed_message_observes_its_hop_and_a_duplicate_does_not():
    created = (datetime.now(UTC) - timedelta(seconds=3)).isoformat()
    hops = sample("message_hop_seconds_count", type="kit.metrics")
    seconds = sample("message_hop_seconds_sum", type="kit.metrics")

    metrics.message_consumed(type="kit.metrics", outcome="processed", occurred_at=created)
    metrics.message_consumed(type="kit.metrics", outcome="duplicate", occurred_at=created)
    metrics.message_consumed(type="kit.metrics", outcome="processed", occurred_at="not a time")

    assert sample("messages_consumed_total", type="kit.metrics", outcome="processed") >= 2
    assert sample("message_hop_seconds_count", type="kit.metrics") == hops + 1
    assert 3 <= sample("message_hop_seconds_sum", type="kit.metrics") - seconds < 60


def test_outbox_and_dead_letter_figures_are_read_from_the_database_when_scraped(
    api_client, django_capture_on_commit_callbacks
):
    DeadLetter.objects.create(message_id="6f1d3c2e-5b7a-4e9f-8c0d-2a4b6c8e0f13", type="kit.x", envelope={}, error="e")
    with django_capture_on_commit_callbacks(execute=False):
        outbox_store(Message(type="kit.x", payload={}, producer="kit"))

    text = scraped(api_client)

    assert "outbox_unsent_messages 1.0" in text
    assert "dead_letters_open 1.0" in text
    assert "outbox_oldest_unsent_age_seconds " in text
    assert "http_request_duration_seconds_bucket" in text  # the process's own metrics beside them


def test_a_failing_collector_leaves_the_rest_of_the_scrape(api_client, monkeypatch):
    def broken():
        raise RuntimeError("database down")
        yield  # pragma: no cover

    monkeypatch.setattr(metrics, "_collectors", [broken, *metrics._collectors])

    assert "dead_letters_open" in scraped(api_client)


def test_the_process_groups_folder_is_emptied_as_it_starts(tmp_path, monkeypatch):
    folder = tmp_path / "orders-worker"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"stale")
    (folder / "keep.txt").write_text("not a metrics file")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))

    metrics.prepare_metrics_dir()

    assert sorted(os.listdir(folder)) == ["keep.txt"]
