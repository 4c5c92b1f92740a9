"""Page-number pagination: `?page=`, `?page_size=` capped at 100."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from service_kit import pagination as kit_pagination
from service_kit.models import ProcessedMessage
from service_kit.testing import assert_envelope

NUMBERS = "/api/kit/numbers/"


def test_list_is_paginated_by_twenty_by_default(api_client):
    body = api_client.get(NUMBERS).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 250
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert "page=2" in body["next"]


def test_page_and_page_size_select_a_slice(api_client):
    body = api_client.get(NUMBERS, {"page": 3, "page_size": 10}).json()

    assert [item["value"] for item in body["results"]] == list(range(20, 30))


def test_page_size_is_capped_at_one_hundred(api_client):
    body = api_client.get(NUMBERS, {"page_size": 500}).json()

    assert len(body["results"]) == 100
    assert body["count"] == 250


def test_page_past_the_end_is_404_envelope(api_client):
    response = api_client.get(NUMBERS, {"page": 99})

    assert_envelope(response, status=404, error_type="client_error", code="not_found")


@pytest.mark.django_db
def test_count_is_exact_up_to_the_bound_and_the_planner_estimate_past_it(monkeypatch):
    ProcessedMessage.objects.bulk_create(ProcessedMessage(message_id=uuid.uuid4(), type="kit.ping") for _ in range(40))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ProcessedMessage._meta.db_table}")
    rows = ProcessedMessage.objects.order_by("message_id")

    monkeypatch.setattr(kit_pagination, "EXACT_COUNT_BOUND", 100)
    assert kit_pagination.BoundedCountPaginator(rows, 20).count == 40

    monkeypatch.setattr(kit_pagination, "EXACT_COUNT_BOUND", 10)
    queries = CaptureQueriesContext(connection)
    with queries:
        estimated = kit_pagination.BoundedCountPaginator(rows, 20).count
    assert estimated >= 11 and abs(estimated - 40) <= 8
    # The count read at most bound + 1 rows: no COUNT(*) over the whole table.
    assert any("LIMIT 11" in query["sql"] for query in queries.captured_queries)
    assert not any(query["sql"].startswith("SELECT COUNT(*) AS") for query in queries.captured_queries)
