"""The message envelope: a lossless round trip, the destination queue, and strict parsing."""

import json
import uuid
from datetime import datetime

import pytest
from service_kit.messaging.contract import ContractViolation
from service_kit.messaging.envelope import ENVELOPE_VERSION, InvalidEnvelope, Message

ENVELOPE_KEYS = {
    "id", "type", "occurred_at", "producer", "correlation_id", "payload", "version", "traceparent", "in_reply_to"
}  # fmt: skip


def valid_envelope(**changes) -> dict:
    envelope = Message(type="inventory.reserve", payload={"order_id": str(uuid.uuid4())}, producer="orders").as_dict()
    envelope.update(changes)
    return envelope


def test_message_round_trips_through_its_json_envelope():
    original = Message(
        type="inventory.reserve",
        payload={"order_id": str(uuid.uuid4()), "lines": [{"sku": "SKU-1", "quantity": 2}]},
        producer="orders",
        correlation_id="req-1",
    )

    envelope = json.loads(json.dumps(original.as_dict()))

    assert set(envelope) == ENVELOPE_KEYS
    assert Message.from_dict(envelope) == original


def test_new_message_gets_a_fresh_uuid_a_utc_timestamp_and_the_current_version():
    first = Message(type="kit.ping", payload={}, producer="kit")
    second = Message(type="kit.ping", payload={}, producer="kit")

    assert uuid.UUID(first.id).version == 4
    assert first.id != second.id
    assert datetime.fromisoformat(first.occurred_at).utcoffset().total_seconds() == 0
    assert first.version == ENVELOPE_VERSION
    assert first.correlation_id is None


@pytest.mark.parametrize(
    ("type", "destination"), [("kit.ping", "kit"), ("kit.strict", "kit"), ("kit.receipt", "kit.receipts")]
)
def test_destination_is_the_queue_the_contract_gives_the_type(type, destination):
    assert Message(type=type, payload={}, producer="kit").destination == destination


def test_a_type_without_a_contract_has_no_destination():
    with pytest.raises(ContractViolation, match=r"kit\.a\.b"):
        Message(type="kit.a.b", payload={}, producer="kit").destination  # noqa: B018


def test_envelope_without_version_or_correlation_id_is_read_with_their_defaults():
    envelope = valid_envelope()
    del envelope["version"], envelope["correlation_id"]

    message = Message.from_dict(envelope)

    assert message.version == ENVELOPE_VERSION
    assert message.correlation_id is None


@pytest.mark.parametrize("data", [None, "an envelope", ["a", "list"], 42], ids=["none", "str", "list", "int"])
def test_from_dict_rejects_anything_but_an_object(data):
    with pytest.raises(InvalidEnvelope, match="JSON object"):
        Message.from_dict(data)


@pytest.mark.parametrize("key", ["id", "type", "producer", "payload", "occurred_at"])
def test_from_dict_rejects_an_envelope_missing_a_required_key(key):
    envelope = valid_envelope()
    del envelope[key]

    with pytest.raises(InvalidEnvelope, match=key):
        Message.from_dict(envelope)


@pytest.mark.parametrize("version", [0, -1, "1", None, True, 1.5])
def test_from_dict_rejects_a_version_that_is_not_a_positive_whole_number(version):
    with pytest.raises(InvalidEnvelope, match="version"):
        Message.from_dict(valid_envelope(version=version))


def test_from_dict_reads_any_version_the_contract_then_judges():
    assert Message.from_dict(valid_envelope(version=7)).version == 7


@pytest.mark.parametrize("message_id", ["not-a-uuid", "", 42, None, "1234"])
def test_from_dict_rejects_an_id_that_is_not_a_uuid(message_id):
    with pytest.raises(InvalidEnvelope, match="UUID"):
        Message.from_dict(valid_envelope(id=message_id))


@pytest.mark.parametrize("in_reply_to", ["not-a-uuid", "1234", 42])
def test_from_dict_rejects_an_in_reply_to_that_is_not_a_uuid(in_reply_to):
    with pytest.raises(InvalidEnvelope, match="in_reply_to"):
        Message.from_dict(valid_envelope(in_reply_to=in_reply_to))


def test_a_reply_round_trips_with_the_id_of_its_request():
    request = Message(type="kit.test_effect", payload={}, producer="kit")
    reply = Message(type="kit.effect_done", payload={}, producer="kit", in_reply_to=request.id)

    assert Message.from_dict(json.loads(json.dumps(reply.as_dict()))).in_reply_to == request.id


@pytest.mark.parametrize("payload", [None, "text", ["a"], 7], ids=["none", "str", "list", "int"])
def test_from_dict_rejects_a_payload_that_is_not_an_object(payload):
    with pytest.raises(InvalidEnvelope, match="payload"):
        Message.from_dict(valid_envelope(payload=payload))


def test_invalid_envelope_is_a_value_error():
    assert issubclass(InvalidEnvelope, ValueError)
