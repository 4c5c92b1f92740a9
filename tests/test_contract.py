"""The message contract itself (contracts/asyncapi.yaml): a valid AsyncAPI 3.0 document whose every
message has a sender and a receiver, whose examples meet their own schemas, whose queues are the ones
the workers consume, and whose page (contracts/README.md) is generated from it. Each service's own tests
hold its handlers to it, and its outbox refuses to send anything it does not describe."""

import json
import subprocess
import sys

import yaml
from jsonschema import Draft7Validator
from service_kit.messaging.contract import Contract

from stack.config import MESSAGING_SERVICES, ROOT
from stack.processes import WORKER_COMMAND

CONTRACTS = ROOT / "contracts"
DOCUMENT = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text())
CONTRACT = Contract(DOCUMENT)


def test_the_contract_is_a_valid_asyncapi_3_document():
    schema = json.loads((CONTRACTS / "schema" / "asyncapi-3.0.0.json").read_text())

    errors = [f"{list(error.path)}: {error.message}" for error in Draft7Validator(schema).iter_errors(DOCUMENT)]

    assert errors == []
    assert DOCUMENT["asyncapi"] == "3.0.0"


def test_a_broken_document_is_caught_by_the_asyncapi_schema():
    schema = json.loads((CONTRACTS / "schema" / "asyncapi-3.0.0.json").read_text())
    broken = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text())
    next(iter(broken["operations"].values()))["action"] = "publish"  # AsyncAPI 2's word, not 3's

    assert list(Draft7Validator(schema).iter_errors(broken))


def test_every_message_has_a_sender_and_a_receiver_among_the_services():
    for spec in CONTRACT.messages.values():
        assert spec.senders and spec.receivers, spec.type
        assert spec.senders | spec.receivers <= set(MESSAGING_SERVICES), spec.type
        assert spec.senders.isdisjoint(spec.receivers), f"{spec.type} goes from a service to itself"


def test_every_example_meets_its_own_schema():
    for spec in CONTRACT.messages.values():
        assert spec.examples, f"{spec.type} has no example"
        for example in spec.examples:
            assert spec.payload_errors(example) == [], spec.type


def test_the_queues_are_the_ones_the_workers_consume():
    queues_argument = WORKER_COMMAND[WORKER_COMMAND.index("--queues") + 1]
    consumed = {
        queue.replace("${SERVICE_NAME}", service)
        for service in MESSAGING_SERVICES
        for queue in queues_argument.split(",")
    }

    assert {spec.queue for spec in CONTRACT.messages.values()} == consumed


def test_a_message_goes_to_the_queue_of_its_receiver():
    for spec in CONTRACT.messages.values():
        [receiver] = spec.receivers
        assert spec.queue.split(".")[0] == receiver, spec.type


def test_the_messages_page_is_generated_from_the_contract():
    rendered = subprocess.run(
        [sys.executable, str(CONTRACTS / "render.py")], capture_output=True, text=True, check=True
    ).stdout

    assert rendered == (CONTRACTS / "README.md").read_text(), (
        "run: .venv/bin/python contracts/render.py > contracts/README.md"
    )
