"""The admin, for `beheer`: accounts and roles, unblocking locked accounts, the audit log
(read-only). Beheer cannot make anyone superuser or hand out single permissions, cannot
touch a superuser's account, and every change it makes is an audit event."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.db.models.signals import post_save

from .models import AuditEvent, audit, name_problem
from .roles import BEHEER, ROLES, SECRETARIAAT, VERZENDEN
from .signin import SERVICE

admin.site.site_header = "leafletpress – beheer"
admin.site.site_title = "leafletpress"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "user", "action", "reference", "leaflet", "detail")
    list_filter = ("action",)
    search_fields = ("user", "reference", "leaflet", "covers")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


admin.site.unregister(User)


class _NewAccount(AdminUserCreationForm):  # type: ignore[type-arg]
    def clean_username(self) -> str:
        name: str = super().clean_username() or ""  # None: taken, its error already added
        if name and (problem := name_problem(name)):
            raise ValidationError(problem)
        return name


@admin.register(User)
class AccountAdmin(UserAdmin):  # type: ignore[type-arg]
    """Accounts, with the roles as the only rights beheer can give."""

    add_form = _NewAccount

    def get_queryset(self, request: Any) -> Any:
        found = super().get_queryset(request)
        return found if request.user.is_superuser else found.filter(is_superuser=False)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        fixed = ("is_superuser", "user_permissions", "last_login", "date_joined")
        if obj is None:
            return fixed
        # A name is never handed to someone else (F12). Nobody gives themselves a role
        # (beheer reading every patient's leaflet, sending), nor changes another beheer's:
        # beheer is given by IT (maak_account) or a superuser, so that a beheer account cannot
        # make a second one to give it the roles it may not give itself.
        # Four eyes: nor does beheer give roles to an account it made itself.
        fixed = ("username", *fixed)
        manager = obj.pk == request.user.pk or obj.groups.filter(name=BEHEER).exists()
        return (*fixed, "groups") if manager or _made_by(obj, request.user) else fixed

    def user_change_password(self, request: Any, id: str, form_url: str = "") -> Any:
        """Beheer sets no password of an account with patient data or beheer: it would sign
        in as that person. IT resets those with maak_account (audited)."""
        account = self.get_object(request, id)
        guarded = {SECRETARIAAT, VERZENDEN, BEHEER}
        if (not request.user.is_superuser and account is not None
                and account.groups.filter(name__in=guarded).exists()):  # fmt: skip
            raise PermissionDenied("het wachtwoord van dit account zet de ICT (maak_account)")
        return super().user_change_password(request, id, form_url)

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        """Every change of roles is an audit event that says which, before and after."""
        account = form.instance
        before = sorted(account.groups.values_list("name", flat=True)) if change else []
        super().save_related(request, form, formsets, change)
        after = sorted(account.groups.values_list("name", flat=True))
        if before != after:
            audit(request.user, "rollen gewijzigd", detail=f"{account.username}: "
                  f"{', '.join(before) or '(geen)'} → {', '.join(after) or '(geen)'}")  # fmt: skip

    def formfield_for_manytomany(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name == "groups":  # the roles and the content's services, nothing else
            from . import service

            for name in {v["service"] for v in service.choices()["leaflets"].values()} - {""}:
                Group.objects.get_or_create(name=f"{SERVICE}{name}")
            given = Group.objects.filter(Q(name__in=ROLES) | Q(name__startswith=SERVICE))
            if not request.user.is_superuser:
                given = given.exclude(name=BEHEER)
            kwargs["queryset"] = given
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _made_by(account: Any, user: Any) -> bool:
    """Whether ``user`` made ``account`` in the admin."""
    return LogEntry.objects.filter(
        user=user, action_flag=ADDITION, object_id=str(account.pk),
        content_type__model="user", content_type__app_label="auth",
    ).exists()  # fmt: skip


def _logged(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """What beheer did in the admin, in the app's own audit log too."""
    if created:
        detail = f"{instance.object_repr}: {instance.get_change_message()}"
        audit(instance.user, f"beheer: {instance.get_action_flag_display()}", detail=detail)


post_save.connect(_logged, sender=LogEntry, weak=False)
