"""POST /internal/payments/lookup/: the payments of given orders, for service clients with reconcile:read."""

import uuid

import pytest
from service_kit.testing import service_client_for

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db

LOOKUP = "/internal/payments/lookup/"


def test_lookup_gives_the_payments_of_the_given_orders_only():
    paid = PaymentFactory()
    refunded = PaymentFactory(refunded=True)
    PaymentFactory()
    client = service_client_for("reconcile:read")

    response = client.post(LOOKUP, {"order_ids": [str(paid.order_id), str(refunded.order_id)]}, format="json")

    assert response.status_code == 200, response.json()
    results = {row["order_id"]: row for row in response.json()["results"]}
    assert set(results) == {str(paid.order_id), str(refunded.order_id)}
    assert results[str(paid.order_id)]["amount"] == "19.99"
    assert results[str(paid.order_id)]["status"] == "succeeded"
    assert results[str(refunded.order_id)]["status"] == "refunded"
    assert results[str(refunded.order_id)]["refunded_at"] is not None


def test_lookup_of_orders_without_payments_is_empty():
    response = service_client_for("reconcile:read").post(LOOKUP, {"order_ids": [str(uuid.uuid4())]}, format="json")

    assert response.json() == {"results": []}


@pytest.mark.parametrize("client_fixture", ["user_client", "staff_client"])
def test_person_tokens_are_403(request, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = client.post(LOOKUP, {"order_ids": [str(uuid.uuid4())]}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_service_token_without_the_scope_is_403():
    response = service_client_for("other:read").post(LOOKUP, {"order_ids": [str(uuid.uuid4())]}, format="json")

    assert response.status_code == 403


def test_no_token_is_401(api_client):
    assert api_client.post(LOOKUP, {"order_ids": [str(uuid.uuid4())]}, format="json").status_code == 401


def test_too_many_or_malformed_ids_are_400():
    client = service_client_for("reconcile:read")

    too_many = client.post(LOOKUP, {"order_ids": [str(uuid.uuid4()) for _ in range(501)]}, format="json")
    malformed = client.post(LOOKUP, {"order_ids": ["not-a-uuid"]}, format="json")

    assert too_many.status_code == 400
    assert malformed.status_code == 400


def test_service_token_is_refused_by_the_public_list():
    assert service_client_for("reconcile:read").get("/api/payments/").status_code == 401


def test_internal_endpoints_are_not_in_the_public_schema(api_client):
    schema = api_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()

    assert not [path for path in schema["paths"] if "internal" in path]
