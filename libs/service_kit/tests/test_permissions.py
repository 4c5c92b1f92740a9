"""IsStaffOrReadOnly: anyone reads, only staff tokens write."""

from service_kit.testing import assert_envelope

NOTES = "/api/kit/notes/"


def test_anonymous_reads(api_client):
    assert api_client.get(NOTES).status_code == 200


def test_anonymous_write_is_401(api_client):
    response = api_client.post(NOTES, {"text": "hi"}, format="json")

    assert_envelope(response, status=401, error_type="client_error", code="not_authenticated")


def test_user_write_is_403(user_client):
    response = user_client.post(NOTES, {"text": "hi"}, format="json")

    assert_envelope(response, status=403, error_type="client_error", code="permission_denied")


def test_staff_writes(staff_client):
    response = staff_client.post(NOTES, {"text": "hi"}, format="json")

    assert response.status_code == 201
    assert response.json() == {"text": "hi"}


def test_staff_invalid_write_is_validation_error_naming_the_field(staff_client):
    response = staff_client.post(NOTES, {"text": "x" * 101}, format="json")

    body = assert_envelope(response, status=400, error_type="validation_error", code="max_length")
    assert body["errors"][0]["attr"] == "text"
