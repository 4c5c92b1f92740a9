"""The Message envelope: the versioned wrapper of every message sent or received (the contract's Envelope)."""

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .contract import contract

# The version of a message type's payload when its producer names none.
ENVELOPE_VERSION = 1


class InvalidEnvelope(ValueError):
    pass


@dataclass(frozen=True)
class Message:
    """`type` names the handler ("inventory.reserve"); the contract says which queue carries it, and
    `version` which of its payload schemas it follows. `traceparent` is the W3C trace context it was written
    in (service_kit/tracing.py), so its consumer's work joins the same trace. `in_reply_to` is the id of the
    request a reply answers (one of the request's replies in the contract): its arrival is also that
    request's receipt (receipts.py)."""

    type: str
    payload: dict[str, Any]
    producer: str
    correlation_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    version: int = ENVELOPE_VERSION
    traceparent: str | None = None
    in_reply_to: str | None = None

    @property
    def destination(self) -> str:
        """The queue of the message's type, from the contract."""
        return contract().queue_of(self.type)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "Message":
        if not isinstance(data, dict):
            raise InvalidEnvelope("an envelope is a JSON object")
        missing = {"id", "type", "producer", "payload", "occurred_at"} - data.keys()
        if missing:
            raise InvalidEnvelope(f"envelope lacks {sorted(missing)}")
        version = data.get("version", ENVELOPE_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidEnvelope(f"version is a positive whole number, not {version!r}")
        if not isinstance(data["payload"], dict):
            raise InvalidEnvelope("payload is a JSON object")
        traceparent = data.get("traceparent")
        if traceparent is not None and not isinstance(traceparent, str):
            raise InvalidEnvelope("traceparent is a string")
        _check_uuid("id", data["id"])
        in_reply_to = data.get("in_reply_to")
        if in_reply_to is not None:
            _check_uuid("in_reply_to", in_reply_to)
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            producer=str(data["producer"]),
            correlation_id=data.get("correlation_id"),
            occurred_at=str(data["occurred_at"]),
            payload=data["payload"],
            version=version,
            traceparent=traceparent,
            in_reply_to=str(in_reply_to) if in_reply_to else None,
        )


def _check_uuid(key: str, value: Any) -> None:
    try:
        uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidEnvelope(f"{key} is a UUID") from exc
