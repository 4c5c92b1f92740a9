"""Dead-letter replay, as a function and as the admin action: the envelope goes out again via the outbox."""

import uuid
from datetime import timedelta

import pytest
from celery import current_app
from django.contrib import messages
from django.utils import timezone
from service_kit.messaging.dead_letters import dead_letter_record, dead_letter_replay
from service_kit.messaging.relay import outbox_redeliver
from service_kit.models import DeadLetter, OutboxMessage

from .handlers import fail_after_effect
from .messaging import message

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/kit/service_kit/deadletter/"


def dead_letter(type: str = "kit.test_effect") -> DeadLetter:
    """A message whose handler kept failing, stored by the kit's own consumer path."""
    sent = message(type, payload={"order_id": str(uuid.uuid4())}, correlation_id="corr-dead")
    dead_letter_record(envelope=sent.as_dict(), message_id=sent.id, message_type=sent.type, error="RuntimeError()")
    return DeadLetter.objects.get(message_id=sent.id)


def replay_action(client, *letters: DeadLetter, **extra):
    return client.post(CHANGELIST, {"action": "replay", "_selected_action": [letter.pk for letter in letters]}, **extra)


def assert_replayed(letter: DeadLetter, kit_queue) -> dict:
    """The letter is marked replayed, its envelope is in the outbox (sent) and on its queue in Redis."""
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    row = OutboxMessage.objects.get(message_id=letter.message_id)
    assert row.envelope == letter.envelope
    assert row.type == letter.type
    assert row.sent_at is not None
    [task] = [task for task in kit_queue.messages() if task["id"] == str(letter.message_id)]
    assert task["task"] == letter.type
    assert task["args"] == [letter.envelope]
    return task


def test_dead_letter_replay_writes_the_same_envelope_to_the_outbox_and_publishes_it(kit_queue):
    letter = dead_letter()

    dead_letter_replay(dead_letter=letter)

    assert_replayed(letter, kit_queue)
    assert len(kit_queue) == 1


def test_replayed_message_is_not_sent_again_for_want_of_a_receipt(kit_queue):
    # Its consumer answers the message's producer (usually another service), never the service that
    # replayed it: waiting for a receipt would send it again and again.
    letter = dead_letter()
    dead_letter_replay(dead_letter=letter)
    OutboxMessage.objects.filter(message_id=letter.message_id).update(sent_at=timezone.now() - timedelta(hours=1))

    assert outbox_redeliver() == 0
    assert len(kit_queue) == 1


def test_replayed_message_is_processed_by_its_handler_once_fixed(kit_queue):
    letter = dead_letter("kit.test_effect")
    dead_letter_replay(dead_letter=letter)
    [task] = kit_queue.messages()

    result = current_app.tasks[task["task"]].apply(args=task["args"])

    assert result.get() == "processed"


def test_message_dead_lettered_by_the_consumer_can_be_replayed(kit_queue, settings):
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "MESSAGE_MAX_RETRIES": 0}
    sent = message("kit.test_failure")
    assert fail_after_effect.apply(args=[sent.as_dict()]).get() == "dead_lettered"
    letter = DeadLetter.objects.get()

    dead_letter_replay(dead_letter=letter)

    task = assert_replayed(letter, kit_queue)
    assert task["args"] == [sent.as_dict()]


def test_admin_replay_action_publishes_the_selected_dead_letters(admin_client, kit_queue):
    first, second, untouched = dead_letter(), dead_letter(), dead_letter()

    response = replay_action(admin_client, first, second, follow=True)

    assert response.status_code == 200
    assert [str(item) for item in response.context["messages"]] == ["2 message(s) sent again."]
    assert_replayed(first, kit_queue)
    assert_replayed(second, kit_queue)
    untouched.refresh_from_db()
    assert untouched.replayed_at is None
    assert len(kit_queue) == 2


def test_admin_replay_action_redirects_back_to_the_changelist(admin_client, kit_queue):
    response = replay_action(admin_client, dead_letter())

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST


def test_admin_replay_action_is_refused_to_an_anonymous_visitor(client, kit_queue):
    letter = dead_letter()

    response = replay_action(client, letter)

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    letter.refresh_from_db()
    assert letter.replayed_at is None
    assert not OutboxMessage.objects.exists()
    assert len(kit_queue) == 0


def test_admin_replay_action_is_refused_to_a_user_without_admin_access(client, django_user_model, kit_queue):
    user = django_user_model.objects.create_user(username="clerk", password="x-long-password-1")
    client.force_login(user)
    letter = dead_letter()

    replay_action(client, letter)

    letter.refresh_from_db()
    assert letter.replayed_at is None
    assert not OutboxMessage.objects.exists()


def test_admin_replay_of_an_unreadable_dead_letter_says_so_and_closes_it(admin_client, kit_queue):
    dead_letter_record(
        envelope="not an envelope", message_id=str(uuid.uuid4()), message_type="kit.test_effect", error="bad"
    )
    letter = DeadLetter.objects.get()

    response = replay_action(admin_client, letter, follow=True)

    assert response.status_code == 200
    errors = [str(item) for item in response.context["messages"] if item.level == messages.ERROR]
    assert errors and "can never be read" in errors[0], errors
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert letter.resolution.startswith("not replayable: the envelope can never be read")
    assert not OutboxMessage.objects.exists()
