"""inventory's wiring to the message contract: what it handles is what contracts/asyncapi.yaml says it receives."""

import pytest
from service_kit.testing import check_handlers_match_the_contract

from inventory import handlers


@pytest.mark.django_db
def test_the_handlers_are_the_contracts_messages_and_take_its_examples():
    tasks = [task for task in vars(handlers).values() if hasattr(task, "handler")]

    check_handlers_match_the_contract("inventory", tasks)
