"""The tables that keep the messaging's guarantees are read-only in the admin, to a superuser too."""

import uuid

import pytest
from service_kit.models import DeadLetter, OutboxMessage, ProcessedMessage

pytestmark = pytest.mark.django_db

ADMIN = "/admin/kit/service_kit"


def rows() -> dict[str, object]:
    message_id = uuid.uuid4()
    envelope = {"id": str(message_id), "type": "kit.test_effect", "payload": {}}
    return {
        "outboxmessage": OutboxMessage.objects.create(message_id=message_id, type="kit.test_effect", envelope=envelope),
        "processedmessage": ProcessedMessage.objects.create(message_id=uuid.uuid4(), type="kit.test_effect"),
        "deadletter": DeadLetter.objects.create(
            message_id=uuid.uuid4(), type="kit.test_effect", envelope=envelope, error="RuntimeError()"
        ),
    }


@pytest.mark.parametrize("model", ["outboxmessage", "processedmessage", "deadletter"])
def test_a_guarantee_keeping_row_is_neither_added_changed_nor_deleted(admin_client, model):
    row = rows()[model]
    model_class = type(row)
    before = model_class.objects.count()

    changelist = admin_client.get(f"{ADMIN}/{model}/")
    assert changelist.status_code == 200
    assert b"delete_selected" not in changelist.content
    assert admin_client.get(f"{ADMIN}/{model}/add/").status_code == 403
    assert admin_client.get(f"{ADMIN}/{model}/{row.pk}/delete/").status_code == 403
    assert admin_client.post(f"{ADMIN}/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = admin_client.post(f"{ADMIN}/{model}/", {"action": "delete_selected", "_selected_action": [row.pk]})
    assert bulk.status_code in (200, 302)
    # The page of a row shows it without a form that could save it.
    page = admin_client.get(f"{ADMIN}/{model}/{row.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    assert model_class.objects.count() == before
    assert model_class.objects.filter(pk=row.pk).exists()
