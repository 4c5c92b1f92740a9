"""Page-number pagination: `?page=`, `?page_size=` capped at 100."""

from .helpers import assert_envelope

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
