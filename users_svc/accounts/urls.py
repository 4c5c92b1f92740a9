"""Routes of users_svc, mounted at /api/users/."""

from django.urls import path

from .apis import JWKSApi, MeApi, RegisterApi, TokenObtainApi, TokenRefreshApi, TokenRevokeApi

app_name = "accounts"

urlpatterns = [
    path("register/", RegisterApi.as_view(), name="register"),
    path("token/", TokenObtainApi.as_view(), name="token"),
    path("token/refresh/", TokenRefreshApi.as_view(), name="token-refresh"),
    path("token/revoke/", TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", MeApi.as_view(), name="me"),
    path("jwks/", JWKSApi.as_view(), name="jwks"),
]
