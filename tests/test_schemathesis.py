"""Schemathesis against the four OpenAPI schemas, through the gateway, signed in as a real user.

Each service's schema is loaded from the gateway and every operation is fuzzed (examples, coverage and
fuzzing phases, valid and invalid data), then the stateful phase chains operations along the links
Schemathesis infers (a created product or order is read, changed, deleted or cancelled next). Every
built-in check runs on every operation (no 5xx, every status and body as documented, invalid input
refused, valid input accepted, authentication enforced, deleted resources gone) but the ones in
CHECKS_LEFT_OUT, each with its reason. Every operation is called signed in: the identity's bearer token
goes with every case, and test_every_operation_was_fuzzed_signed_in requires each operation to have let
valid input past authentication at least once (the negative cases garble the credentials on purpose).
Bad credentials of each kind are also sent to every operation once, deterministically, since fuzzing
reaches them only by chance (a "Bearer" header of three parts once answered an undocumented code).

A few refusals of valid input are the services' own rules, which API.md states and no JSON Schema
can (a taken email or SKU, a weak password, a SKU on two lines of an order, a restock past the stock
ceiling, a refresh token that is not the caller's, an Idempotency-Key reused with another body): for
those operations a 400 (or that 422) passes Schemathesis' positive-data check, and
`refusals_of_valid_input_are_documented` then requires each error of it to be one of the listed
(status, attr, code) of DOCUMENTED_REFUSALS, each with its reason, so any other refusal of valid input
still fails.

Rate limits are real behaviour, not noise: nginx allows 5 sign-ins or registrations a second per
address (burst 10) and orders_svc 30 placements a minute per user, each answering a documented 429
envelope. The sign-in and registration operations are paced under nginx's rate, and the order
placements of the fuzzing phases spread over several fresh buyers, so that the 429s stay rare and
the inputs reach the services; a 429 that still happens is checked like any other response.

Identities: users, orders and payments are fuzzed as new ordinary users; inventory as the seeded staff
account, so that its write operations are exercised too (its reads are public). The seeded demo
products, which API.md promises and other suites order, are only read: a write aimed at one is sent to
a FUZZ- SKU instead.

Stateful testing needs links between operations; users_svc has none (a registration returns no
password to sign in with), so only its stateless part runs.

The figures of a run (operations, examples of the stateless phases, calls of the stateful one, their
statuses, seconds; the extra requests some checks send are not counted) are printed with the prefix
SCHEMATHESIS (visible with `pytest -s`) and written to var/test-artifacts/schemathesis.json.
"""

import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable

import hypothesis
import pytest
import schemathesis
from service_kit.testing import documented_error_codes

from .helpers import REPO_ROOT, SERVICES, assert_envelope

ORDER_PLACEMENT = ("POST", "/api/orders/")
# Under orders_svc's default cap of 30 placements a minute per user.
PLACEMENTS_PER_BUYER = 25
# Generated examples per operation in the fuzzing phase, and scenarios of the stateful phase.
MAX_EXAMPLES = 30
STATEFUL_SCENARIOS = 20
STATEFUL_MAX_STEPS = 8
# As Schemathesis runs state machines itself: generation only, since replaying a scenario against
# services whose data has moved on does not reproduce it.
STATEFUL_SETTINGS = hypothesis.settings(
    phases=[hypothesis.Phase.generate],
    max_examples=STATEFUL_SCENARIOS,
    stateful_step_count=STATEFUL_MAX_STEPS,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
# nginx refuses TRACE itself, before any location, with its own HTML page: see test_trace_is_refused_with_405_envelope.
UNEXPECTED_METHODS = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]

# Every built-in check runs on every operation but these, each left out for the reason given.
CHECKS_LEFT_OUT = {
    "max_response_time": (
        "needs a limit, and a fuzzer sharing two cores with the whole stack measures the machine's load, not "
        "the services: response times are bench/'s, measured at controlled rates (`make bench`)"
    ),
    "object_level_authorization": (
        "needs several identities declared to Schemathesis as a WFC auth document ([auth.wfc]), while each "
        "service is fuzzed here as one identity; one user reading, listing, changing or cancelling another's "
        "order or payment is tests/test_security.py's (test_intruder_cannot_read_anothers_order_or_payment "
        "and the tests after it)"
    ),
}

# Valid input a service still refuses, for a rule of its own that API.md states and no JSON Schema can:
# operation -> {(status, attr, code): why}. For these operations Schemathesis' positive_data_acceptance
# check is narrowed, not left out: such a 400 (or 422) passes it, and refusals_of_valid_input_are_documented
# then requires each error of the answer to be one listed here, so any other refusal still fails.
DOCUMENTED_REFUSALS = {
    ("POST", "/api/users/register/"): {
        (400, "email", "unique"): "the email is taken: which are is the service's data, not the schema's",
        (400, "password", "password_too_similar"): "Django's password rule: too like the email or names",
        (400, "password", "password_too_common"): "Django's password rule: on its list of common passwords",
        (400, "password", "password_entirely_numeric"): "Django's password rule: only digits",
    },
    ("POST", "/api/users/token/revoke/"): {
        (400, "refresh", "token_not_valid"): "a well-formed string that is no refresh token signed by users_svc",
    },
    ("POST", "/api/inventory/products/"): {
        (400, "sku", "unique"): "the SKU is taken: which are is the service's data",
    },
    ("POST", "/api/inventory/products/{sku}/restock/"): {
        (400, "quantity", "stock_ceiling"): "stock plus quantity past the ceiling depends on the stock held now",
    },
    ("POST", "/api/orders/"): {
        (400, "lines", "duplicate_sku"): "one SKU on two lines: JSON Schema's uniqueItems compares whole lines",
        (422, None, "idempotency_key_reused"): "an Idempotency-Key already used with another body (API.md)",
    },
}
# Schemathesis' own statuses for valid input, plus 400 and 422: narrowed by refusals_of_valid_input_are_documented.
VALID_INPUT_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]

# The codes of the services' own authentication refusing a request (service_kit.openapi's
# AUTHENTICATION_ERROR_CODES, which cannot be imported here: it loads Django's settings).
AUTHENTICATION_ERROR_CODES = {
    "authentication_failed",
    "bad_authorization_header",
    "not_authenticated",
    "token_not_valid",
}

figures: dict[str, Counter] = {}
# Per service: the operations whose schema names a way to sign in (the others, such as the sign-in itself,
# authenticate nobody), and those whose valid input got past authentication.
operations: dict[str, set[tuple[str, str]]] = {}
reached_signed_in: dict[str, set[tuple[str, str]]] = {}


def fuzzing_config(*, gateway_url: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "base-url": gateway_url,
            "request-timeout": 30,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            # max_response_time runs only when given a limit (a number, not an `enabled` flag): none is given.
            "checks": {name: {"enabled": False} for name in CHECKS_LEFT_OUT.keys() - {"max_response_time"}},
            "phases": {"coverage": {"unexpected-methods": UNEXPECTED_METHODS}},
            # The identity is set below, never discovered by signing up through the schema.
            "auth": {"auto-signup": False},
            "operations": [
                # Paced under nginx's limit on sign-in and registration (5 a second per address).
                {"include-path-regex": "^/api/users/(token|register)/$", "rate-limit": "4/s"},
                *(
                    {
                        "include-method": method,
                        "include-path": path,
                        "checks": {"positive_data_acceptance": {"expected-statuses": VALID_INPUT_STATUSES}},
                    }
                    for method, path in DOCUMENTED_REFUSALS
                ),
            ],
        }
    )


@schemathesis.check
def refusals_of_valid_input_are_documented(ctx, response, case):
    """Valid input answered 400 or 422 only for one of the DOCUMENTED_REFUSALS of its operation."""
    allowed = DOCUMENTED_REFUSALS.get((case.method.upper(), case.path))
    if allowed is None or response.status_code not in {400, 422} or case.meta is None:
        return None
    if not case.meta.generation.mode.is_positive:
        return None
    errors = response.json().get("errors", [])
    refused = {(response.status_code, error.get("attr"), error.get("code")) for error in errors}
    if not refused <= set(allowed):
        raise AssertionError(
            f"Valid input refused for an undocumented reason: {sorted(refused - set(allowed), key=str)}"
        )
    return None


def spare_demo_products(case) -> None:
    """A write aimed at a seeded demo product goes to a FUZZ- SKU of the same length instead."""
    sku = (case.path_parameters or {}).get("sku")
    if case.method.upper() != "GET" and isinstance(sku, str) and sku.startswith("DEMO-"):
        case.path_parameters = {**case.path_parameters, "sku": "FUZZ-" + sku.removeprefix("DEMO-")}


def bearer_provider(token_for: Callable[[schemathesis.Case], str]) -> type:
    class Bearer:
        def get(self, case, context):
            return token_for(case)

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return Bearer


class Buyers:
    """Tokens of fresh users: a new one every PLACEMENTS_PER_BUYER order placements, under the per-user cap."""

    def __init__(self, register_user):
        self.register_user = register_user
        self.token = register_user()["access"]
        self.placed = 0

    def __call__(self, case) -> str:
        if (case.method.upper(), case.path) == ORDER_PLACEMENT:
            if self.placed == PLACEMENTS_PER_BUYER:
                self.token, self.placed = self.register_user()["access"], 0
            self.placed += 1
        return self.token


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    started = time.monotonic()
    yield
    if not figures:
        return
    summary = {
        "seconds": round(time.monotonic() - started, 1),
        "services": {
            name: {
                "operations": counter["operations"],
                "examples": counter["examples"],
                "stateful_calls": counter["stateful_calls"],
                "statuses": {key[7:]: value for key, value in sorted(counter.items()) if key.startswith("status:")},
            }
            for name, counter in figures.items()
        },
    }
    artifact = REPO_ROOT / "var" / "test-artifacts" / "schemathesis.json"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_text(json.dumps(summary, indent=2))
    total = sum(service["examples"] + service["stateful_calls"] for service in summary["services"].values())
    print(f"\nSCHEMATHESIS {total} calls in {summary['seconds']} s: {json.dumps(summary['services'])} ({artifact})")


def load_schema(*, service: str, gateway_url: str, token_for: Callable) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(
        f"{gateway_url}/api/{service}/schema/?format=json", config=fuzzing_config(gateway_url=gateway_url)
    )
    loaded.auth(refresh_interval=None)(bearer_provider(token_for))
    counter = figures.setdefault(service, Counter())
    counter["operations"] = len(list(loaded.get_all_operations()))
    operations[service] = {
        (method.upper(), path)
        for path, item in loaded.raw_schema["paths"].items()
        for method, operation in item.items()
        if any(operation.get("security", []))
    }
    return loaded


@pytest.fixture
def identity_for(register_user, staff_token):
    """`identity_for(service)`: the bearer token source a service is fuzzed with."""

    def identity(service: str, *, rotate_buyers: bool = True) -> Callable:
        if service == "inventory":
            return lambda case: staff_token
        if service == "orders" and rotate_buyers:
            return Buyers(register_user)
        token = register_user()["access"]
        return lambda case: token

    return identity


@pytest.fixture(params=SERVICES)
def api_schema(request, gateway_url, identity_for):
    # Schemathesis 4.32's fixture-loaded schemas still read `Node._nodeid`, which pytest 9.2 made `_id`.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    return load_schema(service=request.param, gateway_url=gateway_url, token_for=identity_for(request.param))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented(case):
    spare_demo_products(case)
    response = case.call_and_validate()

    service = case.path.split("/")[2]
    counter = figures[service]
    counter["examples"] += 1
    counter[f"status:{response.status_code}"] += 1
    if case.meta is not None and case.meta.generation.mode.is_positive and not refused_authentication(response):
        reached_signed_in.setdefault(service, set()).add((case.method.upper(), case.path))


def refused_authentication(response) -> bool:
    """A 401 of the services' authentication, not of an operation's own (a sign-in's wrong password)."""
    if response.status_code != 401:
        return False
    return any(error.get("code") in AUTHENTICATION_ERROR_CODES for error in response.json().get("errors", []))


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_was_fuzzed_signed_in(service):
    """Schemathesis' negative cases garble the credentials on purpose (a 401 as documented); each operation
    that authenticates must also have been called with valid input and the identity's token, and let it past."""
    if service not in reached_signed_in:
        pytest.skip("the fuzzing of this service did not run in this session")

    assert operations[service] - reached_signed_in[service] == set()


# users_svc has no links between operations to chain: registration returns no password to sign in with.
CHAINED_SERVICES = [service for service in SERVICES if service != "users"]


@pytest.mark.parametrize("service", CHAINED_SERVICES)
def test_chained_operations_answer_as_documented(service, gateway_url, identity_for):
    # One identity throughout: a scenario reads back what it created, which only its owner may.
    loaded = load_schema(service=service, gateway_url=gateway_url, token_for=identity_for(service, rotate_buyers=False))
    counter = figures[service]
    failures: list[Exception] = []

    class Machine(loaded.as_state_machine()):
        def before_call(self, case):
            spare_demo_products(case)

        def after_call(self, response, case):
            super().after_call(response, case)
            counter["stateful_calls"] += 1
            counter[f"status:{response.status_code}"] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                super().validate_response(response, case, additional_checks, **kwargs)
            except Exception as failure:
                failures.append(failure)
                raise

    # Scenarios draw from the live services' answers, which move on (a product deleted, an order
    # confirmed), so Hypothesis may fail to replay a scenario; what the checks found is kept below.
    with contextlib.suppress(hypothesis.errors.Flaky):
        Machine.run(settings=STATEFUL_SETTINGS)
    if failures:
        pytest.fail("\n\n".join(dict.fromkeys(str(failure) for failure in failures)), pytrace=False)


MALFORMED_CREDENTIALS = {
    "Bearer alone": {"Authorization": "Bearer"},
    "Bearer of three parts": {"Authorization": "Bearer a b"},
    "Bearer not a token": {"Authorization": "Bearer not-a-token"},
    "another scheme": {"Authorization": "Basic YTpi"},
}


@pytest.mark.parametrize("credentials", MALFORMED_CREDENTIALS, ids=list(MALFORMED_CREDENTIALS))
@pytest.mark.parametrize("service", SERVICES)
def test_malformed_credentials_are_answered_as_each_operation_documents(api, service, credentials):
    """Every operation, sent each kind of bad credentials (and a garbled sign-in cookie), answers a status its
    schema documents, with a code documented for that status: the answers fuzzing reaches only by chance."""
    schema = api.get(f"/api/{service}/schema/", params={"format": "json"}).json()
    examples = {"sku": "DEMO-MUG", "order_id": str(uuid.uuid4()), "payment_id": str(uuid.uuid4())}
    undocumented = []
    for path, item in schema["paths"].items():
        for method in set(item) & {"get", "post", "patch", "put", "delete"}:
            response = api.request(
                method.upper(),
                path.format(**examples),
                headers={**MALFORMED_CREDENTIALS[credentials], "Content-Type": "application/json"},
                cookies={"platform_access": "garbled"},
                data="{}",
            )
            body = response.json() if response.status_code >= 400 else {"errors": []}
            errors = [
                (error["attr"], error["code"])
                for error in body["errors"]
                if error["code"]
                not in documented_error_codes(
                    schema, method, path, response.status_code, attr=error["attr"], error_type=body["type"]
                )
            ]
            if str(response.status_code) not in item[method]["responses"] or errors:
                undocumented.append(f"{method.upper()} {path}: {response.status_code} {errors}")

    assert undocumented == []


@pytest.mark.parametrize("service", SERVICES)
def test_trace_is_refused_with_405_envelope(api, service):
    response = api.request("TRACE", f"/api/{service}/health/")

    assert_envelope(response, 405, "client_error")
    assert response.headers.get("Allow")
