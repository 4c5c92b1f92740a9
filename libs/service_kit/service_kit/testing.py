"""Testing the services: one pytest plugin (`-p service_kit.testing`) and the helpers every suite shares.

It holds the fixtures (API clients as a customer, staff or nobody; the outbox; a quiet broker), the tokens
(`token_for`, `service_token_for`), the envelope assertion, the messaging helpers (`consume_now`,
`check_handlers_match_the_contract`) and `CustomerResourceApiTests`, what API.md promises of every customer
collection, which a service runs by subclassing it. A service's own tests test its own wiring.

Before Django's settings load (the `pytest_load_initial_conftests` hook below, not at import), it points
JWT_PRIVATE_KEY_FILE / JWT_PUBLIC_KEY_FILE at a key pair made for this test run, so tokens minted by
`token_for` verify exactly as in production.
"""

import base64
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _install_test_keys() -> None:
    """A key pair for this test run, named by JWT_PRIVATE_KEY_FILE / JWT_PUBLIC_KEY_FILE (JWKS mode off)."""
    # Tests run without collectstatic: let WhiteNoise find static files where they are.
    os.environ.setdefault("WHITENOISE_AUTOREFRESH", "1")
    if os.environ.get("JWT_TEST_KEYS_INSTALLED"):
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder = Path(tempfile.mkdtemp(prefix="jwt-test-keys-"))
    private = folder / "private.pem"
    public = folder / "public.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    os.environ["JWT_PRIVATE_KEY_FILE"] = str(private)
    os.environ["JWT_PUBLIC_KEY_FILE"] = str(public)
    os.environ.pop("JWT_JWKS_URL", None)
    os.environ["JWT_TEST_KEYS_INSTALLED"] = "1"


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest-django loads the settings (its own impl of this hook, run inside this wrapper): the
    settings read the key files once, so the test keys must be named by then. Importing this module
    changes nothing; the run's keys are made here."""
    _install_test_keys()
    return (yield)


def test_private_key_pem() -> str:
    return Path(os.environ["JWT_PRIVATE_KEY_FILE"]).read_text()


test_private_key_pem.__test__ = False


@dataclass
class Identity:
    """A caller as other services see it: what the access token says."""

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    email: str = field(default_factory=lambda: f"user-{uuid.uuid4().hex[:8]}@example.com")
    is_staff: bool = False


def token_for(user, **extra_claims) -> str:
    """A signed RS256 access token for anything with `id`, `email` and `is_staff`."""
    import jwt
    from django.utils import timezone
    from rest_framework_simplejwt.settings import api_settings

    now = timezone.now()
    claims = {
        "token_type": "access",
        "exp": now + api_settings.ACCESS_TOKEN_LIFETIME,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user.id),
        "email": user.email,
        "is_staff": bool(user.is_staff),
        "iss": api_settings.ISSUER,
        "aud": api_settings.AUDIENCE,
        **extra_claims,
    }
    return jwt.encode(claims, test_private_key_pem(), algorithm="RS256")


def service_token_for(client_id: str = "test-client", scope: str = "", **extra_claims) -> str:
    """A signed RS256 service token (client credentials): `sub` = the client, `scope`, no user."""
    import jwt
    from django.utils import timezone
    from rest_framework_simplejwt.settings import api_settings

    now = timezone.now()
    claims = {
        "token_type": "service",
        "exp": now + api_settings.ACCESS_TOKEN_LIFETIME,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "sub": client_id,
        "scope": scope,
        "iss": api_settings.ISSUER,
        "aud": api_settings.AUDIENCE,
        **extra_claims,
    }
    return jwt.encode(claims, test_private_key_pem(), algorithm="RS256")


def service_client_for(scope: str, client_id: str = "test-client"):
    """An API client sending a service token with the given scope."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {service_token_for(client_id, scope)}")
    return client


def client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    client.identity = user
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def identity():
    return Identity()


@pytest.fixture
def staff_identity():
    return Identity(is_staff=True)


@pytest.fixture
def user_client(identity):
    """An API client authenticated as an ordinary user (`user_client.identity`)."""
    return client_for(identity)


@pytest.fixture
def staff_client(staff_identity):
    """An API client authenticated as staff (`staff_client.identity`)."""
    return client_for(staff_identity)


def assert_envelope(response, *, status: int, error_type: str, code: str | None = None) -> dict:
    """The response is API.md's error envelope with the given status, type and (first) code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["type"] == error_type
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
    if code is not None:
        assert body["errors"][0]["code"] == code
    return body


@pytest.mark.django_db
class CustomerResourceApiTests:
    """What API.md promises of every customer's collection (orders, payments), run by each service that has one:
    a customer reads only their own rows, newest first; staff reads all; another's row, an unknown id and a
    malformed one are alike 404; no token or a bad one is 401; pages stop at 100; the schema validates.

    A service subclasses it (`class TestOrderReads(CustomerResourceApiTests)`) and names its `factory` (a
    factory_boy factory with `user_id`), `list_url` and a `status` its list filter knows and one it does not.
    """

    factory = None
    list_url = ""
    known_status = ""
    unknown_status = "no-such-status"

    def detail_url(self, pk) -> str:
        return f"{self.list_url}{pk}/"

    def test_a_customer_lists_only_their_own_newest_first(self, user_client):
        older = self.factory(user_id=user_client.identity.id)
        newer = self.factory(user_id=user_client.identity.id)
        self.factory()

        body = user_client.get(self.list_url).json()

        assert [item["id"] for item in body["results"]] == [str(newer.id), str(older.id)]

    def test_staff_lists_every_row(self, staff_client):
        rows = self.factory.create_batch(3)

        body = staff_client.get(self.list_url).json()

        assert {item["id"] for item in body["results"]} == {str(row.id) for row in rows}

    def test_another_customers_row_is_not_found(self, user_client):
        row = self.factory()

        assert_envelope(
            user_client.get(self.detail_url(row.id)), status=404, error_type="client_error", code="not_found"
        )

    def test_staff_reads_any_row(self, staff_client):
        row = self.factory()

        response = staff_client.get(self.detail_url(row.id))

        assert response.status_code == 200
        assert response.json()["id"] == str(row.id)

    @pytest.mark.parametrize("pk", [uuid.UUID(int=1), "not-a-uuid"])
    def test_an_unknown_or_malformed_id_is_not_found(self, user_client, pk):
        assert_envelope(user_client.get(self.detail_url(pk)), status=404, error_type="client_error", code="not_found")

    @pytest.mark.parametrize("path", ["list", "detail"])
    def test_an_anonymous_caller_is_refused_with_401(self, api_client, path):
        url = self.list_url if path == "list" else self.detail_url(uuid.uuid4())

        assert_envelope(api_client.get(url), status=401, error_type="client_error", code="not_authenticated")

    def test_an_invalid_token_is_refused_with_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

        assert_envelope(api_client.get(self.list_url), status=401, error_type="client_error")

    def test_page_size_is_capped_at_100(self, staff_client):
        self.factory.create_batch(101)

        body = staff_client.get(self.list_url, {"page_size": 1000}).json()

        assert body["count"] == 101
        assert len(body["results"]) == 100
        assert body["next"] is not None

    def test_the_status_filter_narrows_the_list_and_refuses_an_unknown_status(self, user_client):
        self.factory(user_id=user_client.identity.id)
        wanted = self.factory(user_id=user_client.identity.id, **{self.filtered_status: True})

        body = user_client.get(self.list_url, {"status": self.filtered_status}).json()
        response = user_client.get(self.list_url, {"status": "no-such-status"})

        assert [item["id"] for item in body["results"]] == [str(wanted.id)]
        body = assert_envelope(response, status=400, error_type="validation_error", code="invalid_choice")
        assert body["errors"][0]["attr"] == "status"

    def test_the_openapi_schema_generates_without_warnings(self, tmp_path):
        from django.core.management import call_command

        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

        assert f"{self.list_url}{{" in (tmp_path / "schema.yaml").read_text()


def consume_now(task, payload: dict, *, producer: str, **fields) -> str:
    """Deliver a payload to a message handler the way its worker does, applied eagerly: held to the
    contract, once per message id, dead-lettered when it cannot be acted on. The outcome:
    "processed", "duplicate" or "dead_lettered"."""
    from .messaging.envelope import Message

    envelope = Message(type=task.name, payload=payload, producer=producer, **fields).as_dict()
    return task.apply(args=[envelope]).get()


def dead_letter_errors() -> list[str]:
    """The errors of the open dead letters, oldest first."""
    from .models import DeadLetter

    return list(
        DeadLetter.objects.filter(replayed_at__isnull=True).order_by("failed_at").values_list("error", flat=True)
    )


@pytest.fixture
def outbox():
    """A callable giving the (type, payload) of every message in the outbox, oldest first; receipts, the
    consumer's own bookkeeping, aside."""
    from .messaging.receipts import RECEIPT_SUFFIX
    from .models import OutboxMessage

    def messages() -> list[tuple[str, dict]]:
        rows = OutboxMessage.objects.exclude(type__endswith=RECEIPT_SUFFIX).order_by("id")
        return [(row.type, row.envelope["payload"]) for row in rows]

    return messages


@pytest.fixture(autouse=True)
def login_throttle_isolated(settings):
    """Each test counts sign-ins under keys of its own, so no test inherits another's failures."""
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "LOGIN_KEY_PREFIX": f"test-logins-{uuid.uuid4().hex}"}


def check_handlers_match_the_contract(service: str, handlers: list) -> None:
    """The message handlers of a service are exactly the messages the contract says it receives (its
    receipts aside, which the kit's receipt task takes), and each takes every example of the contract
    without a dead letter. For a service's own test of its wiring, with a database."""
    from .messaging.contract import contract
    from .messaging.receipts import RECEIPT_SUFFIX
    from .models import DeadLetter

    received = {spec.type for spec in contract().received_by(service) if not spec.type.endswith(RECEIPT_SUFFIX)}
    assert {handler.name for handler in handlers} == received, "handlers and the contract disagree"
    by_type = {handler.name: handler for handler in handlers}
    for spec in contract().received_by(service):
        if spec.type not in by_type:
            continue
        assert spec.examples, f"the contract gives no example of {spec.type}"
        for example in spec.examples:
            outcome = consume_now(by_type[spec.type], example, producer=min(spec.senders), version=spec.version)
            letters = list(DeadLetter.objects.values_list("error", flat=True))
            assert outcome != "dead_lettered", f"{spec.type} example refused: {letters}"


class QuietBroker:
    """The broker's Redis server, database 15, where no worker reads: what a test sends waits there."""

    DATABASE = 15

    def __init__(self, broker_url: str):
        import redis
        from celery import current_app

        from .celery import make_celery_app

        self.url = re.sub(r"(/\d*)?$", f"/{self.DATABASE}", broker_url.rstrip("/"), count=1)
        self.client = redis.Redis.from_url(self.url)
        self.client.flushdb()
        self.previous = current_app._get_current_object()
        self.app = make_celery_app()
        self.app.conf.broker_url = self.url
        self.app.set_default()
        self.app.set_current()

    def messages(self, queue: str) -> list[dict]:
        """The tasks waiting in a queue, oldest first: name, id and the envelope they carry."""
        tasks = []
        for raw in reversed(self.client.lrange(queue, 0, -1)):
            body = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(body["body"]))
            tasks.append({"task": body["headers"]["task"], "id": body["headers"]["id"], "envelope": args[0]})
        return tasks

    def close(self) -> None:
        self.previous.set_default()
        self.previous.set_current()
        self.app.close()
        self.client.flushdb()
        self.client.close()


@pytest.fixture
def kit_broker(settings):
    """Messages a test sends, kept for it to read back (`kit_broker.messages("inventory")`) rather than
    taken by the workers of a stack that may be running."""
    broker = QuietBroker(settings.CELERY_BROKER_URL)
    yield broker
    broker.close()


@pytest.fixture
def openapi_schema(api_client, settings):
    """The service's own OpenAPI schema, as its /api/<service>/schema/ serves it (JSON)."""
    response = api_client.get(f"/api/{settings.SERVICE_NAME}/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def documented_error_codes(
    schema: dict, method: str, path: str, status: int | str, *, attr: str | None = None, error_type: str | None = None
) -> set[str]:
    """The `code`s an OpenAPI schema documents for an error about `attr` (None: no field) in the envelope that
    `method path` answers with `status`, of `error_type` when given: read from the response's narrowing of the
    shared `ErrorResponse` (service_kit/openapi.py), as a client validating answers against the schema would."""
    response = schema["paths"][path][method.lower()]["responses"].get(str(status))
    if response is None:
        return set()
    codes: set[str] = set()

    def matches(restriction: dict | None, value) -> bool:
        if restriction is None:
            return True
        if "enum" in restriction:
            return value in restriction["enum"]
        return value is not None and re.search(restriction["pattern"], value) is not None

    def items(narrowing: dict) -> None:
        for choice in narrowing.get("oneOf", [narrowing]):
            properties = choice.get("properties", {})
            if "code" in properties and matches(properties.get("attr"), attr):
                codes.update(properties["code"]["enum"])

    def envelopes(narrowing: dict) -> None:
        for choice in narrowing.get("oneOf", [narrowing]):
            properties = choice.get("properties", {})
            if error_type is None or matches(properties.get("type"), error_type):
                items(properties.get("errors", {}).get("items", {}))

    for media in response.get("content", {}).values():
        for part in media["schema"].get("allOf", [])[1:]:
            envelopes(part)
    return codes
