"""Input and output shapes of the accounts API."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from .models import User
from .selectors import user_email_taken


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]
        read_only_fields = fields


class ProfileSerializer(serializers.ModelSerializer):
    """The caller's own profile: only the names are writable."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff"]
        read_only_fields = ["id", "email", "is_staff"]


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        email = User.objects.normalize_email(value)
        if user_email_taken(email=email):
            raise serializers.ValidationError("Email already in use.", code="unique")
        return email

    def validate(self, attrs: dict) -> dict:
        # The similarity validator compares the password with the would-be user's email and names.
        candidate = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.CharField(write_only=True, max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class JWKSerializer(serializers.Serializer):
    kty = serializers.CharField()
    use = serializers.CharField()
    alg = serializers.CharField()
    kid = serializers.CharField()
    n = serializers.CharField()
    e = serializers.CharField()


class JWKSSerializer(serializers.Serializer):
    keys = JWKSerializer(many=True)
