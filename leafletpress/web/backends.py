"""The OpenID Connect sign-in (mozilla-django-oidc), for ``LEAFLETPRESS_SIGN_IN=oidc``."""

from __future__ import annotations

from typing import Any

from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .signin import sync_roles


class OIDCBackend(OIDCAuthenticationBackend):
    """An account per ``preferred_username`` (the name staff know), roles from ``groups``."""

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(self.get_username(claims))

    def get_username(self, claims: dict[str, Any]) -> str:
        return str(claims.get("preferred_username") or claims.get("email") or "")[:150]

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(username=self.get_username(claims))

    def create_user(self, claims: dict[str, Any]) -> Any:
        user = self.UserModel.objects.create_user(self.get_username(claims),
                                                  email=claims.get("email", ""))  # fmt: skip
        return self.update_user(user, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        groups = claims.get("groups") or []
        sync_roles(user, [groups] if isinstance(groups, str) else groups)
        return user
