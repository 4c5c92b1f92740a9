"""The README's Mermaid diagrams are held to the code: the process drawing names exactly the processes
of the stack's process list, and every arrow of the saga drawing is a message of the contract, drawn
from its sender to its receiver, with every message of the contract drawn."""

import re

import yaml
from service_kit.messaging.contract import Contract

from stack.config import ROOT, StackConfig
from stack.processes import all_processes

README = (ROOT / "README.md").read_text()
DIAGRAMS = re.findall(r"```mermaid\n(.*?)```", README, flags=re.DOTALL)
CONTRACT = Contract(yaml.safe_load((ROOT / "contracts" / "asyncapi.yaml").read_text()))
# Who sends and receives each type, whatever its version: a drawing shows types.
ROUTES = {
    spec.type: (
        {sender for other in CONTRACT.messages.values() if other.type == spec.type for sender in other.senders},
        {receiver for other in CONTRACT.messages.values() if other.type == spec.type for receiver in other.receivers},
    )
    for spec in CONTRACT.messages.values()
}


def diagram(kind: str) -> str:
    found = [text for text in DIAGRAMS if text.startswith(kind)]
    assert len(found) == 1, f"one {kind} in the README, found {len(found)}"
    return found[0]


def test_the_process_drawing_names_every_process_of_the_process_list_and_no_other():
    labels = set(re.findall(r'\["([a-z-]+)"\]|\[\("([a-z-]+)"\)\]', diagram("flowchart")))
    drawn = {name for pair in labels for name in pair if name}

    assert drawn == {process.name for process in all_processes(StackConfig.from_env())}


def saga_drift(drawing: str) -> list[str]:
    """What the saga drawing says that the contract does not, and the contract's messages it does not draw."""
    arrows = re.findall(r"^\s*(\w+)-{1,2}>>(\w+): ([a-z_]+\.[a-z_]+)\s*$", drawing, flags=re.M)
    drift = [] if arrows else ["no message drawn"]
    for sender, receiver, message_type in arrows:
        senders, receivers = ROUTES.get(message_type, (None, None))
        if senders is None:
            drift.append(f"{message_type} is no message of the contract")
        elif sender not in senders or receiver not in receivers:
            drift.append(f"{message_type} does not go from {sender} to {receiver}")
    drawn = set(arrows)
    for message_type, (senders, receivers) in ROUTES.items():
        for sender in sorted(senders):
            for receiver in sorted(receivers):
                if (sender, receiver, message_type) not in drawn:
                    drift.append(f"{message_type} from {sender} to {receiver} is not drawn")
    return drift


def test_every_arrow_of_the_saga_drawing_is_a_message_from_its_sender_to_its_receiver():
    assert saga_drift(diagram("sequenceDiagram")) == []


def test_a_saga_drawing_that_drifted_from_the_contract_is_caught():
    drawing = diagram("sequenceDiagram")

    renamed = drawing.replace("orders->>payments: payments.charge", "orders->>payments: payments.pay")
    reversed_ = drawing.replace("orders->>inventory: inventory.commit", "inventory->>orders: inventory.commit")

    assert saga_drift(renamed) == [
        "payments.pay is no message of the contract",
        "payments.charge from orders to payments is not drawn",
    ]
    assert saga_drift(reversed_) == [
        "inventory.commit does not go from inventory to orders",
        "inventory.commit from orders to inventory is not drawn",
    ]
