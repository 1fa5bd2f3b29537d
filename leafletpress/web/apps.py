from typing import Any

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leafletpress.web"
    label = "web"
    verbose_name = "leafletpress"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every sign-in, sign-out and failed sign-in is an audit event."""
        from pathlib import Path

        from django.conf import settings
        from django.contrib.auth import signals

        # This machine's data folder (a service's new, empty StateDirectory= too), and in it
        # where large uploads are spooled (settings.py).
        Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)

        from ..common import keyed
        from .models import audit

        # Pseudonyms and forgotten addresses: the app's key file, never its database.
        keyed.use(lambda: keyed.from_file(Path(settings.KEY_FILE)))

        def signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
            audit(user, "aangemeld")

        def signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
            if user is not None:
                audit(user, "afgemeld")

        def failed(sender: Any, credentials: Any, request: Any = None, **kwargs: Any) -> None:
            from datetime import timedelta

            from django.utils import timezone

            from .models import AuditEvent
            from .signin import UNKNOWN, client_address, typed_account  # as axes counts them

            address = (client_address(request) or "") if request is not None else ""
            # never store what was typed for an unknown account: it may be a password
            who = typed_account(request, credentials)
            if who == UNKNOWN and AuditEvent.objects.filter(
                user=UNKNOWN, action="aanmelden mislukt", detail=address,
                at__gte=timezone.now() - timedelta(minutes=15),
            ).exists():  # fmt: skip
                return  # made-up names from one address: one event a quarter, not one each
            audit(who, "aanmelden mislukt", detail=address)

        from django.db.models.signals import post_migrate

        post_migrate.connect(_beheer_permissions, sender=self, weak=False)
        self._directory_roles()
        signals.user_logged_in.connect(signed_in, weak=False)
        signals.user_logged_out.connect(signed_out, weak=False)
        signals.user_login_failed.connect(failed, weak=False)

    @staticmethod
    def _directory_roles() -> None:
        """An LDAP sign-in sets the account's roles from its groups (signin.sync_roles)."""
        from django_auth_ldap.backend import ldap_error, populate_user

        from .signin import ldap_signed_in, ldap_unreachable

        populate_user.connect(ldap_signed_in, weak=False)
        ldap_error.connect(ldap_unreachable, weak=False)


def _beheer_permissions(sender: Any, **kwargs: Any) -> None:
    """`beheer` manages accounts in the admin and reads the audit log; nothing more."""
    from django.contrib.auth.models import Group, Permission

    wanted = ["add_user", "change_user", "view_user", "view_group", "view_auditevent",
              "view_accessattempt", "delete_accessattempt"]  # fmt: skip  # unblock accounts
    group, _ = Group.objects.get_or_create(name="beheer")
    group.permissions.set(Permission.objects.filter(codename__in=wanted))
