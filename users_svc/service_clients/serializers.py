"""Input and output of the client-credentials token endpoint (OAuth2, RFC 6749 section 4.4)."""

from rest_framework import serializers
from service_kit.fields import TextField
from service_kit.openapi import error_envelope_serializer


class ServiceTokenInputSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(choices=["client_credentials"])
    client_id = TextField(max_length=64)
    client_secret = TextField(max_length=256, style={"input_type": "password"})
    scope = TextField(max_length=500, required=False)


class ServiceTokenOutputSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField()
    scope = serializers.CharField()


ServiceTokenErrorResponse401Serializer = error_envelope_serializer(
    "ServiceTokenErrorResponse401",
    ["invalid_client"],
    "The 401 of the client-credentials endpoint: a wrong secret, an unknown or an inactive client.",
)
