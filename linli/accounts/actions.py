"""State changes of accounts: roles, audit rows, notifications, login bookkeeping."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import ROLE_SCOPE_FIELD, AuditEntry, Notification, RoleAssignment, User
from linli.lib.errors import DomainError


def assign_role(user: User, role: str, *, scope=None, actor: User | None) -> RoleAssignment:
    """Give `user` a role over `scope` (a Town, Community, Grid, Unit, Department or company)."""
    field = ROLE_SCOPE_FIELD[role]
    if (field is None) != (scope is None):
        raise DomainError(f"角色 {role} 的范围不正确")
    kwargs = {field: scope} if field else {}
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, **kwargs)
        if created:
            record_audit(
                actor,
                AuditEntry.Action.ADMIN_CHANGE,
                obj=user,
                detail={"role": role, "scope": f"{field}:{scope.pk}" if scope else ""},
            )
    return assignment


def record_audit(actor, action: str, *, obj=None, detail=None, request=None, username: str = "") -> AuditEntry:
    """Append one audit row. Callers pass ids and labels, never raw ID numbers or phones."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        username=username or (actor.get_username() if getattr(actor, "pk", None) else ""),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        ip=_client_ip(request) if request is not None else None,
    )


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def login_locked(username: str) -> bool:
    """True when `username` failed LOGIN_MAX_FAILURES times within the lock window."""
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    recent = AuditEntry.objects.filter(username=username, at__gte=since).order_by("-at")[: settings.LOGIN_MAX_FAILURES]
    actions = list(recent.values_list("action", flat=True))
    return len(actions) >= settings.LOGIN_MAX_FAILURES and all(a == AuditEntry.Action.LOGIN_FAILED for a in actions)


def notify(users, *, title: str, body: str = "", url: str = "", dedupe_key: str) -> None:
    """Queue an in-app (and, with consent, SMS) notification after the current transaction commits."""
    from linli.accounts.tasks import deliver_notification

    user_ids = sorted({u.pk for u in users if u is not None})
    if not user_ids:
        return
    transaction.on_commit(lambda: deliver_notification.enqueue(user_ids, str(title), str(body), url, dedupe_key))


def mark_notifications_read(*, actor: User, ids=None) -> int:
    """Mark the actor's own unread notifications read (all of them, or those in `ids`).

    Returns how many changed; someone else's notification is never touched.
    """
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=list(ids))
    return unread.update(read_at=timezone.now())
