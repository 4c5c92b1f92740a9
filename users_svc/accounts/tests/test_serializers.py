"""Input shapes of the accounts API: what the OpenAPI schema says is refused is refused."""

import pytest

from accounts.serializers import ProfileSerializer, RefreshInputSerializer, RegisterSerializer, TokenObtainSerializer

VALID_REGISTRATION = {"email": "ada@example.com", "password": "a-long-unusual-pass-42"}


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["email", "password", "first_name", "last_name"])
@pytest.mark.parametrize("value", [0, 12.5, True])
def test_registration_refuses_a_non_string_for_a_text_field(field, value):
    serializer = RegisterSerializer(data={**VALID_REGISTRATION, field: value})

    assert not serializer.is_valid()
    assert serializer.errors[field][0].code == "invalid"


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_profile_refuses_a_number_for_a_name(field):
    serializer = ProfileSerializer(data={field: 0}, partial=True)

    assert not serializer.is_valid()
    assert serializer.errors[field][0].code == "invalid"


def test_sign_in_refuses_numbers_for_credentials():
    serializer = TokenObtainSerializer(data={"email": 1, "password": 12345678})

    assert not serializer.is_valid()
    assert set(serializer.errors) == {"email", "password"}


def test_refresh_token_must_be_a_string():
    serializer = RefreshInputSerializer(data={"refresh": 42})

    assert not serializer.is_valid()
    assert serializer.errors["refresh"][0].code == "invalid"


@pytest.mark.django_db
def test_password_shorter_than_the_documented_minimum_is_refused_by_its_field():
    serializer = RegisterSerializer(data={**VALID_REGISTRATION, "password": "Ab1-xyz"})

    assert not serializer.is_valid()
    assert serializer.errors["password"][0].code == "min_length"
