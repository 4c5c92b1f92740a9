"""The written contract: contracts/asyncapi.yaml, the platform's published language, read once.

It is also the routing table: for every message type and version it gives the queue the message
travels on (its channel's address: the route comes from the contract, never from the type's
spelling), the services that send and receive it, and the JSON Schema its payload must satisfy. The
outbox refuses to send a message the contract does not describe; a consumer dead-letters one.
"""

import functools
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from ..conf import kit_settings


class ContractViolation(ValueError):
    """A message the contract does not describe, or whose payload breaks its schema."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message if not errors else f"{message}: {'; '.join(errors)}")
        self.errors = errors or []


@dataclass(frozen=True)
class MessageSpec:
    type: str
    version: int
    queue: str
    senders: frozenset[str]
    receivers: frozenset[str]
    # The types that answer it (AsyncAPI's operation reply): what a duplicate of it is answered with.
    replies: frozenset[str]
    examples: tuple[dict[str, Any], ...]
    validator: jsonschema_rs.Draft7Validator = field(repr=False, compare=False)

    def payload_errors(self, payload: Any) -> list[str]:
        """What is wrong with a payload, one line per error (nothing when it is valid)."""
        if self.validator.is_valid(payload):
            return []
        errors = sorted(self.validator.iter_errors(payload), key=lambda error: [str(p) for p in error.instance_path])
        return [
            f"{'/'.join(str(part) for part in error.instance_path) or '(payload)'}: {error.message}" for error in errors
        ][:20]


def is_uuid(value: str) -> bool:
    """JSON Schema's `uuid` format: a UUID in its hyphenated form."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return all(value[position] == "-" for position in (8, 13, 18, 23))


def payload_validator(document: dict, pointer: str) -> jsonschema_rs.Draft7Validator:
    """A validator of the payload schema at `pointer` in the contract, its references resolved in the document.

    jsonschema-rs (compiled, Rust) rather than the pure-Python jsonschema: every message is held to its schema
    twice, by its producer and its consumer, and this takes some 5 µs a payload where that took 130-220."""
    return jsonschema_rs.Draft7Validator(
        {**document, "$ref": f"#{pointer}/payload"}, validate_formats=True, formats={"uuid": is_uuid}
    )


def _resolve(document: dict, ref: str) -> dict:
    """The object a local $ref points at, following references to references."""
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return _resolve(document, node["$ref"]) if "$ref" in node else node


class Contract:
    """The messages of an AsyncAPI 3 document, with the services (`x-service`) on each operation."""

    def __init__(self, document: dict):
        self.document = document
        senders: dict[tuple[str, int], set[str]] = {}
        receivers: dict[tuple[str, int], set[str]] = {}
        replies: dict[tuple[str, int], set[str]] = {}
        for operation in document.get("operations", {}).values():
            service = operation["x-service"]
            answers = {
                _resolve(document, ref["$ref"])["name"] for ref in operation.get("reply", {}).get("messages", [])
            }
            for ref in operation.get("messages", []):
                message = _resolve(document, ref["$ref"])
                key = (message["name"], int(message.get("x-version", 1)))
                (senders if operation["action"] == "send" else receivers).setdefault(key, set()).add(service)
                replies.setdefault(key, set()).update(answers)
        self.messages: dict[tuple[str, int], MessageSpec] = {}
        for channel in document.get("channels", {}).values():
            for ref in channel.get("messages", {}).values():
                message = _resolve(document, ref["$ref"])
                name, version = message["name"], int(message.get("x-version", 1))
                validator = payload_validator(document, ref["$ref"].removeprefix("#"))
                self.messages[(name, version)] = MessageSpec(
                    type=name,
                    version=version,
                    queue=channel["address"],
                    senders=frozenset(senders.get((name, version), ())),
                    receivers=frozenset(receivers.get((name, version), ())),
                    replies=frozenset(replies.get((name, version), ())),
                    examples=tuple(example["payload"] for example in message.get("examples", [])),
                    validator=validator,
                )
        self.queues = {spec.type: spec.queue for spec in self.messages.values()}

    @classmethod
    def load(cls, path: str | Path) -> "Contract":
        return cls(yaml.safe_load(Path(path).read_text()))

    def spec(self, type: str, version: int) -> MessageSpec:
        try:
            return self.messages[(type, version)]
        except KeyError:
            raise ContractViolation(f"no message {type!r} version {version} in the contract") from None

    def queue_of(self, type: str) -> str:
        """The queue of a message type (its versions share one channel)."""
        try:
            return self.queues[type]
        except KeyError:
            raise ContractViolation(f"no message {type!r} in the contract") from None

    def latest_version(self, type: str) -> int:
        versions = [version for (name, version) in self.messages if name == type]
        if not versions:
            raise ContractViolation(f"no message {type!r} in the contract")
        return max(versions)

    def sent_by(self, service: str) -> list[MessageSpec]:
        return [spec for spec in self.messages.values() if service in spec.senders]

    def received_by(self, service: str) -> list[MessageSpec]:
        return [spec for spec in self.messages.values() if service in spec.receivers]

    def queues_of(self, service: str) -> list[str]:
        """The queues a service consumes (its saga queue and its receipts queue), sorted."""
        return sorted({spec.queue for spec in self.received_by(service)})

    def check_outgoing(self, *, type: str, version: int, payload: Any, producer: str) -> MessageSpec:
        """The spec of a message this service is about to send; ContractViolation when it may not."""
        spec = self.spec(type, version)
        if producer not in spec.senders:
            raise ContractViolation(f"{producer} is not a sender of {type!r} in the contract")
        errors = spec.payload_errors(payload)
        if errors:
            raise ContractViolation(f"payload of {type!r} breaks the contract", errors)
        return spec


@functools.cache
def _load(path: str) -> Contract:
    return Contract.load(path)


def contract() -> Contract:
    """The contract named by the CONTRACT_FILE setting (contracts/asyncapi.yaml of the repository)."""
    return _load(str(kit_settings.CONTRACT_FILE))
