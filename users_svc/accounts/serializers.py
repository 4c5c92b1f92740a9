"""Input and output shapes of the accounts API."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import get_error_detail
from service_kit.fields import EmailTextField, TextField
from service_kit.openapi import AUTHENTICATION_ERROR_CODES, error_envelope_serializer

from .models import User

# Django's MinimumLengthValidator, stated in the schema too.
PASSWORD_MIN_LENGTH = 8
# The codes of the other password validators (AUTH_PASSWORD_VALIDATORS): a valid string, yet refused.
WEAK_PASSWORD_CODES = ["password_too_similar", "password_too_common", "password_entirely_numeric"]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]
        read_only_fields = fields


class ProfileSerializer(serializers.ModelSerializer):
    """The caller's own profile: only the names are writable."""

    first_name = TextField(max_length=150, required=False, allow_blank=True)
    last_name = TextField(max_length=150, required=False, allow_blank=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff"]
        read_only_fields = ["id", "email", "is_staff"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A new account",
            value={"email": "ann@example.com", "password": "a long passphrase 42", "first_name": "Ann"},
            request_only=True,
        )
    ]
)
class RegisterSerializer(serializers.Serializer):
    email = EmailTextField(max_length=254)
    password = TextField(
        write_only=True, min_length=PASSWORD_MIN_LENGTH, max_length=128, style={"input_type": "password"}
    )
    first_name = TextField(max_length=150, required=False, allow_blank=True, default="")
    last_name = TextField(max_length=150, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        # Whether it is taken is user_register's to say, after hashing the password (equal timing).
        return User.objects.normalize_email(value)

    def validate(self, attrs: dict) -> dict:
        # The similarity validator compares the password with the would-be user's email and names.
        candidate = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            # Each validator's own code ("password_too_common"), as the schema lists them.
            raise serializers.ValidationError({"password": get_error_detail(exc)}) from exc
        return attrs


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Sign in", value={"email": "ann@example.com", "password": "a long passphrase 42"}, request_only=True
        )
    ]
)
class TokenObtainSerializer(serializers.Serializer):
    email = TextField(write_only=True, max_length=254)
    password = TextField(write_only=True, max_length=128, style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = TextField()


class JWKSerializer(serializers.Serializer):
    kty = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    kid = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JWKSSerializer(serializers.Serializer):
    keys = JWKSerializer(many=True)


# The 401 envelope of these views: the authentication's codes, and the accounts' own.
ACCOUNT_ERROR_401_CODES = (*AUTHENTICATION_ERROR_CODES, "no_active_account", "user_not_found")


AccountErrorResponse401Serializer = error_envelope_serializer("AccountErrorResponse401", ACCOUNT_ERROR_401_CODES)
